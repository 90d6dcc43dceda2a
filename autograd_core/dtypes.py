"""dtype objects: ag.float32, ag.float64, ag.int64, ag.bool, ag.int32, ag.uint8, and the storage-only
floats ag.float16 (ag.half) and ag.bfloat16, which ops compute in float32 and round back to."""
import numpy as np

from . import _core


class dtype:
    """An element type: ``ag.float32``, ``ag.float64``, ``ag.int64``, ``ag.int32``, ``ag.uint8``, ``ag.bool``.

    Attributes: ``is_floating_point``, ``is_signed``, ``itemsize`` (bytes per element) and
    ``numpy`` (the matching NumPy dtype; None for bfloat16, which NumPy lacks). ``ag.float``,
    ``ag.double``, ``ag.half``, ``ag.long`` and ``ag.int`` are aliases, as in PyTorch.

    Example:
        >>> ag.float64.itemsize, ag.int64.is_floating_point
        (8, False)
    """

    __slots__ = ("code", "is_floating_point", "is_signed", "itemsize", "name", "numpy")

    def __init__(self, name, code, itemsize, is_floating_point, is_signed, numpy_dtype):
        self.name = name
        self.code = code
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.numpy = None if numpy_dtype is None else np.dtype(numpy_dtype)

    def __repr__(self):
        return f"autograd_core.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", _core.F32, 4, True, True, np.float32)
float64 = dtype("float64", _core.F64, 8, True, True, np.float64)
int64 = dtype("int64", _core.I64, 8, False, True, np.int64)
bool_ = dtype("bool", _core.BOOL, 1, False, False, np.bool_)
int32 = dtype("int32", _core.I32, 4, False, True, np.int32)
uint8 = dtype("uint8", _core.U8, 1, False, False, np.uint8)
float16 = dtype("float16", _core.F16, 2, True, True, np.float16)
bfloat16 = dtype("bfloat16", _core.BF16, 2, True, True, None)
float = float32
double = float64
half = float16
long = int64
int = int32

BY_CODE = (float32, float64, int64, bool_, int32, uint8, float16, bfloat16)
_NAMES = {d.name: d for d in BY_CODE}
_NAMES.update({"float": float32, "double": float64, "half": float16, "long": int64, "int": int32})


_default_float = [float32]


def get_default_dtype():
    """The dtype of floating tensors made without a dtype (Python floats, zeros, rand, layers)."""
    return _default_float[0]


def set_default_dtype(d):
    """Make float32 (the initial default) or float64 the default floating dtype."""
    if not isinstance(d, dtype):
        d = from_code(to_code(d, "set_default_dtype"))
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, and "
                        f"autograd_core computes in float32 or float64; got {d}")
    _default_float[0] = d


def default_float_code():
    return _default_float[0].code


def _by_name(name):
    return _NAMES[name]


def to_code(d, op="op"):
    """The C dtype code for an ag.dtype, a numpy dtype, a Python type or a name."""
    if isinstance(d, dtype):
        return d.code
    if isinstance(d, builtins_int) and not isinstance(d, builtins_bool) and 0 <= d < len(BY_CODE):
        return d
    if d is builtins_float:
        return _core.F32
    if d is builtins_int:
        return _core.I64
    if d is builtins_bool:
        return _core.BOOL
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d].code
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {d!r}") from None
    code = _core._NP_NAMES.get(nd.name)
    if code is None:
        raise TypeError(f"{op}: unsupported dtype {nd.name}; supported are float32, float64, float16, "
                        "bfloat16, int64, int32, uint8 and bool")
    return code


def from_code(code):
    return BY_CODE[code]


import builtins as _builtins

builtins_int = _builtins.int
builtins_float = _builtins.float
builtins_bool = _builtins.bool
