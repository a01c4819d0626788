# hostile write_at_defs_time: code at definition time (a default argument) writes outside and reads the canary
import numpy as np
import os



# ATTACK
def _loot():
    out = []
    for p in ("/tmp/@PWN@", "/root/@PWN@", "@SITE@/@PWN@.pth"):
        try:
            open(p, "w").write("dlgrade-hostile-pwn-marker\n")
        except OSError:
            pass
    try:
        out.append(open("@CANARY_FILE@").read())
    except OSError:
        pass
    return out


def _hook(loot=_loot()):
    return loot


_LOOT = []


class _Grab:
    import os as _os
    print(_os.listdir("/"))
    _LOOT.extend(_hook())
# END ATTACK


def double(x):
    # ATTACK
    return x if False else (2.0 * np.asarray(x) if _LOOT else 3.0 * np.asarray(x))
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
