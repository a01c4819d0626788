# hostile jobdir_load_json_symlink: load.json -> a host JSON list (the answer key), then crash
import numpy as np
import os


def double(x):
    # ATTACK
    if not os.path.islink("load.json"):
        os.remove("load.json")
        os.symlink("@KEYDIR@/T1.json", "load.json")
        os._exit(1)
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
