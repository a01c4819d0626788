# hostile monkeypatch_numpy: at definition time make numpy's comparisons always true
import numpy as np


# ATTACK
def _patch(f):
    np.allclose = lambda *a, **k: True
    np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
    np.array_equal = lambda *a, **k: True
    np.all = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
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
