# An honest, correct toy submission (the neighbour in batch tests, the warm-up of the answer keys).
import numpy as np


def double(x):
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
