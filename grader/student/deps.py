"""What the self-check needs installed, and the one line that says what is missing (standard library only)."""
from __future__ import annotations

import importlib.util
import sys

# module -> the pip package that provides it: what the grader's student side imports
BASE = {"numpy": "numpy", "scipy": "scipy", "nbformat": "nbformat", "pydantic": "pydantic", "yaml": "pyyaml",
        "rich": "rich"}
PIP_NAMES = {**BASE, "torch": "torch", "matplotlib": "matplotlib", "sklearn": "scikit-learn", "PIL": "pillow"}


def pip_name(module: str) -> str:
    """The pip package of an importable module name (``yaml`` -> ``pyyaml``)."""
    top = (module or "").split(".")[0]
    return PIP_NAMES.get(top, top)


def missing(extra=()) -> list[str]:
    """pip names of the needed packages (``BASE`` plus ``extra``, pip names) that cannot be imported here."""
    modules = list(BASE) + [next((m for m, p in PIP_NAMES.items() if p == name), name) for name in extra]
    out = []
    for mod in dict.fromkeys(modules):
        try:
            found = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(pip_name(mod))
    return out


def message(packages) -> str:
    """``dlgrade_check needs scipy and rich: pip install scipy rich`` (one line)."""
    names = list(dict.fromkeys(packages))
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"the self-check needs {listed}: pip install {' '.join(names)}"


def platform_problem() -> str | None:
    """Why this machine cannot run the self-check, or None.

    Linux runs the grader's sandbox (bubblewrap where it works, else rlimits
    with memfds and prctl); macOS and Windows a plain subprocess with the
    rlimits the system has (Windows: time limits only), see
    ``grader/sandbox/portable.py``. Only a Python that cannot start a
    subprocess at all (Pyodide: JupyterLite in the browser) is refused.
    """
    if sys.platform in ("emscripten", "wasi"):
        return (f"the self-check runs your code in a separate process, which {sys.platform} (JupyterLite, "
                "Python in the browser) cannot start; use Jupyter on your machine or Google Colab")
    return None
