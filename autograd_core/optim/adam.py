"""Adam (with amsgrad, L2 weight decay, maximize and the L1 proximal step).

For each parameter with a gradient, step t = 1, 2, ..., following PyTorch's documented algorithm:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d * d
    if amsgrad: v_max = max(v_max, v), and v_max replaces v below
    w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    w = sign(w) * max(|w| - thr, 0)                             (when l1 > 0 and w.ndim >= 2)

with the per-coordinate threshold thr = l1 * lr / (1 - beta1^t) / (sqrt(v) / sqrt(1 - beta2^t) + eps),
the step this update applies to the gradient (see the L1 rule in optimizer.py).

eps is added after the bias-corrected square root, as PyTorch does. State: 'step', 'exp_avg',
'exp_avg_sq' and, with amsgrad, 'max_exp_avg_sq'. One fused C kernel per parameter.
"""
from .. import _core
from .optimizer import Optimizer, check_betas, check_lr, check_nonnegative, l1_coefficient


class Adam(Optimizer):
    """Adam; see the module docstring for the update."""

    _state_required = ("step", "exp_avg", "exp_avg_sq")
    _state_optional = ("max_exp_avg_sq",)

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, l1=0.0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, l1=l1)
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        check_nonnegative(group, "eps", name)
        check_nonnegative(group, "weight_decay", name)
        check_nonnegative(group, "l1", name)
        check_betas(group, name)
        group["amsgrad"] = bool(group["amsgrad"])
        group["maximize"] = bool(group["maximize"])

    def _step_group(self, group):
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = self._decoupled
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = self._new_state(p)
                state["exp_avg_sq"] = self._new_state(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = self._new_state(p)
            vmax = None
            if amsgrad:
                vmax = state.get("max_exp_avg_sq")
                if vmax is None:  # amsgrad switched on after the first step
                    vmax = state["max_exp_avg_sq"] = self._new_state(p)
            state["step"] += 1
            _core.adam_step(p, grad, state["exp_avg"], state["exp_avg_sq"], vmax, lr, beta1, beta2, eps,
                            weight_decay, state["step"], maximize, decoupled, l1_coefficient(group, p))
