"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch documents it:

    w = w * (1 - lr * weight_decay)                            (before the Adam update)
    then Adam's update with d = g (or -g under maximize), no L2 term in the gradient,
    then the L1 proximal step when l1 > 0 and w.ndim >= 2.

Same state as Adam ('step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq' with amsgrad); weight_decay
defaults to 1e-2.
"""
from .adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay; see the module docstring."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, l1=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, l1=l1)
