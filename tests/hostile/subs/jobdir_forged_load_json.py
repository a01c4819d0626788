# hostile jobdir_forged_load_json: overwrite load.json with odd types (a forged load report)
import numpy as np
import os


def double(x):
    # ATTACK
    import json
    json.dump({"warnings": [1, "two", {"label": 3}, None]}, open("load.json", "w"))
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
