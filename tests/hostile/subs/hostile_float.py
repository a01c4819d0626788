# hostile hostile_float: an object-dtype array whose elements' __float__ kill the worker while it encodes the result
import numpy as np
import os


def double(x):
    # ATTACK
    class Boom:
        def __float__(self):
            os._exit(0)
    return np.array([Boom() for _ in np.ravel(x)], dtype=object)
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
