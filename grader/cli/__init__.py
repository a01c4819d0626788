"""The ``dlgrade`` command: :mod:`.main` (argparse tree and commands), :mod:`.render` (tables).

This package imports nothing itself, so the student's bundle can use
:mod:`.render` without the commands (which reach the authoring code).
"""
