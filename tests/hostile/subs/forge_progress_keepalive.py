# hostile forge_progress_keepalive: a thread keeps writing 'S <call>' progress lines while the call sleeps for ever
import numpy as np
import os


def double(x):
    # ATTACK
    import threading, time
    def keepalive():
        while True:
            for fd in range(3, 21):
                try:
                    os.write(fd, b"".join(f"S c{i}\n".encode() for i in range(8)))
                except OSError:
                    pass
            time.sleep(0.2)
    threading.Thread(target=keepalive, daemon=True).start()
    time.sleep(10**9)
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
