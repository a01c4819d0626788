# hostile inject_messages: exception text and an object type name with rich markup, ANSI, HTML and a CSV formula
import numpy as np
import os

# ATTACK
_CALLS = 0
# END ATTACK


def double(x):
    # ATTACK
    Evil = type("<b>INJECT</b>[bold red]T[/]", (), {"__repr__": lambda self: "=HYPERLINK(\"http://e.example\",\"x\")\x1b[31m<script>alert(1)</script>"})
    global _CALLS
    _CALLS += 1
    if _CALLS == 1:
        raise ValueError('=HYPERLINK("http://e.example","click")[bold red]RED[/]\x1b[2J\x1b]0;owned\x07<script>alert(1)</script>')
    print("[bold red]printed[/] \x1b[31mred\x1b[0m <script>alert(2)</script>")
    return Evil()
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
