# hostile ctypes_abort: abort() from native code, with a core-dump request
import numpy as np
import os


def double(x):
    # ATTACK
    import ctypes, resource
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (2**30, 2**30))
    except (ValueError, OSError):
        pass
    ctypes.CDLL(None).abort()
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
