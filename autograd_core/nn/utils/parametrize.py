"""nn.utils.parametrize, as PyTorch's: register_parametrization(module, "weight", p) makes
module.weight computed as p(original) on every access, with `original` the parameter it replaced
(kept under module.parametrizations.weight.original, or original0, original1, ... when
p.right_inverse splits it into several tensors). Several parametrizations on one tensor chain in
registration order. cached() computes each parametrized tensor once inside its block.

As in PyTorch, the module's class is swapped for a subclass with a property per parametrized name
(named Parametrized<Class>); remove_parametrizations restores a plain parameter.
"""
from contextlib import contextmanager

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..module import Module, ModuleDict, ModuleList, Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization", "remove_parametrizations",
           "type_before_parametrizations"]

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Inside this block each parametrized tensor is computed once and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, and its original value(s) as parameters `original` (or
    original0, original1, ... when right_inverse returns a tuple)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        requires_grad = original.requires_grad
        if self.is_tensor:
            self.register_parameter("original", Parameter(new.detach().clone(), requires_grad=requires_grad))
        else:
            for i, value in enumerate(new):
                self.register_parameter(f"original{i}", Parameter(value.detach().clone(), requires_grad=requires_grad))

    def right_inverse(self, value):
        """Set the original(s) so that the parametrized tensor becomes value."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif not self.unsafe:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse")
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}").copy_(v)

    def forward(self):
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _property(name):
    def getter(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(getter, setter)


def is_parametrized(module, tensor_name=None):
    """True when module (or its tensor_name) has a parametrization."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module):
    """The module's class before register_parametrization swapped it."""
    return getattr(type(module), "_original_class", type(module))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Compute module.<tensor_name> as parametrization(original) from now on; returns module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"register_parametrization: module {type(module).__name__} has no parameter or buffer with "
                         f"name '{tensor_name}'")
    if original is None:
        raise ValueError(f"register_parametrization: {type(module).__name__}.{tensor_name} is None")
    if not unsafe:
        with no_grad():
            out = parametrization(original)
        if not isinstance(out, Tensor) or tuple(out.shape) != tuple(original.shape) or out.dtype != original.dtype:
            raise ValueError(f"register_parametrization: the parametrization must return a tensor of the original's "
                             f"shape {tuple(original.shape)} and dtype {original.dtype} (use unsafe=True otherwise)")
    plist = ParametrizationList([parametrization], original, unsafe)
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if "parametrizations" not in module._modules:
        module._modules["parametrizations"] = ModuleDict()
    module.parametrizations[tensor_name] = plist
    cls = type(module)
    if not hasattr(cls, "_original_class"):
        cls = type(f"Parametrized{cls.__name__}", (cls,), {"_original_class": cls})
        object.__setattr__(module, "__class__", cls)
    setattr(cls, tensor_name, _property(tensor_name))
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Drop the parametrizations of tensor_name: the parameter becomes the current parametrized
    value (leave_parametrized=True) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} does not have a parametrization on "
                         f"{tensor_name}")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = plist()
        param = Parameter(value.detach().clone(), requires_grad=True)
    else:
        if not plist.is_tensor:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a single original tensor")
        param = plist.original
    cls = type(module)
    delattr(cls, tensor_name)
    del module.parametrizations[tensor_name]
    module._parameters[tensor_name] = param
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        object.__setattr__(module, "__class__", cls._original_class)
    return module

