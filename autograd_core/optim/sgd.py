"""SGD with momentum, dampening, Nesterov momentum, weight decay, maximize and the L1 proximal step.

For each parameter with a gradient, following PyTorch's documented algorithm:

    d = -g if maximize else g
    d = d + weight_decay * w                                   (when weight_decay != 0)
    if momentum != 0:
        b = d on the first step, else momentum * b + (1 - dampening) * d
        d = d + momentum * b if nesterov else b
    w = w - lr * d
    w = sign(w) * max(|w| - t, 0)                               (when l1 > 0 and w.ndim >= 2)

with t = lr * l1, times (1 - dampening) / (1 - momentum) with momentum (and 1 + momentum times
that with Nesterov): see the L1 rule in optimizer.py.

State: 'momentum_buffer' (only when momentum != 0). One fused C kernel per parameter.
"""
from .. import _core
from .optimizer import Optimizer, check_l1_momentum, check_lr, check_nonnegative, l1_coefficient, required


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum); see the module docstring."""

    _state_required = ()
    _state_optional = ("momentum_buffer",)

    def __init__(self, params, lr=required, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, l1=0.0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, l1=l1)
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        if group.get("lr") is required:
            raise TypeError(f"{name}: missing the learning rate: SGD(params, lr, ...) needs lr")
        check_lr(group, name)
        for key in ("momentum", "dampening", "weight_decay", "l1"):
            check_nonnegative(group, key, name)
        group["nesterov"] = bool(group["nesterov"])
        group["maximize"] = bool(group["maximize"])
        check_l1_momentum(group, name)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{name}: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

    def _step_group(self, group):
        lr = group["lr"]
        momentum = group["momentum"]
        dampening = group["dampening"]
        weight_decay = group["weight_decay"]
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            buf = None
            first = False
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    # uninitialised: the kernel's first step writes the gradient into it
                    buf = self._new_state(p, None)
                    state["momentum_buffer"] = buf
                    first = True
            _core.sgd_step(p, grad, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first,
                           l1_coefficient(group, p))
