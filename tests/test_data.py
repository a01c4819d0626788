"""The packaged MNIST 7-vs-9 data: checksums, layout, and the two formats agree."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import scipy.io

from reference.data import KEYS, load_mnist_sevens_nines, mnist_sevens_nines_path

SHA256 = {
    "mat": "4ffd29b5b89e4439ab62206c9d544b74f2c69ff94097a0075bb6da66bc4be89a",
    "npz": "beee99f7cd9379bb08b909b1bc5408350ac05bc25fe2a767ebb1ba1813c042a4",
}
SHAPES = {"X_train": (784, 1800), "y_train": (1, 1800), "X_test": (784, 200), "y_test": (1, 200)}


@pytest.fixture(scope="module")
def data():
    return load_mnist_sevens_nines()


@pytest.mark.parametrize("fmt", ["mat", "npz"])
def test_sha256_matches_provenance_readme(fmt):
    path = mnist_sevens_nines_path(fmt)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == SHA256[fmt]
    readme = (path.parent / "README.md").read_text()
    row = re.search(rf"`{re.escape(path.name)}` \| (\d+) \| `([0-9a-f]{{64}})`", readme)
    assert row is not None, "README.md table row missing"
    assert int(row.group(1)) == path.stat().st_size
    assert row.group(2) == digest


def test_unknown_format_rejected():
    with pytest.raises(ValueError):
        mnist_sevens_nines_path("csv")


def test_shapes_dtypes_and_values(data):
    assert tuple(data) == KEYS
    for k, shape in SHAPES.items():
        a = data[k]
        assert a.shape == shape and a.dtype == np.float64 and a.flags.c_contiguous, k
    for split in ("train", "test"):
        X, y = data["X_" + split], data["y_" + split][0]
        assert X.min() == 0.0 and X.max() == 1.0
        np.testing.assert_array_equal(np.round(X * 255), X * 255)  # exactly k/255
        half = y.size // 2
        assert (y[:half] == -1).all() and (y[half:] == 1).all()  # sevens then nines


def test_fresh_arrays_each_call(data):
    again = load_mnist_sevens_nines()
    again["X_train"][0, 0] = 42.0
    assert data["X_train"][0, 0] != 42.0


def test_npz_and_mat_hold_identical_values(data):
    mat = load_mnist_sevens_nines("mat")
    raw = scipy.io.loadmat(mnist_sevens_nines_path("mat"))
    assert raw["y_train"].dtype == np.int16
    for k in KEYS:
        np.testing.assert_array_equal(mat[k], data[k])
        np.testing.assert_array_equal(raw[k], data[k])


def test_column_major_reshape_gives_digits(data):
    X, y = data["X_train"], data["y_train"][0]
    m7 = X[:, y < 0].mean(axis=1).reshape(28, 28, order="F")
    m9 = X[:, y > 0].mean(axis=1).reshape(28, 28, order="F")
    # A 7's horizontal bar is at the top: the ink per row peaks in the upper
    # part, the ink per column does not (a C-order reshape would swap them).
    assert np.argmax(m7.sum(axis=1)) < 12 <= np.argmax(m7.sum(axis=0))
    # A 9's loop puts ink left of centre, below the top, where a 7 has little.
    loop = (slice(12, 17), slice(6, 11))
    assert m9[loop].mean() > 2.0 * m7[loop].mean()
    # Frame empty, digits differ.
    assert m7[:4].max() == 0.0 and m9[:4].max() == 0.0
    assert np.abs(m7 - m9).max() > 0.3
