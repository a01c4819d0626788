# hostile read_neighbour: list and read the class folder and other students' files
import numpy as np
import os


def double(x):
    # ATTACK
    import glob
    text = []
    for p in glob.glob("@CLASSDIR@/*") + glob.glob("/tmp/*/class/*") + glob.glob("../*") + glob.glob("../../*"):
        try:
            text.append(open(p).read())
        except OSError:
            pass
    if text:
        print("\n".join(text)[-1500:])
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
