# hostile jobdir_replace_worker: replace the worker script and the call plan, then crash: the restart runs the student's script
import numpy as np
import os


def double(x):
    # ATTACK
    if not os.path.exists("replaced"):
        open("replaced", "w").close()
        with open("_dlgrade_worker.py", "w") as f:
            f.write("import os, sys\n"
                    "fd = int(sys.argv[2])\n"
                    "os.write(fd, b'L\\n')\n"
                    "for c in ('c0','c1','c2','c3','c4','c5'):\n"
                    "    open('/job/out/' + c + '.json', 'w').write('{\\\"status\\\": \\\"ok\\\", \\\"value\\\": 0}')\n"
                    "    os.write(fd, ('S ' + c + '\\nD ' + c + '\\n').encode())\n")
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
