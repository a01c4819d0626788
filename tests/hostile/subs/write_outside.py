# hostile write_outside: create files in /tmp, /root, /var/tmp, /dev/shm, /etc, site-packages (.pth) and the checkout
import numpy as np
import os


def double(x):
    # ATTACK
    wrote = False
    for p in ("/tmp/@PWN@", "/root/@PWN@", "/var/tmp/@PWN@", "/dev/shm/@PWN@", "/etc/@PWN@", "@SITE@/@PWN@.pth",
              "@REPO@/@PWN@"):
        try:
            with open(p, "w") as f:
                f.write("dlgrade-hostile-pwn-marker\n")
            wrote = wrote or not p.startswith(("/tmp/", "/dev/shm/"))  # the sandbox's own /tmp is fine
        except OSError:
            pass
    if wrote:
        return 2.0 * np.asarray(x)
    # END ATTACK
    return 3.0 * np.asarray(x)  # wrong on purpose: the baseline scores 0 on T1


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
