"""``Checker``: the in-notebook self-check (``check("D1")``, ``check.all()``), after otter-grader's ``grader.check``.

Nothing here raises into the notebook: a missing package, another
assignment's checker, an unknown item or an unexpected failure is a
:class:`Report` whose display is one line saying what to do. The grading
engine (:mod:`grader.selfcheck`, which needs numpy, pydantic...) is imported
only once the packages it needs are known to be there.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path

from grader.student import deps, display, live

ENTRY_POINTS = "dlgrade_check.assignments"
"""The entry-point group of the assignments' data packages (``grader.selfcheck.ENTRY_POINTS``): the shared
``dlgrade-check`` holds the code, and each assignment's ``dlgrade-check-<assignment>`` wheel its public checks."""
INSTALL = "pip install dlgrade_check*.whl (both wheels in your course's release bundle)"
INSTALL_OTHER = INSTALL.replace("your course's", "its")
"""What to do for another assignment than the one installed."""


class Problem(Exception):
    """Why the self-check cannot run here: one line for the student."""


class Report:
    """The outcome of one ``check(...)``: a result table, or the one line that says why there is none.

    Displays as an HTML table in Jupyter and as plain text anywhere else.
    """

    def __init__(self, assignment: str, result=None, problem: str | None = None):
        self.assignment, self.result, self.problem = assignment, result, problem

    @property
    def passed(self) -> bool:
        """Every checked item passed (False when the check could not run)."""
        return self.problem is None and self.result is not None and \
            all(str(getattr(i.status, "value", i.status)) == "passed" for i in self.result.items)

    @property
    def score(self) -> float:
        return 0.0 if self.result is None else self.result.score

    @property
    def max_score(self) -> float:
        return 0.0 if self.result is None else self.result.max_score

    def __repr__(self) -> str:
        return display.text(self.assignment, self.result, self.problem)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return display.to_html(self.assignment, self.result, self.problem)


def installed() -> dict[str, Path]:
    """assignment -> the ``_bundle`` folder of its installed data package (found through entry points)."""
    out: dict[str, Path] = {}
    try:
        eps = importlib.metadata.entry_points(group=ENTRY_POINTS)
    except Exception:  # noqa: BLE001 - a broken distribution elsewhere must not stop the check
        return out
    for ep in eps:
        try:
            spec = importlib.util.find_spec(ep.value.split(":")[0].strip())
        except (ImportError, ValueError):
            continue
        places = list(spec.submodule_search_locations or []) if spec is not None else []
        found = next((Path(p) / "_bundle" for p in places if (Path(p) / "_bundle" / "selfcheck.json").is_file()), None)
        if found is not None:
            out.setdefault(ep.name, found)
    return dict(sorted(out.items()))


def installed_dir(assignment: str | None) -> Path:
    """The installed data of ``assignment`` (None: the only one installed), or a :class:`Problem` saying why not."""
    found = installed()
    if assignment:
        if assignment in found:
            return found[assignment]
        others = f" (installed: {', '.join(found)})" if found else ""
        raise Problem(f"the self-check of {assignment} is not installed{others}; for {assignment}, "
                      f"{INSTALL_OTHER}")
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise Problem(f"no assignment's self-check is installed; {INSTALL}")
    raise Problem(f"the self-checks of {', '.join(found)} are installed; name one: Checker(\"{next(iter(found))}\")")


def read_meta(bundle: Path) -> dict:
    """assignment, public items and requirements of a bundle, read with the standard library only."""
    places = [bundle, *sorted(d / "_bundle" for d in bundle.glob("dlgrade_check_*") if d.is_dir()),
              bundle / "dlgrade_check" / "_bundle"]
    from_dir = next((d for d in places if (d / "selfcheck.json").is_file()), None)
    if from_dir is None:
        raise Problem(f"{bundle} holds no self-check data; {INSTALL}")
    try:
        data = json.loads((from_dir / "selfcheck.json").read_text())
        items = [(i["id"], bool(i.get("manual"))) for i in data["items"]]
        return {"dir": from_dir, "assignment": str(data["assignment"]), "items": items,
                "requires": list(data.get("requires", []))}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Problem(f"the self-check data in {from_dir} is damaged ({type(exc).__name__}); {INSTALL}") from None


class Checker:
    """The public checks of one assignment, run on the functions this kernel defined.

    ``Checker("signal-propagation")`` uses the checks installed with that
    assignment's wheel (several assignments can be installed side by side;
    ``Checker()`` takes the only one); ``bundle=DIR`` reads a release folder
    instead (TAs).
    ``check("D1")`` checks one item (or several: ``check("D1", "D3")``),
    ``check.all()`` (or ``check()``) every public item. Each call re-reads what
    the kernel has run so far and grades it in a sandboxed subprocess with the
    grader's own time and memory limits.
    """

    def __init__(self, assignment: str | None = None, *, bundle: str | Path | None = None):
        self.assignment = assignment or ""
        self.problem: str | None = None
        self.items: list[str] = []
        self._meta: dict | None = None
        self._loaded = None
        try:
            self._setup(bundle)
        except Problem as exc:
            self.problem = str(exc)
            print(f"dlgrade_check: {self.problem}")

    def _setup(self, bundle):
        reason = deps.platform_problem()
        if reason:
            raise Problem(reason)
        meta = read_meta(Path(bundle) if bundle is not None else installed_dir(self.assignment))
        if self.assignment and self.assignment != meta["assignment"]:
            raise Problem(f"the installed dlgrade_check is the self-check of {meta['assignment']}, not "
                          f"{self.assignment}; for {self.assignment}, {INSTALL_OTHER}")
        self.assignment = meta["assignment"]
        self._meta = meta
        self.items = [i for i, manual in meta["items"] if not manual]
        lacking = deps.missing(meta["requires"])
        if lacking:
            raise Problem(deps.message(lacking))

    def _engine(self):
        """(selfcheck module, plan, keys), loaded once."""
        if self._loaded is None:
            try:
                from grader import selfcheck
            except ModuleNotFoundError as exc:
                raise Problem(deps.message([deps.pip_name(exc.name or "")])) from None
            try:
                plan, keys = selfcheck.load_bundle(self._meta["dir"])
            except selfcheck.BundleError as exc:
                raise Problem(str(exc)) from None
            self._loaded = (selfcheck, plan, keys)
        return self._loaded

    def _resolve(self, items) -> list[str]:
        if not items:
            return list(self.items)
        out = []
        by_lower = {i.lower(): i for i, _ in self._meta["items"]}
        for it in items:
            found = by_lower.get(str(it).strip().lower()) if isinstance(it, str) else None
            if found is None:
                raise Problem(f"no public item {it!r} in {self.assignment}; the self-check runs "
                              f"{', '.join(self.items)} (the other items are graded after you submit)")
            out.append(found)
        return list(dict.fromkeys(out))

    def __call__(self, *items: str) -> Report:
        """Check ``items`` (ids such as ``"D1"``; none: every public item) on what this kernel has run."""
        if self.problem:
            return Report(self.assignment, problem=self.problem)
        try:
            ids = self._resolve(items)
            selfcheck, plan, keys = self._engine()
            cells = live.kernel_cells()
            if cells:  # an IPython kernel (empty under `ipython script.py`: then the script is read)
                return Report(self.assignment, selfcheck.check_cells(cells, plan, keys, ids))
            script = live.main_script()
            if script is None:
                raise Problem("found no notebook history or script to read your functions from; in a terminal, "
                              "run `dlgrade-check YOUR_NOTEBOOK.ipynb`")
            result = selfcheck.check_loaded(script, plan, keys, ids)
            if result.error:
                raise Problem(result.error)
            return Report(self.assignment, result)
        except Problem as exc:
            return Report(self.assignment, problem=str(exc))
        except Exception as exc:  # noqa: BLE001 - never a traceback in the student's notebook
            return Report(self.assignment, problem=f"the self-check itself failed ({type(exc).__name__}: {exc}); "
                                                   "please tell your TA")

    def all(self) -> Report:
        """Check every public item."""
        return self()

    def __repr__(self) -> str:
        if self.problem:
            return f"dlgrade_check: {self.problem}"
        return (f"Checker({self.assignment!r}): public items {', '.join(self.items)}; "
                f"check(\"{self.items[0] if self.items else 'ID'}\") checks one, check.all() every one")
