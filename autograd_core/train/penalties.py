"""Regularizers for fit's `regularizer=`: L2 (weight decay as a loss term) and L1 (lasso)."""



def l2_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of squared weights), biases (1-d parameters) left out by default.

    >>> model = nn.Linear(3, 1)
    >>> reg = ag.train.l2_penalty(1e-3)      # then: fit(model, loss, opt, data, regularizer=reg)
    >>> bool(ag.isclose(reg(model), 1e-3 * (model.weight ** 2).sum()))
    True
    """
    if lam < 0:
        raise ValueError(f"l2_penalty: lam must be >= 0, got {lam!r}")

    def penalty(model):
        terms = [(p * p).sum() for p in model.parameters() if include_bias or p.ndim >= 2]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * lam

    penalty.__name__ = f"l2_penalty({lam:g})"
    return penalty


def l1_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of absolute weights), the lasso penalty (biases left out).

    Plain gradient steps on it only shrink weights towards 0; for exact zeros use an optimizer's l1=.
    """
    if lam < 0:
        raise ValueError(f"l1_penalty: lam must be >= 0, got {lam!r}")

    def penalty(model):
        terms = [p.abs().sum() for p in model.parameters() if include_bias or p.ndim >= 2]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * lam

    penalty.__name__ = f"l1_penalty({lam:g})"
    return penalty
