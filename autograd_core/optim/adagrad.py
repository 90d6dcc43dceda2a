"""Adagrad (with learning-rate decay, weight decay, maximize and the L1 proximal step).

For each parameter with a gradient, step t = 1, 2, ..., following PyTorch's documented algorithm:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    clr = lr / (1 + (t - 1) * lr_decay)
    sum = sum + d * d
    w = w - clr * d / (sqrt(sum) + eps)
    w = sign(w) * max(|w| - t, 0)                               (when l1 > 0 and w.ndim >= 2)

with the per-coordinate t = l1 * clr / (sqrt(sum) + eps) (see the L1 rule in optimizer.py).

The accumulator 'sum' starts at initial_accumulator_value and, as in PyTorch, the state ('step',
'sum') exists from construction. One fused C kernel per parameter.
"""
from .. import _core
from .optimizer import Optimizer, check_lr, check_nonnegative, l1_coefficient


class Adagrad(Optimizer):
    """Adagrad; see the module docstring for the update."""

    _state_required = ("step", "sum")
    _state_optional = ()

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 *, maximize=False, l1=0.0):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
                        l1=l1)
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps", "l1"):
            check_nonnegative(group, key, name)
        group["maximize"] = bool(group["maximize"])

    def _init_group_state(self, group):
        for p in group["params"]:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["sum"] = self._new_state(p, group["initial_accumulator_value"])

    def _step_group(self, group):
        lr = group["lr"]
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["sum"] = self._new_state(p, group["initial_accumulator_value"])
            state["step"] += 1
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            _core.adagrad_step(p, grad, state["sum"], clr, eps, weight_decay, maximize,
                               l1_coefficient(group, p))
