"""Module, Parameter and the containers Sequential, ModuleList, ModuleDict.

A Module keeps its parameters, buffers and sub-modules in three ordered dicts, filled by plain
attribute assignment (`self.fc = Linear(2, 3)`). state_dict keys are the dotted attribute paths, the
same as PyTorch's, so a state dict moves between the two libraries.
"""
import copy
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _core
from ..autograd.grad_mode import no_grad
from ..device import parse_to, raise_cpu_only
from ..dtypes import bfloat16, float16, float32, float64, from_code, to_code
from ..ops.creation import empty, from_numpy
from ..tensor import Tensor, is_tensor


def _c_array(a):
    """C-contiguous array keeping 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")



class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute.

    `Parameter(data, requires_grad=True)` shares `data`'s storage (like PyTorch) and is a leaf.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}")
        t = Tensor.__new__(cls)
        _core.assign_meta(t, data.detach())
        t.requires_grad_(requires_grad)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        new = Parameter(_core.clone(self.detach()), requires_grad=self.requires_grad)
        if self.grad is not None:
            new.grad = _core.clone(self.grad.detach())
        memo[id(self)] = new
        return new


class _RemovableHandle:
    """Returned by register_*_hook; `handle.remove()` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = next(self._ids)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _check_name(kind, name, owner):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')


def _to_our_tensor(value, key):
    """state_dict values may be our Tensors, numpy arrays or anything np.asarray accepts (a torch tensor)."""
    if isinstance(value, Tensor):
        return value
    try:
        array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    except Exception as exc:
        raise TypeError(f"load_state_dict: value for key {key!r} is a {type(value).__name__}, "
                        "expected a Tensor or an array") from exc
    return from_numpy(_c_array(array))


class Module:
    """Base class of every layer and model: subclass it, assign layers and Parameters in __init__,
    write forward()."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ forward and hooks
    def forward(self, *args, **kwargs):
        """The computation of the module; every subclass defines it.

        Call the module (``model(x)``) rather than ``forward`` directly: the call also runs the
        registered hooks.
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook):
        """hook(module, args) -> None or replacement args; runs before forward."""
        handle = _RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook):
        """hook(module, args, output) -> None or replacement output; runs after forward."""
        handle = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Register ``param`` (a :class:`Parameter`, or None for an absent one) under ``name``.

        Assigning a Parameter as an attribute (``self.w = nn.Parameter(...)``) does the same.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name, self)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(ag.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"cannot assign non-leaf Tensor to parameter '{name}'")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is module state but not a parameter (running_mean); saved in state_dict when
        persistent."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not is_tensor(tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register the sub-module ``module`` under ``name`` (same as ``setattr(self, name, module)``).

        The name may not contain a dot; ``module`` may be None (a placeholder, as in PyTorch).
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name, self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self.__dict__.pop(name, None)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(ag.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            modules = self.__dict__.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self.__dict__.pop(name, None)
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            modules[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(ag.nn.Module or None expected)")
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not is_tensor(value):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(keys)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted name, module)`` for this module (name ``''``) and every module below it.

        Each module is yielded once even when it is reachable twice, unless ``remove_duplicate=False``.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            >>> [name for name, _ in net.named_modules()]
            ['', '0', '1']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """Yield this module and every module below it (see :meth:`named_modules`)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield ``(name, module)`` for the direct sub-modules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield the direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, e.g. ('0.weight', ...); shared parameters appear once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter (see :meth:`named_parameters`); give them to an optimizer.

        Example:
            >>> sum(p.numel() for p in nn.Linear(4, 3).parameters())
            15
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted name, tensor)`` for every registered buffer (running statistics and
        other state that is saved but not trained).
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every registered buffer (see :meth:`named_buffers`)."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """The sub-module at the dotted path ``target`` (``''`` is this module).

        Raises AttributeError naming the missing part.

        Example:
            >>> nn.Sequential(nn.Linear(2, 3), nn.ReLU()).get_submodule("1")
            ReLU()
        """
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {item!r} (looking up {target!r})")
            module = module._modules[item]
        return module

    def get_parameter(self, target):
        """The parameter at the dotted path ``target``, e.g. ``'0.weight'``; AttributeError if absent."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and all below it.

        Only layers that behave differently in training care (:class:`Dropout`, batch norm). Returns the
        module, so ``model.train()`` can be chained.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``. Dropout is off and batch norm uses its running
        statistics. It does not turn off gradient recording; use :func:`autograd_core.no_grad` too.

        Example:
            >>> m = nn.Dropout(0.5).eval()
            >>> m.training
            False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (False freezes the module); returns the module."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: set them to None (default) or, with
        ``set_to_none=False``, fill them with zeros.
        """
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                with no_grad():
                    param.grad = param.grad.detach()
                    param.grad.zero_()

    def share_memory(self):
        """A no-op returning self, for programs written for torch.multiprocessing: parameters are
        never placed in shared memory here, so processes that each train this module do not see
        each other's updates (see ag.multiprocessing)."""
        return self

    def apply(self, fn):
        """Call fn on every sub-module (children first, as PyTorch), then on self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype conversion
    def _apply_to_tensors(self, convert):
        """Convert every parameter in place (same Parameter objects, so an optimizer built before
        still holds them; like PyTorch's param.data = ...), gradients and buffers too."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                with no_grad():
                    data = convert(param.detach())
                    if data.dtype != param.dtype:
                        param.data = data
                    if param.grad is not None and convert(param.grad.detach()).dtype != param.grad.dtype:
                        param.grad = convert(param.grad.detach())
            for name, buf in list(module._buffers.items()):
                if buf is not None:
                    with no_grad():
                        module._buffers[name] = convert(buf)
        return self

    def to(self, *args, **kwargs):
        """Module.to(dtype), .to(device), .to(device, dtype) or .to(tensor): converts floating-point
        parameters and buffers (in PyTorch's way, ints such as num_batches_tracked stay). The only
        device is the CPU: asking for another raises. Returns self."""
        dtype, _ = parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        if not from_code(to_code(dtype, "Module.to")).is_floating_point:
            raise TypeError(f"Module.to: only floating point dtypes are allowed, got {dtype}")

        def convert(t):
            return t.to(dtype) if t.is_floating_point() else t
        return self._apply_to_tensors(convert)

    def float(self):
        """Convert floating-point parameters and buffers to float32; returns the module."""
        return self.to(float32)

    def double(self):
        """Convert floating-point parameters and buffers to float64 (for gradcheck); returns the module."""
        return self.to(float64)

    def half(self):
        """Convert floating-point parameters and buffers to float16; returns the module."""
        return self.to(float16)

    def bfloat16(self):
        """Convert floating-point parameters and buffers to bfloat16; returns the module."""
        return self.to(bfloat16)

    def cpu(self):
        """Return the module itself: everything already lives on the CPU."""
        return self

    def cuda(self, device=None):
        """Raise a RuntimeError: autograd_core runs on the CPU only (see ``ag.cuda``)."""
        raise_cpu_only("Module.cuda()", "cuda")

    # ------------------------------------------------------------------ state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Ordered dict of parameters and persistent buffers under PyTorch's key names; values are
        detached (sharing storage with the module) unless keep_vars."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers. Missing or unexpected keys raise
        (strict=True) or are reported in the returned (missing_keys, unexpected_keys); a shape
        mismatch always raises."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got {type(state_dict).__name__}")
        expected = OrderedDict()
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            base = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    expected[base + name] = (module, "_parameters", name)
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers_set:
                    expected[base + name] = (module, "_buffers", name)
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        values = {}
        for key, (module, store, name) in expected.items():
            if key not in state_dict:
                continue
            value = _to_our_tensor(state_dict[key], key)
            current = getattr(module, store)[name]
            if tuple(value.shape) != tuple(current.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                              f"from checkpoint, the shape in current model is {tuple(current.shape)}.")
                continue
            values[key] = (current, value)
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for current, value in values.values():
                if value.dtype != current.dtype:
                    value = value.to(current.dtype)
                current.copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the parentheses of this module's repr line; override in layers."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __deepcopy__(self, memo):
        """copy.deepcopy(module): parameters and buffers cloned (shared ones stay shared)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key == "_parameters":
                params = OrderedDict()
                for name, p in value.items():
                    if p is not None and id(p) not in memo:
                        memo[id(p)] = Parameter(p.detach().clone(), requires_grad=p.requires_grad)
                    params[name] = None if p is None else memo[id(p)]
                object.__setattr__(new, key, params)
            elif key == "_buffers":
                bufs = OrderedDict()
                for name, b in value.items():
                    if b is not None and id(b) not in memo:
                        memo[id(b)] = b.detach().clone()
                    bufs[name] = None if b is None else memo[id(b)]
                object.__setattr__(new, key, bufs)
            else:
                object.__setattr__(new, key, copy.deepcopy(value, memo))
        return new


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(2, 8), ReLU(), Linear(8, 1)) or from an OrderedDict."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def _index(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {n}")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        targets = keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]
        for key in targets:
            del self._modules[key]
        # keep numeric keys contiguous like PyTorch
        items = list(self._modules.items())
        self._modules.clear()
        for i, (key, module) in enumerate(items):
            self._modules[str(i) if key.isdigit() else key] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns the Sequential."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add each module of ``modules`` at the end; returns the Sequential."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; returns the Sequential."""
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} out of range for length {n}")
        if index < 0:
            index += n
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    def __setitem__(self, idx, module):
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else int(self._index(idx))]
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add ``module`` at the end; returns the ModuleList."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add each module of ``modules`` at the end; returns the ModuleList."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your own forward")


class ModuleDict(Module):
    """A dict of modules with registered parameters; keys keep insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def pop(self, key):
        """Remove the module under ``key`` and return it."""
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of ``(key, module)`` pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args):
        raise NotImplementedError("ModuleDict has no forward(); index it in your own forward")
