"""PyTorch's legacy typed-tensor constructors (FloatTensor, LongTensor, ...) and the torch-level
type predicates (is_floating_point, is_complex, is_nonzero).

`ag.FloatTensor(2, 3)` makes an uninitialised float32 tensor of that shape, `ag.FloatTensor([1, 2])`
one from data, `ag.FloatTensor()` an empty one; `isinstance(t, ag.FloatTensor)` is True for a
float32 tensor, as in PyTorch.
"""
import numbers

from . import dtypes
from .ops._registry import tensor_method
from .ops.creation import empty, tensor
from .tensor import Tensor


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype


class _TypedTensor(metaclass=_TypedTensorMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"{cls.__name__}: device {device!r} is not available; autograd_core runs on the CPU")
        if not args:
            return empty(0, dtype=cls.dtype)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=cls.dtype)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(cls.dtype)
            return tensor(data, dtype=cls.dtype)
        raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, got {args!r}")


def _typed(name, dtype):
    return _TypedTensorMeta(name, (_TypedTensor,), {"dtype": dtype, "__doc__": f"A {dtype.name} tensor (legacy constructor)."})


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
BoolTensor = _typed("BoolTensor", dtypes.bool_)
ByteTensor = _typed("ByteTensor", dtypes.uint8)


def is_floating_point(input):
    """True for a float tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input.dtype.is_floating_point


def is_complex(input):
    """False: autograd_core has no complex dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex(): argument 'input' must be Tensor, not {type(input).__name__}")
    return False


def _tensor_is_complex(self):
    """False: autograd_core has no complex dtype."""
    return False


def _tensor_byte(self):
    """A uint8 copy (Tensor.byte)."""
    return self.to(dtypes.uint8)


tensor_method(_tensor_is_complex, name="is_complex")
tensor_method(_tensor_byte, name="byte")


def is_nonzero(input):
    """The truth of a one-element tensor (an error for any other size)."""
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} "
                           f"is ambiguous")
    return bool(input.item())
