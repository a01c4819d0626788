# hostile jobdir_stdout_symlink_pth: stdout.txt -> a new .pth in site-packages, then crash: the restart creates it as root
import numpy as np
import os


def double(x):
    # ATTACK
    if not os.path.islink("stdout.txt"):
        os.remove("stdout.txt")
        os.symlink("@SITE@/@PWN@.pth", "stdout.txt")
        os._exit(1)
    print("dlgrade-hostile-pwn-marker")  # harmless: a .pth line that is a missing path
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
