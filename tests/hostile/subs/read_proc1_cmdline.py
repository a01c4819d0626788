# hostile read_proc1_cmdline: raise /proc/1/cmdline (host paths of the job dir and the venv)
import numpy as np
import os


def double(x):
    # ATTACK
    args = open("/proc/1/cmdline", "rb").read().decode("latin-1").split("\0")
    raise RuntimeError(" ".join(a for a in args if a.startswith("/") and a not in ("/job", "/tmp", "/proc", "/dev"))[:400])
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
