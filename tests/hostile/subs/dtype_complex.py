# hostile dtype_complex: return the right real part plus a large imaginary part
import numpy as np
import os


def double(x):
    # ATTACK
    return 2.0 * np.asarray(x) + 5j
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
