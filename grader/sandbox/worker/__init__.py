"""The code that runs *inside* the sandbox (and the case interpreter the trusted side shares).

This package imports nothing of ``grader``: the supervisor makes a copy of it
visible read-only in the sandbox as ``dlgrade_worker`` and runs its
``__main__``. The trusted grader imports it as ``grader.sandbox.worker`` to run
the *reference* through the same interpreter (:func:`run_case`) and encoder.
"""
from __future__ import annotations

from . import interpreter, wire
from .instrument import EventLog, make_instrumented_mse, make_instrumented_sgd
from .interpreter import MissingName, describe_exception, load_definitions, lookup_name, resolve_path
from .wire import Events, Opaque, Unencodable, WireError, decode_result, encode, from_legacy

__all__ = ["EventLog", "Events", "MissingName", "Opaque", "Unencodable", "WireError", "decode_result",
           "describe_exception", "encode", "from_legacy", "load_definitions", "lookup_name",
           "make_instrumented_mse", "make_instrumented_sgd", "resolve_path", "run_case", "to_plain"]


def run_case(case, ctx):
    """:func:`interpreter.run_case` for the trusted side, accepting the plan's legacy input forms.

    The legacy conversion (``wire.from_legacy``) goes away once the plan emits tagged values.
    """
    return interpreter.run_case(from_legacy(case), ctx)


def to_plain(obj, arrays):
    """:func:`wire.encode` in the older marker form that ``grader.values.from_plain`` reads.

    Deprecated: the trusted side should call ``wire.encode`` and ``wire.decode_result``.
    """
    return wire.to_legacy(encode(obj, arrays))
