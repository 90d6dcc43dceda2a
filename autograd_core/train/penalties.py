"""Regularizers for fit's `regularizer=`: L2 (weight decay as a loss term) and L1 (lasso)."""


def _penalty(name, lam, include_bias, term):
    """lam * the sum of term(p) over the parameters (biases, the 1-d ones, only with include_bias)."""
    if lam < 0:
        raise ValueError(f"{name}: lam must be >= 0, got {lam!r}")

    def penalty(model):
        terms = [term(p) for p in model.parameters() if include_bias or p.ndim >= 2]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total * lam

    penalty.__name__ = f"{name}({lam:g})"
    return penalty


def l2_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of squared weights), biases (1-d parameters) left out by default.

    >>> model = nn.Linear(3, 1)
    >>> reg = ag.train.l2_penalty(1e-3)      # then: fit(model, loss, opt, data, regularizer=reg)
    >>> bool(ag.isclose(reg(model), 1e-3 * (model.weight ** 2).sum()))
    True
    """
    return _penalty("l2_penalty", lam, include_bias, lambda p: (p * p).sum())


def l1_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of absolute weights), the lasso penalty (biases left out).

    Plain gradient steps on it only shrink weights towards 0; for exact zeros use an optimizer's l1=.
    """
    return _penalty("l1_penalty", lam, include_bias, lambda p: p.abs().sum())
