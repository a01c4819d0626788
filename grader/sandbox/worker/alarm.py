"""SIGALRM as a time limit on the student's code, shared by statement loading and full-mode cells.

The alarm re-fires every :data:`REFIRE_S` until disarmed, so a bare
``except:`` (or ``except BaseException``) in the student's code cannot swallow
the stop for good. Disarming is safe against the signal landing inside it.
The supervisor's own deadlines stay the backstop for code that never returns
to the interpreter (a long C call). Without ``SIGALRM`` (Windows: the
student's self-check only) the alarm does nothing and those deadlines are the
only limit.
"""
from __future__ import annotations

import signal

REFIRE_S = 0.5


class Alarm:
    """Raises ``exc_type(message)`` in the main thread once armed and until disarmed; harmless otherwise."""

    def __init__(self, exc_type: type[BaseException]):
        self.exc_type = exc_type
        self.active = False
        self.message = ""
        self.supported = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")
        self.previous = signal.signal(signal.SIGALRM, self._fire) if self.supported else None

    def _fire(self, signum, frame):
        if self.active:
            raise self.exc_type(self.message)

    def arm(self, seconds: float, message: str) -> None:
        self.message = message
        if not self.supported:
            return
        self.active = True
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001), REFIRE_S)

    def disarm(self) -> None:
        if not self.supported:
            return
        while True:  # the signal may land between any two bytecodes, also in here
            try:
                self.active = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                return
            except self.exc_type:
                continue

    def close(self) -> None:
        self.disarm()
        if self.supported:
            signal.signal(signal.SIGALRM, self.previous)
