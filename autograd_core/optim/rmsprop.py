"""RMSprop (with momentum, centering, weight decay, maximize and the L1 proximal step).

For each parameter with a gradient, following PyTorch's documented algorithm:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    v = alpha * v + (1 - alpha) * d * d
    if centered: a = alpha * a + (1 - alpha) * d;  s = sqrt(v - a * a) + eps
    else:        s = sqrt(v) + eps
    if momentum > 0: b = momentum * b + d / s;  w = w - lr * b
    else:            w = w - lr * d / s
    w = sign(w) * max(|w| - t, 0)                               (when l1 > 0 and w.ndim >= 2)

with the per-coordinate t = l1 * lr / s, divided by (1 - momentum) with momentum (see the L1
rule in optimizer.py).

State: 'step', 'square_avg', 'momentum_buffer' (momentum > 0), 'grad_avg' (centered). One fused C
kernel per parameter.
"""
from .. import _core
from .optimizer import Optimizer, check_l1_momentum, check_lr, check_nonnegative, l1_coefficient


class RMSprop(Optimizer):
    """RMSprop; see the module docstring for the update."""

    _state_required = ("step", "square_avg")
    _state_optional = ("momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False, l1=0.0):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, l1=l1)
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        for key in ("alpha", "eps", "weight_decay", "momentum", "l1"):
            check_nonnegative(group, key, name)
        check_l1_momentum(group, name)
        group["centered"] = bool(group["centered"])
        group["maximize"] = bool(group["maximize"])

    def _step_group(self, group):
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = self._new_state(p)
            buf = grad_avg = None
            if momentum > 0:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = self._new_state(p)
            if centered:
                grad_avg = state.get("grad_avg")
                if grad_avg is None:
                    grad_avg = state["grad_avg"] = self._new_state(p)
            state["step"] += 1
            _core.rmsprop_step(p, grad, state["square_avg"], grad_avg, buf, lr, alpha, eps, weight_decay,
                               momentum, maximize, l1_coefficient(group, p))
