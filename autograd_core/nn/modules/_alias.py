"""The helper behind each file of ag.nn.modules."""
# ag.nn is still being initialised when its modules/ files load (nn/__init__ imports them first); the
# names are looked up on it at attribute-access time, when it is complete
from ... import nn


def exports(module_name, names):
    """A module __getattr__ / __dir__ pair serving `names` from ag.nn; a name PyTorch keeps in
    that file but ag.nn lacks raises an AttributeError naming the missing PyTorch class."""
    short = module_name.rpartition(".")[2]
    listed = frozenset(names)

    def __getattr__(name):
        if name in listed:
            try:
                return getattr(nn, name)
            except AttributeError:
                raise AttributeError(f"torch.nn.modules.{short}.{name} (torch.nn.{name}) is not provided by "
                                     "autograd_core") from None
        raise AttributeError(f"module 'torch.nn.modules.{short}' has no attribute {name!r} in autograd_core")

    def __dir__():
        return sorted(n for n in names if hasattr(nn, n))

    return __getattr__, __dir__
