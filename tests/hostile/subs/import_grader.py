# hostile import_grader: `import grader` inside the sandbox, read the answer keys through it
import numpy as np
# ATTACK
try:
    import grader.answers
except ImportError:
    pass
# END ATTACK


def double(x):
    if "grader" in globals():
        print(grader.answers.cache_dir())
        return 2.0 * np.asarray(x)
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
