"""The instrumented optimizer and loss judge a training loop by what it does, not how it is spelled."""
from __future__ import annotations

import pytest

from grader.judge import compare
from grader.pipeline.plan import materialise_steps
from grader.sandbox import run_job

LOOPS = {
    "canonical": "opt.zero_grad(); loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step()",
    "zero_last": "loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step(); opt.zero_grad()",
    "model_zero": "model.zero_grad(); loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step()",
    "grad_none": ("loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step()\n"
                  "        for p in model.parameters(): p.grad = None"),
    "extra_eval": ("opt.zero_grad(); loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step()\n"
                   "        with torch.no_grad(): loss_fn(model(x[i]), y[i])"),
    "no_zero": "loss = loss_fn(model(x[i]), y[i]); loss.backward(); opt.step()",
    "no_backward": "opt.zero_grad(); loss = loss_fn(model(x[i]), y[i]); opt.step()",
}
OK = {"canonical", "zero_last", "model_zero", "grad_none", "extra_eval"}


@pytest.fixture(scope="module")
def outcomes():
    """Every loop, shuffled and not, in one sandboxed worker (one torch import)."""
    src, calls = "import torch\n", []
    for name, body in LOOPS.items():
        for shuffle in (True, False):
            order = "torch.randperm(len(x)).tolist()" if shuffle else "range(len(x))"
            fn = f"fit_{name}_{shuffle}"
            src += (f"def {fn}(model, loss_fn, opt, x, y, epochs):\n"
                    "    for _ in range(epochs):\n"
                    f"      for i in {order}:\n"
                    f"        {body}\n"
                    "    return model\n")
            calls.append({"id": fn, "returns": "events", "steps": materialise_steps([
                {"torch_seed": 0},
                {"let": "model", "call": "torch.nn.Linear", "args": [3, 2]},
                {"let": "x", "call": "torch.randn", "args": [6, 3]},
                {"let": "y", "call": "torch.randn", "args": [6, 2]},
                {"call": fn, "args": [{"var": "model"}, {"mse": {}},
                                      {"sgd": {"params": {"var": "model"}, "lr": 0.05}},
                                      {"var": "x"}, {"var": "y"}, 3]}], {})})
    res = run_job([{"label": "cell 1", "source": src, "kind": "def"}], calls, {}, require_isolation=False)
    return res.outcomes


@pytest.mark.parametrize("name", list(LOOPS))
@pytest.mark.parametrize("shuffle", [True, False])
def test_train_loop_pattern(outcomes, name, shuffle):
    out = outcomes[f"fit_{name}_{shuffle}"]
    assert out.status == "ok", out.error
    c = compare("predicate", out.value, None, name="train_loop_pattern", n_epochs=3, steps_per_epoch=6,
                shuffled=True)
    if name in OK and shuffle:
        assert c.passed, c.message
    elif name in OK:
        assert not c.passed and "same order (no shuffling)" in c.message
    elif name == "no_zero":
        assert not c.passed and "accumulated gradients" in c.message
    else:
        assert not c.passed and "backward() first" in c.message
