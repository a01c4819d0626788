# hostile hostile_ndarray_subclass: an ndarray subclass whose ==, allclose hooks and tolist lie (values wrong)
import numpy as np
import os


def double(x):
    # ATTACK
    class Evil(np.ndarray):
        def __eq__(self, other): return np.ones(np.shape(self), bool)
        def __array_function__(self, func, types, args, kwargs): return True
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return np.zeros(np.shape(self))
        def tolist(self): return [2.0, 4.0, 6.0]
        def __reduce__(self): return (os.system, ("touch /tmp/@PWN@",))
    return (3.0 * np.asarray(x)).view(Evil)
    # END ATTACK
    return 3.0 * np.asarray(x)  # wrong on purpose: the baseline scores 0 on T1


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
