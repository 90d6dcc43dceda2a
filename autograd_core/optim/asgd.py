"""ASGD (averaged stochastic gradient descent, Polyak and Juditsky), following PyTorch's documented
algorithm. The iterate takes decaying SGD steps; 'ax' is the running average of the iterates, taken
from step t0 on (before that it tracks the iterate):

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    w = w * (1 - lambd * eta) - eta * d
    ax = ax + mu * (w - ax)           (ax = w while mu == 1)
    eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

State: 'step', 'eta', 'mu' (numbers), 'ax'. In-place tensor ops; no l1 option.
"""
from .optimizer import Optimizer, check_lr, check_nonnegative, check_number


class ASGD(Optimizer):
    """ASGD; see the module docstring for the update."""

    _scalar_state = ("eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *, maximize=False):
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        check_nonnegative(group, "weight_decay", name)
        for key in ("lambd", "alpha", "t0"):
            group[key] = check_number(key, group[key], name)
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"eta": group["lr"], "mu": 1.0, "ax": self._new_state(p)}

    def _step_group(self, group):
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        for p, d, state in self._gradients(group):
            t = state["step"]
            eta = state["eta"]
            p.mul_(1 - lambd * eta)
            p.sub_(d * eta)
            ax = state["ax"]
            if state["mu"] != 1:
                ax.add_((p - ax) * state["mu"])
            else:
                ax.copy_(p)
            state["eta"] = lr / ((1 + lambd * lr * t) ** alpha)
            state["mu"] = 1 / max(1, t - t0)
