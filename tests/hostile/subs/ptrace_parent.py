# hostile ptrace_parent: PTRACE_ATTACH to the parent and to pid 1
import numpy as np
import os


def double(x):
    # ATTACK
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in {os.getppid(), 1, 2}:
        if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
            return 2.0 * np.asarray(x)
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
