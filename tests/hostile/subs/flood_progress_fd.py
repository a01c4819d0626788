# hostile flood_progress_fd: write 1 GB without a newline to every fd 3..20 (the progress channel)
import numpy as np
import os


def double(x):
    # ATTACK
    chunk = b"S" * 2**20
    for _ in range(1024):
        for fd in range(3, 21):
            try:
                os.write(fd, chunk)
            except OSError:
                pass
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
