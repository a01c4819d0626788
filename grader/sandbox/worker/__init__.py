"""The code that runs *inside* the sandbox (and the case interpreter the trusted side shares).

This package imports nothing of ``grader``: the supervisor makes a copy of it
visible read-only in the sandbox as ``dlgrade_worker`` and runs its
``__main__``. The trusted grader imports it as ``grader.sandbox.worker`` to run
the *reference* through the same interpreter (:func:`run_case`) and encoder.
"""
from __future__ import annotations

from . import figures, interpreter, wire
from .instrument import EventLog, make_instrumented_mse, make_instrumented_sgd
from .figures import capture
from .interpreter import FIGURES, MissingName, describe_exception, load_definitions, lookup_name, resolve_path
from .interpreter import run_case, wants_figures
from .wire import Events, Opaque, Unencodable, WireError, decode_result, encode

__all__ = ["EventLog", "Events", "FIGURES", "MissingName", "Opaque", "Unencodable", "WireError", "capture",
           "decode_result", "describe_exception", "encode", "figures", "interpreter", "load_definitions",
           "lookup_name", "make_instrumented_mse", "make_instrumented_sgd", "resolve_path", "run_case",
           "wants_figures", "wire"]
