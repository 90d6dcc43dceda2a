"""RAdam (rectified Adam, Liu et al. 2019), following PyTorch's documented algorithm:

    d = -g if maximize else g
    weight decay: d = d + wd * w, or with decoupled_weight_decay w = w * (1 - lr * wd)
    m = beta1 * m + (1 - beta1) * d;  v = beta2 * v + (1 - beta2) * d * d
    m_hat = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                   w = w - lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    else:          w = w - lr * m_hat                          (the variance is not yet tractable)

State: 'step', 'exp_avg', 'exp_avg_sq'. In-place tensor ops; no l1 option.
"""
import math

from .optimizer import Optimizer, check_betas, check_lr, check_nonnegative


class RAdam(Optimizer):
    """RAdam; see the module docstring for the update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, maximize=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                        "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        check_nonnegative(group, "eps", name)
        check_nonnegative(group, "weight_decay", name)
        check_betas(group, name)
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"exp_avg": self._new_state(p), "exp_avg_sq": self._new_state(p)}

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, d, state in self._gradients(group):
            t = state["step"]
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(d, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(d, d, value=1 - beta2)
            bias_correction2 = 1 - beta2 ** t
            m_hat = exp_avg / (1 - beta1 ** t)
            rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = math.sqrt(bias_correction2) / (exp_avg_sq.sqrt() + eps)
                p.sub_(m_hat * lr * adaptive * rect)
            else:
                p.sub_(m_hat * lr)
