# hostile enormous_broadcast: return a 1e9-element zero-stride array (8 GB once written)
import numpy as np
import os


def double(x):
    # ATTACK
    return np.broadcast_to(np.float64(2.0), (10**9,))
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
