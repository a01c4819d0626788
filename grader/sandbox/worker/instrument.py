"""Instrumented torch objects for training-loop items: they log into an :class:`EventLog`."""
from __future__ import annotations

import zlib


class EventLog(list):
    """Ordered record of what an instrumented optimizer / loss saw."""

    def add(self, kind, **info):
        if len(self) < 1_000_000:
            self.append({"kind": kind, **info})


def _torch():
    import torch

    return torch


def make_instrumented_sgd(params, events, **kwargs):
    """A ``torch.optim.SGD`` that logs ``zero_grad`` and ``step`` calls.

    Each ``step`` also records whether the gradients it applies are *fresh*:
    equal to the sum of the gradient contributions since the previous step
    (hooks on the parameters see every contribution). So gradients left to
    accumulate are caught however the student zeroes them (or forgets to):
    ``optimizer.zero_grad()``, ``model.zero_grad()`` or ``p.grad = None``.
    """
    torch = _torch()

    class InstrumentedSGD(torch.optim.SGD):
        def __init__(self, params, **kw):
            super().__init__(params, **kw)
            self._contrib = {}
            for group in self.param_groups:
                for p in group["params"]:
                    if p.requires_grad:
                        p.register_hook(self._hook(p))

        def _hook(self, p):
            def hook(grad):
                old = self._contrib.get(id(p))
                self._contrib[id(p)] = grad.detach().clone() if old is None else old + grad.detach()
                return grad
            return hook

        def zero_grad(self, set_to_none: bool = True):
            events.add("zero_grad")
            return super().zero_grad(set_to_none=set_to_none)

        def step(self, closure=None):
            fresh = True
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    c = self._contrib.get(id(p))
                    # fresh gradients are bitwise the contributions (None + g = g, 0 + g = g)
                    if c is None or not torch.equal(p.grad, c):
                        fresh = False
            events.add("step", fresh=fresh)
            self._contrib.clear()
            return super().step(closure)

    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    return InstrumentedSGD(params, **kwargs)


def make_instrumented_mse(events, **kwargs):
    """An ``nn.MSELoss`` that logs each call, its ``backward`` and the target seen."""
    torch = _torch()

    class InstrumentedMSE(torch.nn.MSELoss):
        def forward(self, input, target):  # noqa: A002 - torch's own argument names
            out = super().forward(input, target)
            fingerprint = zlib.crc32(target.detach().cpu().contiguous().numpy().tobytes())
            events.add("loss", target=fingerprint, n=int(target.shape[0]) if target.dim() else 1)
            if out.requires_grad:
                out.register_hook(lambda g: events.add("backward") or g)
            return out

    return InstrumentedMSE(**kwargs)
