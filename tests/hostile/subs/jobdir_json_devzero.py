# hostile jobdir_json_devzero: out/<call>.json -> /dev/zero: the supervisor reads it without a size check
import numpy as np
import os


def double(x):
    # ATTACK
    import json
    todo = json.load(open("todo.json"))
    os.symlink("/dev/zero", os.path.join("out", todo[0] + ".json"))
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
