"""The student self-check, released as the ``dlgrade_check`` package (see :mod:`grader.authoring.release`).

In a notebook::

    from dlgrade_check import Checker
    check = Checker("signal-propagation")
    check("D1")        # one item's public checks on the functions this kernel defined
    check.all()        # every public item

In a terminal: ``dlgrade-check my-notebook.ipynb [ITEM ...]`` (or ``python -m dlgrade_check``).

Importing this package imports nothing outside the standard library, so a
missing dependency is one line saying what to install, not a traceback. In a
release, ``dlgrade release`` copies this package as ``dlgrade_check`` (with the
allowlisted grader as ``dlgrade_check._grader`` and the frozen public checks in
``dlgrade_check/_bundle``); in the checkout it is ``grader.student`` and needs
``Checker(bundle=DIR)``.
"""
from grader.student.checker import Checker, Report

__all__ = ["Checker", "Report"]
