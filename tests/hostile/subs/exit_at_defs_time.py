# hostile exit_at_defs_time: a decorator calls os._exit(0) while the definitions load
import numpy as np
import os


# ATTACK
def _bye(f):
    os._exit(0)


@_bye
def hang():
    pass
# END ATTACK


def double(x):
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
