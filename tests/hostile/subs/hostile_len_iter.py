# hostile hostile_len_iter: a list subclass with a huge __len__ and an endless __iter__
import numpy as np
import os


def double(x):
    # ATTACK
    import itertools
    class Endless(list):
        def __len__(self): return 10**6
        def __iter__(self): return itertools.count()
        def __getitem__(self, i): return 2.0
    return Endless([1.0, 2.0, 3.0])
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
