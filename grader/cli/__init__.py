"""The ``dlgrade`` command: :mod:`.main` (argparse tree and commands), :mod:`.render` (tables).

This package imports nothing at module level, so the student's bundle can use
:mod:`.render` without the commands (which reach the authoring code).
"""


def main(argv=None) -> int:
    """The ``dlgrade`` entry point: :func:`grader.cli.main.main`, after starting a batch's zygote.

    ``dlgrade grade`` starts the batch's sandbox (:mod:`grader.batch.prestart`)
    before the commands' own imports, which take as long: the two overlap. A
    batch run as the command (``argv`` None) ends without the interpreter's
    teardown of numpy, scipy, pydantic and the rest (0.1 s, a tenth of a
    small batch; mypy's ``hard_exit`` does the same): everything it wrote is
    closed by then (gradebook, CSV, JSON, pages), and the exit handlers still
    run first (they stop the zygote and remove its temporary folders).
    """
    import atexit
    import os
    import sys

    from grader.batch.prestart import prestart_command

    started = prestart_command(sys.argv[1:] if argv is None else argv)
    from grader.cli.main import main as run

    code = run(argv)
    if argv is None and started is not None:
        atexit._run_exitfuncs()  # noqa: SLF001 - the documented handlers, without the teardown
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
