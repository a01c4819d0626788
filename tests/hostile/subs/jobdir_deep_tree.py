# hostile jobdir_deep_tree: leave a 3000-deep directory tree and a chmod-000 dir in the job dir
import numpy as np
import os


def double(x):
    # ATTACK
    open("@PWN@.marker", "w").close()
    here = os.getcwd()
    os.mkdir("locked")
    open("locked/f", "w").close()
    os.chmod("locked", 0)
    os.mkdir("deep")
    os.chdir("deep")
    for _ in range(3000):
        os.mkdir("d")
        os.chdir("d")
    os.chdir(here)
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
