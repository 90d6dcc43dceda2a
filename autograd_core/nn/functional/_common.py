"""Argument checks and the in-place helper shared by the functional families."""
from ...tensor import Tensor


def _check_tensor(x, name, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")


def _check_float(x, op, name="input"):
    _check_tensor(x, name, op)
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point {name}, got {x.dtype}")


def _maybe_inplace(input, inplace, fn, op):
    """fn(input), or with inplace=True, input itself overwritten with it, as PyTorch's in-place forms
    do: a leaf that requires grad raises, the version counter is bumped (a backward that saved the old
    values raises), and in a graph input becomes the output of the op."""
    if not inplace:
        return fn(input)
    return input._inplace_op(fn, op)
