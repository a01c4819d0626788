"""Helpers the test modules share (``from helpers import ...``; a module name no other conftest shadows)."""
from __future__ import annotations

from pathlib import Path

import nbformat

TOY = Path(__file__).parent / "fixtures" / "toy"


def write_notebook(path: Path, cells: list[str], markdown: dict[int, str] | None = None) -> Path:
    """A notebook whose code cells are ``cells`` (strings)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i, text in (markdown or {}).items():
        nb.cells.insert(i, nbformat.v4.new_markdown_cell(text))
    path.write_text(nbformat.writes(nb))
    return path


def replace_function(source: str, name: str, new_def: str) -> str:
    """``source`` with top-level function ``name`` replaced by ``new_def``."""
    import ast

    tree = ast.parse(source)
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    lines = source.splitlines(keepends=True)
    end = node.end_lineno
    while end < len(lines) and lines[end].strip().startswith("### END SOLUTION"):
        end += 1
    return "".join(lines[: node.lineno - 1]) + new_def.rstrip() + "\n" + "".join(lines[end:])
