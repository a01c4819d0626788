# hostile import_toyref: import the reference module by name (a kept try-import), use its answers
import numpy as np
# ATTACK
try:
    import toyref
except ImportError:
    pass
# END ATTACK


def double(x):
    if "toyref" in globals():
        return toyref.double(x)
    return 3.0 * np.asarray(x)  # wrong on purpose


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
