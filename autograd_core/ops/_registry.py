"""`tensor_method`: one definition gives both `ag.name(x, ...)` and `x.name(...)`."""

_tensor_cls = None
_pending = {}


def tensor_method(fn=None, *, name=None, function=True):
    """Attach fn to Tensor as a method (under its own name or `name`)."""

    def deco(f):
        n = name or f.__name__
        if _tensor_cls is not None:
            setattr(_tensor_cls, n, f)
        else:
            _pending[n] = f
        return f

    return deco(fn) if fn is not None else deco


def install(cls):
    global _tensor_cls
    _tensor_cls = cls
    for n, f in _pending.items():
        setattr(cls, n, f)
    _pending.clear()
