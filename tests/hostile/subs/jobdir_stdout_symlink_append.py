# hostile jobdir_stdout_symlink_append: stdout.txt -> the root-only canary, crash, then print into it as root
import numpy as np
import os


def double(x):
    # ATTACK
    if not os.path.islink("stdout.txt"):
        os.remove("stdout.txt")
        os.symlink("@CANARY_FILE@", "stdout.txt")
        os._exit(1)
    print("appended by the sandbox")
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
