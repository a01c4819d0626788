# hostile band_empty: an empty array for the band check (np.all over nothing is true)
import numpy as np


def double(x):
    return 2.0 * np.asarray(x)


def pair(a, b):
    return np.asarray(a) + b, np.asarray(a) * b


def noisy_mean(n, rng):
    # ATTACK
    return np.array([])
    # END ATTACK
    return 5.0  # wrong on purpose: outside the band


class Counter:
    def __init__(self, start):
        self.count = start

    def tick(self, k=1):
        self.count += k
        return self.count
