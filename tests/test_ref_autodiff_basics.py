"""Independent checks of reference/autodiff_basics.py (assignment C, items C1-C5).

Every analytic gradient is checked against something that does not share its
code: central finite differences or torch autograd in float64.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reference import autodiff_basics as ab

torch.set_num_threads(1)


def central_diff(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


# --- C1 ---------------------------------------------------------------------
def test_fun_z_values():
    assert ab.fun_z(0.0, 0.0) == 0.0
    assert ab.fun_z(0.0, np.sqrt(np.pi / 2)) == pytest.approx(1.0, abs=1e-15)
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(ab.fun_z(x, 0.5), np.sin(x**2 + 0.25), rtol=0, atol=0)


def test_fun_dz_matches_finite_differences():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2, 2, 50), rng.uniform(-2, 2, 50)
    dx, dy = ab.fun_dz(x, y)
    np.testing.assert_allclose(dx, central_diff(lambda t: np.sin(t**2 + y**2), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dy, central_diff(lambda t: np.sin(x**2 + t**2), y), rtol=1e-6, atol=1e-8)


def test_fun_dz_broadcasts():
    dx, dy = ab.fun_dz(np.linspace(-1, 1, 3)[:, None], np.linspace(0, 1, 4)[None, :])
    assert dx.shape == dy.shape == (3, 4)
    assert isinstance(ab.fun_dz(1.0, 2.0)[0], float)


# --- C2 ---------------------------------------------------------------------
def test_loss_grad_matches_autograd():
    rng = np.random.default_rng(1)
    w, b, x, y = (rng.normal(size=20) for _ in range(4))
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = (torch.tensor(y) - torch.tanh(tw * torch.tensor(x) + tb)) ** 2
    loss.sum().backward()  # elementwise losses: the sum's gradient is each element's
    dw, db = ab.loss_grad(w, b, x, y)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_loss_grad_notebook_point():
    dw, db = ab.loss_grad(-0.5, 0.5, 2.0, 7.0)
    p = np.tanh(-0.5)
    assert db == pytest.approx(-2 * (7 - p) * (1 - p**2), rel=1e-14)
    assert dw == pytest.approx(2 * db, rel=1e-14)


# --- C3 ---------------------------------------------------------------------
def _f_torch(x, y, z):
    return torch.tanh(torch.log(1 + z * 2 * x / torch.sin(y)))


def test_graph_forward_nodes():
    x, y, z = 0.7, 1.3, 0.4
    v = ab.graph_forward(x, y, z)
    assert set(v) == set("abcdef")
    assert v["a"] == 2 * x and v["b"] == np.sin(y)
    assert v["c"] == pytest.approx(2 * x / np.sin(y), rel=1e-15)
    assert v["f"] == pytest.approx(np.tanh(np.log(1 + z * 2 * x / np.sin(y))), rel=1e-15)


def test_graph_backward_matches_autograd():
    rng = np.random.default_rng(2)
    x, y, z = rng.uniform(0.1, 1.5, 30), rng.uniform(0.3, 2.8, 30), rng.uniform(-0.2, 2.0, 30)
    tx, ty, tz = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    _f_torch(tx, ty, tz).sum().backward()
    for got, t in zip(ab.graph_backward(x, y, z), (tx, ty, tz)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_graph_backward_matches_finite_differences():
    x, y, z = 0.8, 1.1, 0.6
    f = lambda x, y, z: ab.graph_forward(x, y, z)["f"]  # noqa: E731
    fd = (central_diff(lambda t: f(t, y, z), x), central_diff(lambda t: f(x, t, z), y),
          central_diff(lambda t: f(x, y, t), z))
    np.testing.assert_allclose(ab.graph_backward(x, y, z), fd, rtol=1e-7)


# --- C4 ---------------------------------------------------------------------
def test_simple_graph_parameters():
    g = ab.SimpleGraph(-0.5, 0.5)
    for p in (g.w, g.b):
        assert isinstance(p, torch.Tensor) and p.shape == (1,) and p.dtype == torch.float32
        assert p.requires_grad and p.is_leaf
    with pytest.raises(AssertionError):
        ab.SimpleGraph(1, 0.5)


def test_simple_graph_grads_match_hand_formulas():
    g = ab.SimpleGraph(-0.5, 0.5)
    x = torch.tensor([2.0, -1.0, 0.3])
    y = torch.tensor([7.0, 0.2, -0.4])
    pred = g.forward(x)
    np.testing.assert_allclose(pred.detach().numpy(), np.tanh(-0.5 * x.numpy() + 0.5), rtol=1e-6)
    loss = ab.sq_loss(y, pred)
    assert loss.shape == (3,)  # elementwise, no reduction
    loss.sum().backward()
    p = np.tanh(-0.5 * x.numpy().astype(float) + 0.5)
    dldb = -2 * (y.numpy() - p) * (1 - p**2)
    assert g.w.grad.item() == pytest.approx(np.sum(dldb * x.numpy()), rel=1e-5)
    assert g.b.grad.item() == pytest.approx(np.sum(dldb), rel=1e-5)


def test_simple_graph_agrees_with_loss_grad():
    g = ab.SimpleGraph(0.3, -0.2)
    ab.sq_loss(torch.tensor([0.9]), g.forward(torch.tensor([1.5]))).backward()
    dw, db = ab.loss_grad(0.3, -0.2, 1.5, 0.9)
    assert g.w.grad.item() == pytest.approx(dw, rel=1e-5)
    assert g.b.grad.item() == pytest.approx(db, rel=1e-5)


# --- C5 ---------------------------------------------------------------------
def test_widenet_architecture():
    net = ab.WideNet()
    layers = list(net.layers)
    assert [type(m) for m in layers] == [nn.Linear, nn.Tanh, nn.Linear]
    assert layers[0].weight.shape == (512, 1) and layers[0].bias.shape == (512,)
    assert layers[2].weight.shape == (1, 512) and layers[2].bias.shape == (1,)
    assert sum(p.numel() for p in net.parameters()) == 512 + 512 + 512 + 1
    assert net(torch.zeros(5, 1)).shape == (5, 1)


class RecordingSGD(torch.optim.SGD):
    def __init__(self, params, log, **kw):
        super().__init__(params, **kw)
        self.log = log

    def zero_grad(self, set_to_none=True):
        self.log.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.log.append("step")
        return super().step(closure)


def test_train_loop_order_and_decrease():
    torch.manual_seed(0)
    x, y = (torch.from_numpy(a) for a in ab._sine_data())
    net, log = ab.WideNet(), []

    def loss_fun(pred, target):
        log.append("loss")
        out = nn.functional.mse_loss(pred, target)
        out.register_hook(lambda g: log.append("backward"))
        return out

    rec = ab.train(x, y, net, loss_fun, RecordingSGD(net.parameters(), log, lr=0.005), 20)
    assert isinstance(rec, list) and len(rec) == 20 and all(isinstance(v, float) for v in rec)
    assert log == ["zero_grad", "loss", "backward", "step"] * 20
    assert np.all(np.diff(rec) < 0) and rec[-1] < 0.8 * rec[0]


def test_train_equals_manual_gradient_descent():
    x, y = (torch.from_numpy(a) for a in ab._sine_data(16))
    torch.manual_seed(3)
    net = ab.WideNet()
    manual = ab.WideNet()
    manual.load_state_dict(net.state_dict())
    rec = ab.train(x, y, net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.01), 10)
    want = []
    for _ in range(10):
        loss = ((manual(x) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, list(manual.parameters()))
        with torch.no_grad():
            for p, g in zip(manual.parameters(), grads):
                p -= 0.01 * g
        want.append(loss.item())
    np.testing.assert_allclose(rec, want, rtol=1e-6)
    for p, q in zip(net.parameters(), manual.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_sine_data():
    x, y = ab._sine_data()
    assert x.shape == y.shape == (32, 1) and x.dtype == y.dtype == np.float32
    assert x[0, 0] == -1 and x[-1, 0] == 1
    np.testing.assert_array_equal(ab._sine_data()[1], y)
