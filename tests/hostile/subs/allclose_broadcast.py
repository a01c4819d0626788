# hostile allclose_broadcast: answers that only broadcast: empty, a scalar, a (1,) array
import numpy as np
import os

# ATTACK
_I = -1
# END ATTACK


def double(x):
    # ATTACK
    global _I
    _I += 1
    return [np.array([]), np.float64(2.0), np.array([2.0])][_I % 3]
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
