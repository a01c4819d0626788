# hostile jobdir_stderr_symlink_exit: stderr.txt -> root-only host file, then die: the exit message quotes its last line
import numpy as np
import os


def double(x):
    # ATTACK
    os.remove("stderr.txt")
    os.symlink("@CANARY_FILE@", "stderr.txt")
    os._exit(3)
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
