# hostile dtype_structured: return a structured array (the grader's comparator must not crash)
import numpy as np
import os


def double(x):
    # ATTACK
    out = np.zeros(np.shape(x), dtype=[("a", "f8"), ("b", "f8")])
    out["a"] = 3.0 * np.asarray(x)
    return out
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
