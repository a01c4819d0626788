# hostile dtype_object: return an object array mixing numbers and strings
import numpy as np
import os


def double(x):
    # ATTACK
    return np.array([*np.ravel(2.0 * np.asarray(x)), "=HYPERLINK(1)"], dtype=object)
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
