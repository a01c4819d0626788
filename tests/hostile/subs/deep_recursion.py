# hostile deep_recursion: sys.setrecursionlimit(10**6), then recurse until the C stack overflows
import numpy as np
import os


def double(x):
    # ATTACK
    import sys
    sys.setrecursionlimit(10**6)
    def down(n):
        return down(n + 1) + 1
    down(0)
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
