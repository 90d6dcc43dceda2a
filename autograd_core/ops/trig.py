"""Inverse trigonometric functions (asin, acos, atan and their arc* aliases), with PyTorch's
names. The forward runs in NumPy in the input's dtype; the VJPs are written with Tensor ops:
asin' = 1 / sqrt(1 - x^2), acos' = -1 / sqrt(1 - x^2), atan' = 1 / (1 + x^2)."""
import numpy as np

from .._core import TensorBase
from ..autograd.function import Function
from ._registry import op
from .creation import from_numpy


def _forward(fn, x, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    a = np.asarray(x.detach())
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    with np.errstate(invalid="ignore"):
        return from_numpy(np.array(fn(a), dtype=a.dtype, order="C"))


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _forward(np.arcsin, x, "asin")

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (1 - x * x).rsqrt()


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _forward(np.arccos, x, "acos")

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * (1 - x * x).rsqrt()


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _forward(np.arctan, x, "atan")

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x * x)


def _float(x):
    return x if not isinstance(x, TensorBase) or x.is_floating_point() else x.float()


@op
def asin(x):
    """arcsin elementwise (NaN outside [-1, 1])."""
    return Asin.apply(_float(x))


@op
def acos(x):
    """arccos elementwise (NaN outside [-1, 1])."""
    return Acos.apply(_float(x))


@op
def atan(x):
    """arctan elementwise."""
    return Atan.apply(_float(x))


arcsin = op(asin, name="arcsin")
arccos = op(acos, name="arccos")
arctan = op(atan, name="arctan")
