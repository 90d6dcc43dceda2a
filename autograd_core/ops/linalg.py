"""Matrix products: matmul (np.matmul rules), mm, bmm, outer, dot, linear. Backward passes use
transposed views, which the GEMM absorbs by packing (no transposed copies)."""
from .. import _core
from .._core import TensorBase
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._registry import tensor_method

__all__ = ["addmm", "bmm", "dot", "ger", "linear", "matmul", "mm", "mv", "outer", "vdot"]


def _graph(*xs):
    return state.enabled and any(isinstance(x, TensorBase) and x.requires_grad for x in xs)


class MatMul(Function):
    _core_forward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.ma, ctx.mb = (a.shape, a._dtype_code), (b.shape, b._dtype_code)
        return _core.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        from .binary import _grad_to

        a, b = ctx.saved_tensors
        ashape, bshape = ctx.ma[0], ctx.mb[0]
        if len(ashape) == 1 and len(bshape) == 1:
            ga = g * b if b is not None else None
            gb = g * a if a is not None else None
            return (_grad_to(ga, ctx.ma) if ga is not None else None,
                    _grad_to(gb, ctx.mb) if gb is not None else None)
        a2 = None if a is None else (a.unsqueeze(0) if a.ndim == 1 else a)
        b2 = None if b is None else (b.unsqueeze(-1) if b.ndim == 1 else b)
        g2 = g
        if len(ashape) == 1:
            g2 = g2.unsqueeze(-2)
        if len(bshape) == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g2 @ b2.mT
            if len(ashape) == 1:
                ga = _grad_to(ga, ((1, ashape[0]), ctx.ma[1])).reshape(ashape)
            else:
                ga = _grad_to(ga, ctx.ma)
        if ctx.needs_input_grad[1]:
            if len(bshape) == 2 and a2.ndim > 2:
                # a batch of rows against one matrix: fold the batch into M (one GEMM, no sum over copies)
                k = a2.shape[-1]
                gb = a2.reshape(-1, k).mT @ g2.reshape(-1, g2.shape[-1])
                gb = _grad_to(gb, ctx.mb)
            elif len(bshape) == 1:
                gb = _grad_to(a2.mT @ g2, ((bshape[0], 1), ctx.mb[1])).reshape(bshape)
            else:
                gb = _grad_to(a2.mT @ g2, ctx.mb)
        return ga, gb


@tensor_method
def matmul(a, b):
    """Matrix product with np.matmul's rules: 1-d operands are treated as vectors, leading batch dims
    broadcast."""
    if not isinstance(a, TensorBase) or not isinstance(b, TensorBase):
        raise TypeError(f"matmul: expected tensors, got {type(a).__name__} and {type(b).__name__}")
    if _graph(a, b):
        return MatMul.apply(a, b)
    return _core.matmul(a, b)


@tensor_method
def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


@tensor_method
def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


@tensor_method
def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} and {tuple(v.shape)}")
    return matmul(a, v)


@tensor_method
def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements")
    return matmul(a, b)


vdot = dot


@tensor_method
def outer(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return a.unsqueeze(1) * b.unsqueeze(0)


ger = outer


class Linear(Function):
    """y = x @ w.T + b for 2-D x, as one GEMM with the bias pre-loaded into the output."""

    _core_forward = True

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.has_bias = b is not None
        if b is None:
            return _core.matmul(x, _core.transpose(w, 0, 1))
        return _core.addmm(b, x, _core.transpose(w, 0, 1))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g @ w if ctx.needs_input_grad[0] else None
        gw = g.mT @ x if ctx.needs_input_grad[1] else None
        gb = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb


def linear(x, weight, bias=None):
    """x @ weight.T + bias over the last dim of x (any number of leading dims)."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input has {x.shape[-1] if x.ndim else 0} features in its last dimension "
                           f"(shape {tuple(x.shape)}) but the layer expects in_features={weight.shape[1]} "
                           f"(weight shape {tuple(weight.shape)})")
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ()):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not match out_features="
                           f"{weight.shape[0]}")
    lead = x.shape[:-1]
    x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    if _graph(x2, weight, bias):
        y = Linear.apply(x2, weight, bias)
    elif bias is None:
        y = _core.matmul(x2, _core.transpose(weight, 0, 1))
    else:
        y = _core.addmm(bias, x2, _core.transpose(weight, 0, 1))
    return y if x.ndim == 2 else y.reshape(tuple(lead) + (weight.shape[0],))


def addmm(input, mat1, mat2, beta=1, alpha=1):
    if _graph(input, mat1, mat2) or beta != 1 or alpha != 1:
        return beta * input + alpha * (mat1 @ mat2)
    return _core.addmm(input, mat1, mat2)
