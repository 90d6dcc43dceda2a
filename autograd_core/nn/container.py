"""ParameterList and ParameterDict: parameters held in a list or dict and registered with the
module (so parameters(), state_dict() and optimizers see them), as in PyTorch. Plain tensors
assigned to them become Parameters."""
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module, Parameter


def _as_parameter(value):
    if isinstance(value, Parameter) or not isinstance(value, Tensor):
        return value
    return Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered under the names '0', '1', ..."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range for ParameterList of length {self._size}")
        return idx % self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, param):
        self._set(str(self._index(idx)), param)

    def _set(self, name, param):
        param = _as_parameter(param)
        if isinstance(param, Parameter):
            self._parameters.pop(name, None)
            self.register_parameter(name, param)
        else:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        """Add ``value`` at the end (a tensor becomes a :class:`Parameter`, registered under its index);
        returns the list.

        Example:
            >>> params = nn.ParameterList()
            >>> len(params.append(ag.zeros(2)))
            1
        """
        self._size += 1
        self._set(str(self._size - 1), value)
        return self

    def extend(self, values):
        """Append each element of the iterable ``values`` in order; returns the list.

        Example:
            >>> len(nn.ParameterList().extend([ag.zeros(2), ag.ones(3)]))
            2
        """
        if isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        lines = []
        for i, p in enumerate(self):
            if isinstance(p, Tensor):
                lines.append(f"({i}): Parameter containing: [{type(p).__name__} of size "
                             f"{'x'.join(str(s) for s in p.shape)} ({p.dtype.name})]")
            else:
                lines.append(f"({i}): Object of type: {type(p).__name__}")
        return "\n".join(lines)

    def forward(self, *args):
        raise NotImplementedError("ParameterList has no forward(); use its parameters in your own forward")


class ParameterDict(Module):
    """A dict of parameters (insertion-ordered), registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = OrderedDict()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self._parameters.pop(key, None)
            self.register_parameter(key, value)
        else:
            self._parameters.pop(key, None)
            object.__setattr__(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """``(key, parameter)`` pairs, in insertion order."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """The parameters, in insertion order."""
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        """The parameter under ``key``, or ``default`` when there is none.

        Example:
            >>> pd = nn.ParameterDict({"w": ag.ones(2)})
            >>> pd.get("b") is None
            True
        """
        return self[key] if key in self._keys else default

    def pop(self, key):
        """Remove the parameter under ``key`` and return it; ``KeyError`` when absent."""
        value = self[key]
        del self[key]
        return value

    def clear(self):
        """Remove every parameter."""
        for key in list(self._keys):
            del self[key]

    def setdefault(self, key, default=None):
        """The parameter under ``key``; when absent, first store ``default`` (made a Parameter if a tensor) under it."""
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, parameters):
        """Store each ``(key, value)`` of a mapping or an iterable of pairs, replacing values under existing keys."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def copy(self):
        """A new ParameterDict holding the same parameter objects (a shallow copy)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter containing: [{type(v).__name__} of size "
                         f"{'x'.join(str(s) for s in v.shape)} ({v.dtype.name})]" for k, v in self.items())

    def forward(self, *args):
        raise NotImplementedError("ParameterDict has no forward(); use its parameters in your own forward")
