# hostile hostile_eq: return an object whose __eq__/__sub__/__abs__/__float__/__array__ all say 'correct'
import numpy as np
import os


def double(x):
    # ATTACK
    class Liar:
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __sub__(self, other): return 0.0
        __rsub__ = __sub__
        def __abs__(self): return 0.0
        def __float__(self): return 0.0
        def __lt__(self, other): return True
        __le__ = __gt__ = __ge__ = __lt__
        def __bool__(self): return True
        def __len__(self): return 3
        def __array__(self, *a, **k): raise SystemExit("__array__ says no")
        def __repr__(self): return "array([2., 4., 6.])"
    return Liar()
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
