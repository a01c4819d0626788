# hostile hostile_del: a result whose __del__ sleeps for ever (after the call returns)
import numpy as np
import os

# ATTACK
_KEEP = []
# END ATTACK


def double(x):
    # ATTACK
    import time
    class Sticky:
        def __del__(self):
            time.sleep(10**9)
    _KEEP.append(Sticky())
    return [Sticky(), 3.0]
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
