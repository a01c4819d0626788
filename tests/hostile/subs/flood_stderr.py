# hostile flood_stderr: print 1 GB to stderr
import numpy as np
import os


def double(x):
    # ATTACK
    import sys
    chunk = "y" * 2**20 + "\n"
    for _ in range(1024):
        sys.stderr.write(chunk)
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
