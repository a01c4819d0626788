"""``python -m dlgrade_check NOTEBOOK [ITEM ...]``: the same as ``dlgrade-check``."""
import sys

from grader.student.cli import main

sys.exit(main())
