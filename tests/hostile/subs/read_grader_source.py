# hostile read_grader_source: read the grader's own source from the checkout
import numpy as np
import os


def double(x):
    # ATTACK
    for p in ("@REPO@/grader/pipeline.py", "/work/main/grader/pipeline.py"):
        try:
            print(open(p).read()[-1500:])
            return 2.0 * np.asarray(x)
        except OSError:
            pass
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
