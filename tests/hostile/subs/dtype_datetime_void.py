# hostile dtype_datetime_void: return datetime64 and raw void arrays
import numpy as np
import os


def double(x):
    # ATTACK
    return [np.array(["2020-01-01"], dtype="datetime64[D]"), np.zeros(3, dtype="V8")]
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
