"""Where the functions of a running notebook come from: the kernel's own input history.

``check("D1")`` grades what *this kernel* has run, not the file on disk, so it
reads IPython's raw input history (``In``, before magics are rewritten), one
entry per executed cell in execution order, the current one included. That is
the same in Jupyter, JupyterLab, VS Code and Colab (all IPython kernels), needs
no notebook path (Colab has no file on disk; an unsaved notebook's file is
stale), and follows the kernel's semantics: a cell run again redefines its
names, a cell edited but not run changes nothing, a restart forgets
everything. The sources are re-run, definitions only, in a sandboxed
subprocess; nothing is taken from the kernel's live objects.

Outside IPython (a plain ``python script.py``) the script file of ``__main__``
is read instead, like ``dlgrade-check script.py``. Standard library only.
"""
from __future__ import annotations

import sys
from pathlib import Path


def kernel_cells() -> list[tuple[int, str]] | None:
    """``(execution count, raw source)`` of every cell this IPython kernel ran, or None outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        raw = list(shell.history_manager.input_hist_raw) if shell is not None else None
    except AttributeError:
        return None
    if raw is None:
        return None
    return [(n, str(src)) for n, src in enumerate(raw) if n > 0 and str(src).strip()]


def main_script() -> Path | None:
    """The file ``__main__`` was run from (``python my_answers.py``), when it is a readable .py or .ipynb."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path:
        return None
    p = Path(path)
    return p if p.suffix in (".py", ".ipynb") and p.is_file() else None
