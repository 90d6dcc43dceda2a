"""Rprop (resilient backpropagation), following PyTorch's documented algorithm. Each coordinate
keeps its own step size, grown by etaplus while the gradient keeps its sign and cut by etaminus
when it flips (and then that coordinate skips one update):

    d = -g if maximize else g
    s = sign(d * d_prev)
    step_size = clamp(step_size * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0), *step_sizes)
    d = 0 where s < 0
    w = w - sign(d) * step_size;  d_prev = d

State: 'step', 'prev', 'step_size' (starts at lr). In-place tensor ops; no l1 option.
"""
from ..ops.creation import full_like, ones_like, zeros_like
from ..ops.unary import where
from .optimizer import Optimizer, check_lr, check_number


class Rprop(Optimizer):
    """Rprop; see the module docstring for the update."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False):
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        etas = tuple(check_number("etas", e, name) for e in group["etas"])
        if len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"{name}: invalid eta values: {group['etas']} (expected 0 < etaminus < 1 < etaplus)")
        sizes = tuple(check_number("step_sizes", s, name) for s in group["step_sizes"])
        if len(sizes) != 2 or not 0 <= sizes[0] <= sizes[1]:
            raise ValueError(f"{name}: invalid step_sizes: {group['step_sizes']} (expected 0 <= min <= max)")
        group["etas"] = etas
        group["step_sizes"] = sizes
        group["maximize"] = bool(group["maximize"])

    def _first_state(self, p, group):
        return {"prev": self._new_state(p), "step_size": self._new_state(p, group["lr"])}

    def _step_group(self, group):
        etaminus, etaplus = group["etas"]
        size_min, size_max = group["step_sizes"]
        for p, d, state in self._gradients(group):
            prev, step_size = state["prev"], state["step_size"]
            s = (d * prev).sign()
            # factors built in p's dtype: a Python float through where() would be rounded to float32
            factor = where(s > 0, full_like(s, etaplus), where(s < 0, full_like(s, etaminus), ones_like(s)))
            step_size.mul_(factor).clamp_(size_min, size_max)
            d = where(s < 0, zeros_like(d), d)
            p.sub_(d.sign() * step_size)
            prev.copy_(d)
