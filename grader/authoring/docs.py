"""The generated tables of ``docs/authoring.md``: comparators, transforms, predicates and typed values.

The tables are made from the registries (:mod:`grader.judge.registry`,
:mod:`grader.rubric.values`), so the documentation cannot drift from the code.
``python -m grader.authoring.docs`` rewrites the regions between
``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
``tests/test_docs.py`` fails when they are out of date.
"""
from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from grader.judge import COMPARATORS, PREDICATES, TRANSFORMS
from grader.rubric.values import DATA, VALUE_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"
_REGION = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def _params(entry) -> str:
    ps = [f"`{n}`" if d is inspect.Parameter.empty else f"`{n}={d!r}`" for n, d in entry.params.items()]
    return ", ".join(ps) or "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _registry_table(reg, with_expects: bool) -> str:
    head = "| name | " + ("judged against | " if with_expects else "") + "parameters | what it does |\n"
    head += "|---|" + ("---|" if with_expects else "") + "---|---|\n"
    rows = []
    for name in sorted(reg):
        e = reg[name]
        expects = {"reference": "the reference's value", "band": "a calibrated band",
                   "nothing": "nothing (a property)"}[e.expects]
        rows.append(f"| `{name}` | " + (f"{expects} | " if with_expects else "") + f"{_params(e)} | {_cell(e.doc)} |")
    return head + "\n".join(rows) + "\n"


def _values_table() -> str:
    rows = ["| type key | made | form and meaning |", "|---|---|---|"]
    for key, model in VALUE_TYPES.items():
        doc = " ".join((inspect.getdoc(model) or "").split())
        rows.append(f"| `{key}` | {'in the grader, sent as data' if key in DATA else 'on each side'} | {_cell(doc)} |")
    return "\n".join(rows) + "\n"


def tables() -> dict[str, str]:
    return {"comparators": _registry_table(COMPARATORS, True), "transforms": _registry_table(TRANSFORMS, False),
            "predicates": _registry_table(PREDICATES, False), "values": _values_table()}


def render(text: str) -> str:
    """``text`` with every generated region replaced by its fresh table."""
    made = tables()

    def sub(m):
        if m.group(2) not in made:
            raise KeyError(f"docs: no generated table named {m.group(2)!r} (known: {', '.join(made)})")
        return m.group(1) + made[m.group(2)] + m.group(4)

    return _REGION.sub(sub, text)


def main() -> int:
    DOC.write_text(render(DOC.read_text()))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
