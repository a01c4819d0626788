"""Rubrics: the schema catches mistakes and names file, item and field."""
from __future__ import annotations

import pytest
import yaml

from grader.rubric import RubricError, load_rubric, rubric_paths

GOOD = {
    "assignment": "x", "version": 1, "title": "X", "reference": "toyref",
    "items": [{"id": "B3", "title": "t", "points": 1,
               "checks": [{"name": "c", "function": "double", "cases": [{"args": [1]}],
                           "compare": {"kind": "allclose", "rtol": 1e-9}}]}],
}


def _write(tmp_path, data):
    p = tmp_path / "x.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_good_rubric_loads(tmp_path):
    r = load_rubric(_write(tmp_path, GOOD))
    assert r.item("B3").checks[0].compare.params == {"rtol": 1e-9}


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["items"][0]["checks"][0]["compare"].update(rtol="tight"), "item B3, field checks.0.compare.rtol"),
    (lambda d: d["items"][0]["checks"][0]["compare"].update(kind="close"), "unknown comparator 'close'"),
    (lambda d: d["items"][0].update(points=-1), "item B3, field points"),
    (lambda d: d["items"][0].update(visibility="secret"), "item B3, field visibility"),
    (lambda d: d["items"].append(dict(d["items"][0])), "duplicate item ids: ['B3']"),
    (lambda d: d["items"][0].update(manual=True), "a manual item has no checks"),
    (lambda d: d["items"][0]["checks"][0].pop("function"), "case 0 has no steps and the check names no function"),
    (lambda d: d["items"][0]["checks"][0].update(transform={"kind": "nope"}), "unknown transform 'nope'"),
    (lambda d: d["items"][0]["checks"][0].update(compare={"kind": "band"}), "needs expected: {band"),
    (lambda d: d["items"][0].update(typo_field=1), "item B3, field typo_field"),
    (lambda d: d["items"][0]["checks"][0].update(compare={"kind": "predicate", "name": "decreases", "got": 1}),
     "predicate 'decreases' has no parameter 'got' (allowed: factor, select_key)"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[{"seed": 1, "lr": 0.1}]),
     "a {seed: ...} value: lr: Extra inputs are not permitted"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[{"tensor": [1.0], "dtype": "float8"}]),
     "field checks.0.cases.0.args[0]: a {tensor: ...} value: dtype"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[], steps=[{"call": "double", "args": [{"rng": "x"}]}]),
     "step 0 args[0]: a {rng: ...} value: rng"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[], steps=[{"let": "x"}]),
     "step 0: step: a step needs exactly one of call, read, torch_seed, np_seed, notebook_figures, set_params"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[], steps=[{"read": "q_star_value"}]),
     "item B3, field (top level): the item reads the notebook's top-level value `q_star_value`"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[], steps=[{"read": "q_star_value", "args": [1]}]),
     "a read step takes no args or kwargs"),
    (lambda d: d["items"][0]["checks"][0]["cases"][0].update(args=[], steps=[{"read": "values[0]"}]),
     "step 0: read: String should match pattern"),
    (lambda d: d["items"][0].update(needs="always"), "item B3, field needs"),
], ids=["rtol-string", "comparator", "points", "visibility", "dup", "manual-checks", "no-function",
        "transform", "band", "extra-field", "predicate-data-arg", "seed-plus-plain-key", "tensor-dtype", "rng-in-step",
        "step-without-action", "read-without-needs-full", "read-with-args", "read-not-a-name", "needs-unknown"])
def test_errors_name_file_item_field(tmp_path, mutate, needle):
    import copy

    d = copy.deepcopy(GOOD)
    mutate(d)
    with pytest.raises(RubricError) as exc:
        load_rubric(_write(tmp_path, d))
    msg = str(exc.value)
    assert needle in msg, msg
    assert str(tmp_path / "x.yaml") in msg, msg
    assert "dlgrade validate" in msg, msg


def test_rtol_message_is_exact(tmp_path):
    import copy

    d = copy.deepcopy(GOOD)
    d["items"][0]["checks"][0]["compare"]["rtol"] = "tight"
    with pytest.raises(RubricError) as exc:
        load_rubric(_write(tmp_path, d))
    assert "item B3, field checks.0.compare.rtol" in str(exc.value) and "'tight'" in str(exc.value)


def test_not_yaml(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("items: [unclosed")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(p)


def test_every_shipped_rubric_loads():
    paths = rubric_paths()
    assert paths, "no rubrics shipped"
    for p in paths:
        load_rubric(p)


def test_identical_calls_run_once(tmp_path):
    """Two checks judging the same call (e.g. final train and test accuracy of one run) share it."""
    import copy

    from grader.pipeline import Options, ReferenceKeys, make_plan

    d = copy.deepcopy(GOOD)
    check = d["items"][0]["checks"][0]
    d["items"][0]["checks"].append({**copy.deepcopy(check), "name": "c2", "compare": {"kind": "shape"}})
    d["items"][0]["checks"][0]["cases"].append({"args": [2]})
    rubric = load_rubric(_write(tmp_path, d))
    plan = make_plan(rubric, Options(), ReferenceKeys(rubric))
    assert len(plan.calls) == 2
    assert plan.index[("B3", "c", 0)] == plan.index[("B3", "c2", 0)] != plan.index[("B3", "c", 1)]


def test_set_params_step_takes_one_list_of_arrays_and_no_let():
    from pydantic import ValidationError

    from grader.rubric.schema import Step

    Step.model_validate({"set_params": "net", "args": [[{"array": [1.0]}]]})
    for bad in ({"set_params": "net", "args": []}, {"set_params": "net", "args": [[1.0]], "let": "x"},
                {"set_params": "net", "call": "f", "args": [[1.0]]}):
        with pytest.raises(ValidationError):
            Step.model_validate(bad)
