"""How an op is published: `@op` makes a function `ag.<name>` and `Tensor.<name>` in one definition.

`op` adds the name to the `__all__` of the module that applies it (the facade star-imports each
ops module, so that list is what `ag` gets) and installs the function as a Tensor method;
`op(method=False)` publishes a function that is no Tensor method (constructors, `ag.where`,
activations), and `tensor_method` a Tensor method that is no `ag.*` function. No ops module writes
its `__all__` by hand, so a composite op is its function (and its row in tests/op_db.py)."""
import sys

_tensor_cls = None
_pending = {}


def tensor_method(fn=None, *, name=None):
    """Attach fn to Tensor as a method (under its own name or `name`), without exporting it."""

    def deco(f):
        _attach(name or f.__name__, f)
        return f

    return deco(fn) if fn is not None else deco


def op(fn=None, *, name=None, method=True):
    """Publish fn as `ag.<name>` (its own name by default): listed in the calling module's `__all__`,
    and, unless method=False, attached to Tensor as `x.<name>(...)`. Returns fn unchanged, so an
    alias is `divide = op(div, name="divide")`."""
    # the module whose __all__ gets the name: the one calling op (a function of an ops module, such as
    # binary's row helper, has that module's globals too). fn.__module__ would be wrong for a
    # re-export, such as arrange's op(fliplr, ...) of shape's function.
    namespace = sys._getframe(1).f_globals

    def deco(f):
        n = name or f.__name__
        names = namespace.setdefault("__all__", [])
        if n not in names:
            names.append(n)
        if method:
            _attach(n, f)
        return f

    return deco(fn) if fn is not None else deco


def _attach(n, f):
    if _tensor_cls is not None:
        setattr(_tensor_cls, n, f)
    else:
        _pending[n] = f


def install(cls):
    global _tensor_cls
    _tensor_cls = cls
    for n, f in _pending.items():
        setattr(cls, n, f)
    _pending.clear()
