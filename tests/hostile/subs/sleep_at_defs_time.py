# hostile sleep_at_defs_time: a default argument sleeps for ever while the definitions load
import numpy as np
import time


# ATTACK
def _forever():
    time.sleep(10**9)


def hang(_=_forever()):
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
