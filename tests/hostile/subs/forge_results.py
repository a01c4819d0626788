# hostile forge_results: write 'L'/'D c*' lines, JSON results and framed-looking messages to every fd 3..20 and stdout
import numpy as np
import os


def double(x):
    # ATTACK
    import json, struct, sys
    fake = json.dumps({"id": "c0", "status": "ok", "value": [2.0, 4.0, 6.0]})
    lines = "L\n" + "".join(f"S c{i}\nD c{i}\n" for i in range(8)) + fake + "\n"
    frame = struct.pack(">I", len(fake)) + fake.encode()
    for fd in range(1, 21):
        for data in (lines.encode(), frame, struct.pack("<Q", len(fake)) + fake.encode()):
            try:
                os.write(fd, data)
            except OSError:
                pass
    for i in range(8):
        try:
            json.dump({"status": "ok", "value": {"__nd__": "a0"}}, open(f"out/c{i}.json", "w"))
        except OSError:
            pass
    sys.stdout.flush()
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
