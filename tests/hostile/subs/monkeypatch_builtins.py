# hostile monkeypatch_builtins: replace abs, all, any, float and json.dumps inside the worker
import numpy as np
import builtins
import json


# ATTACK
def _patch(f):
    builtins.abs = lambda v: 0
    builtins.all = lambda v: True
    builtins.any = lambda v: False
    _dumps = json.dumps
    json.dumps = lambda obj, *a, **k: _dumps(obj, *a, **k).replace("6.0", "4.0")
    return f


@_patch
def _noop():
    pass
# END ATTACK


def double(x):
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
