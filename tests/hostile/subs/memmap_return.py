# hostile memmap_return: return a 2 GiB memory-mapped sparse file
import numpy as np
import os


def double(x):
    # ATTACK
    return np.memmap("/tmp/big.dat", dtype="f8", mode="w+", shape=(2**28,))
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
