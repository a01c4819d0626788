"""C5 judges WideNet by behaviour, not by how it is built: a functional ``torch.tanh`` and a readout
layer declared first score full marks (issue 13, "the catalogue is the contract").

The pieces: the worker's ``set_params`` step (given parameters, matched by shape), the
``param_summary`` and ``sorted_by_shape`` transforms; then the real pipeline on both styles.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from grader.judge import apply_transform
from grader.sandbox.worker.interpreter import set_params_by_shape
from grader.sandbox.worker.wire import decode_result, encode
from reference import autodiff_basics as ab

torch.set_num_threads(1)

FUNCTIONAL = '''class WideNet(nn.Module):
    """Tanh as a function in forward, not a module."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1, 512)
        self.fc2 = nn.Linear(512, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))
'''

READOUT_FIRST = '''class WideNet(nn.Module):
    """The readout layer declared (and so initialised and registered) first."""

    def __init__(self):
        super().__init__()
        self.readout = nn.Linear(512, 1)
        self.hidden = nn.Linear(1, 512)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.readout(self.act(self.hidden(x)))
'''


def _style(source: str):
    ns = {"nn": nn, "torch": torch}
    exec(source, ns)  # noqa: S102 - our own test source
    return ns["WideNet"]


def _by_hand(params, x):
    """tanh(x W1^T + b1) W2^T + b2 in float64 from the given arrays, by shape."""
    by_shape = {np.shape(p): np.asarray(p, dtype=np.float64) for p in params}
    w1, b1, w2, b2 = by_shape[(512, 1)], by_shape[(512,)], by_shape[(1, 512)], by_shape[(1,)]
    return np.tanh(x @ w1.T + b1) @ w2.T + b2


@pytest.mark.parametrize("source", [None, FUNCTIONAL, READOUT_FIRST], ids=["reference", "functional", "readout_first"])
def test_given_parameters_give_the_same_network_whatever_the_construction(source):
    net = ab.WideNet() if source is None else _style(source)()
    params = ab._widenet_params(3)
    set_params_by_shape(net, params)
    x = ab._sine_data()[0]
    got = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, _by_hand(params, x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    # and the gradient of the MSE, by finite differences of the float64 formula, for the output bias
    y = ab._sine_data()[1].astype(np.float64)
    out = net(torch.tensor(x))
    grads = torch.autograd.grad(((out - torch.tensor(y, dtype=torch.float32)) ** 2).mean(), net.parameters())
    db2 = next(g for g in grads if tuple(g.shape) == (1,)).item()
    eps = 1e-6
    plus, minus = [[np.asarray(p, dtype=np.float64) for p in params] for _ in range(2)]
    plus[3], minus[3] = plus[3] + eps, minus[3] - eps
    fd = (np.mean((_by_hand(plus, x) - y) ** 2) - np.mean((_by_hand(minus, x) - y) ** 2)) / (2 * eps)
    assert db2 == pytest.approx(fd, rel=1e-4, abs=1e-6)


def test_set_params_by_shape_refuses_other_shapes():
    net = nn.Sequential(nn.Linear(1, 256), nn.Tanh(), nn.Linear(256, 1))
    with pytest.raises(ValueError, match="parameters have shapes"):
        set_params_by_shape(net, ab._widenet_params(0))


def _wire_module(net):
    """The module as the grader receives it from the worker."""
    arrays: dict = {}
    return decode_result(encode(net, arrays), arrays)


def test_param_summary_and_sorted_by_shape_ignore_registration_order():
    a, b = ab.WideNet(), _style(READOUT_FIRST)()
    summaries = [apply_transform("param_summary", _wire_module(net)) for net in (a, b)]
    assert summaries[0] == summaries[1] == {"count": 512 + 512 + 512 + 1,
                                            "shapes": [[1], [1, 512], [512], [512, 1]]}
    grads = [np.zeros((1, 512)), np.ones(1), np.zeros((512, 1)), np.zeros(512)]
    got = apply_transform("sorted_by_shape", grads)
    assert [g.shape for g in got] == [(1,), (512,), (1, 512), (512, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("style", ["functional", "readout_first"])
def test_both_styles_score_full_marks_on_c5(style, tmp_path):
    from grader.authoring.mutants import reference_source
    from grader.model import Options
    from grader.pipeline import grade_file
    from grader.rubric import get_rubric
    from helpers import replace_function

    rubric = get_rubric("linear-deep-learning")
    src = replace_function(reference_source(rubric), "WideNet", {"functional": FUNCTIONAL,
                                                                 "readout_first": READOUT_FIRST}[style])
    (tmp_path / f"{style}.py").write_text(src)
    res = grade_file(tmp_path / f"{style}.py", rubric, opts=Options(items=("C5",)))
    c5 = next(i for i in res.items if i.item_id == "C5")
    assert c5.points == rubric.item("C5").points, [(c.name, c.message) for c in c5.checks if not c.passed]
