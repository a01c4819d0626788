# hostile big_result_every_call: return a 60 MB array next to every answer (the grader keeps them all)
import numpy as np
import os


def double(x):
    # ATTACK
    return [2.0 * np.asarray(x), np.ones(60 * 2**20 // 8)]
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
