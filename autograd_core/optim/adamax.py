"""Adamax (Adam with the infinity norm), following PyTorch's documented algorithm:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    m = beta1 * m + (1 - beta1) * d
    u = max(beta2 * u, |d| + eps)
    w = w - lr / (1 - beta1^t) * m / u

State: 'step', 'exp_avg' (m), 'exp_inf' (u). In-place tensor ops; no l1 option.
"""
from ..ops.binary import maximum
from .optimizer import Optimizer, check_betas, check_lr, check_nonnegative


class Adamax(Optimizer):
    """Adamax; see the module docstring for the update."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        check_nonnegative(group, "eps", name)
        check_nonnegative(group, "weight_decay", name)
        check_betas(group, name)
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"exp_avg": self._new_state(p), "exp_inf": self._new_state(p)}

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p, d, state in self._gradients(group):
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.lerp_(d, 1 - beta1)
            exp_inf.copy_(maximum(exp_inf * beta2, d.abs() + eps))
            p.sub_(exp_avg / exp_inf * (lr / (1 - beta1 ** state["step"])))
