"""Comparators: verdicts and the sentences students read."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.judge import compare


def test_scalar_message_gives_numbers():
    c = compare("allclose", 0.7967, 1.0, label="q*", rtol=0, atol=5e-5)
    assert not c.passed and c.message == "q* = 0.7967, expected 1.0000 +- 5e-05"
    assert compare("allclose", 1.00001, 1.0, label="q*", rtol=0, atol=5e-5).passed


def test_array_message_locates_largest_difference():
    exp = np.arange(6.0).reshape(2, 3)
    got = exp.copy()
    got[1, 2] += 0.5
    c = compare("allclose", got, exp, label="W")
    assert not c.passed and "1 of 6 values differ" in c.message and "at [1, 2]" in c.message


def test_shapes_nan_and_structure():
    assert "wrong shape: got (2,), expected (3,)" in compare("allclose", np.ones(2), np.ones(3)).message
    assert "NaN or inf" in compare("allclose", np.array([1, np.nan, 1.0]), np.ones(3)).message
    c = compare("allclose", (np.ones(2), 3.0), (np.ones(2), 4.0), label="out")
    assert not c.passed and "out[1] = 3, expected 4 +- 4e-09" in c.message
    assert "missing keys ['deep']" in compare("allclose", {"shallow": 1}, {"deep": 1, "shallow": 1}).message
    # (n, 1) vs (n,) is accepted: same values, squeezable
    assert compare("allclose", np.ones((3, 1)), np.ones(3)).passed


def test_exact_types():
    assert compare("exact", "right", "right").passed
    assert not compare("exact", "slow", "right").passed
    assert compare("exact", 3, 3).passed


def test_singular_vectors_and_points():
    rng = np.random.default_rng(0)
    u = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert compare("sign_invariant_columns", u * np.array([1, -1, 1, -1]), u).passed
    assert compare("sorted_singular_values", np.array([1.0, 3.0, 2.0]), np.array([3.0, 2.0, 1.0])).passed
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    assert compare("set_of_points", pts[::-1], pts).passed
    c = compare("set_of_points", pts[:2], pts)
    assert not c.passed and "missing 1 of 3" in c.message


def test_curve_missing_first_row():
    exp = np.arange(10.0).reshape(5, 2)
    assert compare("curve", exp[1:], exp, allow_missing_first=True).passed
    assert not compare("curve", exp[1:], exp).passed


def test_band_monotone_ordering():
    assert compare("band", 0.5, (0.4, 0.6)).passed
    assert "expected within [0.4, 0.6]" in compare("band", 0.7, (0.4, 0.6)).message
    assert not compare("band", np.nan, (0.4, 0.6)).passed
    assert compare("monotone", [3, 2, 2, 1], None).passed
    assert not compare("monotone", [3, 2, 2, 1], None, strict=True).passed
    assert compare("ordering", [5, 1, 3], [10, 2, 4]).passed


def test_comparator_never_raises():
    c = compare("sorted_singular_values", "not a matrix", np.eye(2))
    assert not c.passed and c.fraction == 0.0
    assert "could not be compared" in c.message and "expected a matrix" in c.message, c.message


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20), st.floats(1e-12, 1e-3))
def test_allclose_accepts_within_tolerance(xs, rel):
    x = np.array(xs)
    assert compare("allclose", x * (1 + rel / 2), x, rtol=rel, atol=1e-300).passed


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(6))))
def test_set_of_points_order_free(perm):
    pts = np.arange(12.0).reshape(6, 2)
    assert compare("set_of_points", pts[list(perm)], pts).passed


def test_curve_missing_first_row_inside_a_dict():
    exp = {"train_loss": np.arange(5.0), "test_acc": np.linspace(0, 1, 5)}
    got = {k: v[1:] for k, v in exp.items()}
    c = compare("curve", got, exp, allow_missing_first=True)
    assert c.passed and "rows without t = 0 accepted" in c.message
    assert not compare("curve", got, exp).passed


def test_empty_and_placeholder_answers_never_pass():
    assert not compare("band", np.array([]), (0.4, 0.6)).passed
    assert "empty" in compare("band", np.zeros((0, 3)), (0.4, 0.6)).message
    zeros = compare("shape", np.zeros((3, 2)), np.ones((3, 2)))
    assert not zeros.passed and "every value is 0" in zeros.message
    assert compare("shape", np.zeros((3, 2)), np.zeros((3, 2))).passed  # when zeros are the answer
    assert compare("shape", np.full((3, 2), 0.5), np.ones((3, 2))).passed
    assert not compare("allclose", np.array([]), np.array([1.0, 2.0])).passed
