# hostile cpu_loop_ignore_signals: ignore every catchable signal, then spin
import numpy as np
import os


def double(x):
    # ATTACK
    import signal
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP, signal.SIGALRM, signal.SIGUSR1):
        signal.signal(s, signal.SIG_IGN)
    while True:
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
