"""NAdam (Adam with Nesterov momentum, Dozat 2016), following PyTorch's documented algorithm:

    d = -g if maximize else g
    weight decay: d = d + wd * w, or with decoupled_weight_decay w = w * (1 - lr * wd)
    mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),  mu_{t+1} likewise
    P_t = mu_1 * ... * mu_t                                     (state 'mu_product')
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d * d
    s = sqrt(v / (1 - beta2^t)) + eps
    w = w - lr * (1 - mu_t) / (1 - P_t) * d / s - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / s

State: 'step', 'mu_product', 'exp_avg', 'exp_avg_sq'. In-place tensor ops; no l1 option.
"""
from .optimizer import Optimizer, check_betas, check_lr, check_nonnegative


class NAdam(Optimizer):
    """NAdam; see the module docstring for the update."""

    _scalar_state = ("mu_product",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                        "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        for key in ("eps", "weight_decay", "momentum_decay"):
            check_nonnegative(group, key, name)
        check_betas(group, name)
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"mu_product": 1.0, "exp_avg": self._new_state(p), "exp_avg_sq": self._new_state(p)}

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        psi = group["momentum_decay"]
        for p, d, state in self._gradients(group):
            t = state["step"]
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            mu_product = state["mu_product"] * mu
            state["mu_product"] = mu_product
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(d, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(d, d, value=1 - beta2)
            denom = (exp_avg_sq / (1 - beta2 ** t)).sqrt() + eps
            p.sub_(d / denom * (lr * (1 - mu) / (1 - mu_product)))
            p.sub_(exp_avg / denom * (lr * mu_next / (1 - mu_product * mu_next)))
