"""Adadelta (Zeiler 2012), following PyTorch's documented algorithm, for each parameter:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    v = rho * v + (1 - rho) * d * d
    delta = sqrt(u + eps) / sqrt(v + eps) * d
    u = rho * u + (1 - rho) * delta * delta
    w = w - lr * delta

State: 'step', 'square_avg' (v), 'acc_delta' (u). Written with in-place tensor ops (no fused
kernel); no l1 option.
"""
from .optimizer import Optimizer, check_lr, check_nonnegative, check_number


class Adadelta(Optimizer):
    """Adadelta; see the module docstring for the update."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        check_nonnegative(group, "eps", name)
        check_nonnegative(group, "weight_decay", name)
        rho = check_number("rho", group["rho"], name)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"{name}: invalid rho value: {rho} (expected 0 <= rho <= 1)")
        group["rho"] = rho
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"square_avg": self._new_state(p), "acc_delta": self._new_state(p)}

    def _step_group(self, group):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p, d, state in self._gradients(group):
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).addcmul_(d, d, value=1 - rho)
            delta = (acc_delta + eps).sqrt() / (square_avg + eps).sqrt() * d
            acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            p.sub_(delta * lr)
