"""Matrix products: matmul (np.matmul rules), mm, bmm, outer, dot, linear. Backward passes use
transposed views, which the GEMM absorbs by packing (no transposed copies)."""
import math

from .. import _core
from .._core import TensorBase
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._grad import _grad_to
from ._registry import tensor_method

__all__ = ["addmm", "addmv", "baddbmm", "bmm", "dist", "dot", "einsum", "ger", "linear", "matmul", "mm", "mv", "outer",
           "vdot"]


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
                rows = math.prod(a2.shape[:-1])  # (not -1: with a size 0 in the shape it is ambiguous)
                gb = a2.reshape(rows, k).mT @ g2.reshape(rows, g2.shape[-1])
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
    # _graph(a, b) spelled out: its generator costs 0.5 us a call, 10% of a 64^3 product
    if state.enabled and (a.requires_grad or b.requires_grad):
        return MatMul.apply(a, b)
    return _core.matmul(a, b)


@tensor_method
def mm(a, b):
    """Matrix product of ``(n, m)`` and ``(m, p)`` matrices, giving ``(n, p)`` (no broadcasting;
    see :func:`matmul` for batches).

    Example:
        >>> ag.mm(ag.ones(2, 3), ag.ones(3, 4)).shape
        Size([2, 4])

    """
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


@tensor_method
def bmm(a, b):
    """Batched matrix product: ``(B, n, m) @ (B, m, p) -> (B, n, p)``, the batch sizes equal."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


@tensor_method
def mv(a, v):
    """Matrix-vector product: ``(n, m) @ (m,) -> (n,)``."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} and {tuple(v.shape)}")
    return matmul(a, v)


@tensor_method
def dot(a, b):
    """Inner product of two 1-d tensors of equal length: ``sum_i a_i b_i``, a 0-d tensor.

    Example:
        >>> ag.dot(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
        tensor(11.)

    """
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements")
    return matmul(a, b)


vdot = dot


@tensor_method
def outer(a, b):
    """Outer product of 1-d tensors: ``out[i, j] = a[i] * b[j]``, shape ``(len(a), len(b))`` (also
    ``ag.ger``).

    Example:
        >>> ag.outer(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0, -1.0]))
        tensor([[ 1.,  0., -1.],
                [ 2.,  0., -2.]])

    """
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
    x2 = x if x.ndim == 2 else x.reshape(math.prod(lead), x.shape[-1])  # (not -1: ambiguous when empty)
    if _graph(x2, weight, bias):
        y = Linear.apply(x2, weight, bias)
    elif bias is None:
        y = _core.matmul(x2, _core.transpose(weight, 0, 1))
    else:
        y = _core.addmm(bias, x2, _core.transpose(weight, 0, 1))
    return y if x.ndim == 2 else y.reshape(tuple(lead) + (weight.shape[0],))


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, with ``input`` broadcast to ``(n, p)``."""
    if _graph(input, mat1, mat2) or beta != 1 or alpha != 1:
        return beta * input + alpha * (mat1 @ mat2)
    return _core.addmm(input, mat1, mat2)


@tensor_method
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batched."""
    product = bmm(batch1, batch2)
    return product * alpha + input * beta if beta != 0 else product * alpha


@tensor_method
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    product = mv(mat, vec)
    return product * alpha + input * beta if beta != 0 else product * alpha


@tensor_method
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    return (input - other).norm(p)


# ------------------------------------------------------------------------------------------ einsum
def _einsum_parse(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, None, False
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands, {len(operands)} were given")
    # ellipsis: the same broadcast dims for every operand that has one, as one label per dim
    ell_labels = []
    nell = 0
    for t, x in zip(terms, operands):
        if "..." in t:
            nell = max(nell, x.dim() - (len(t) - 3))
    pool = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    ell_labels = pool[:nell]
    subs = []
    for k, (t, x) in enumerate(zip(terms, operands)):
        if t.count("...") > 1 or ("." in t.replace("...", "")):
            raise ValueError(f"einsum: bad ellipsis in operand {k} of {equation!r}")
        if "..." in t:
            n = x.dim() - (len(t) - 3)
            if n < 0:
                raise ValueError(f"einsum: operand {k} has {x.dim()} dims, fewer than {t!r} names")
            head, tail = t.split("...")
            labels = list(head) + ell_labels[nell - n:] + list(tail)
        else:
            labels = list(t)
        if len(labels) != x.dim():
            raise ValueError(f"einsum: operand {k} has shape {tuple(x.shape)} ({x.dim()} dims) but {t!r} names "
                             f"{len(labels)}")
        for c in labels:
            if not (c.isalpha() and c.isascii()):
                raise ValueError(f"einsum: subscripts must be letters, got {c!r} in {equation!r}")
        subs.append(labels)
    if explicit:
        if out.count("...") > 1 or ("." in out.replace("...", "")):
            raise ValueError(f"einsum: bad ellipsis in the output of {equation!r}")
        head, _, tail = out.partition("...")
        out_labels = list(head) + (ell_labels if "..." in out else []) + list(tail)
        seen = set()
        for c in out_labels:
            if c in seen or not any(c in s for s in subs):
                raise ValueError(f"einsum: output subscript {c!r} of {equation!r} is repeated or names no input dim")
            seen.add(c)
    else:
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out_labels = ell_labels + sorted(c for c, n in counts.items() if n == 1 and c not in ell_labels)
    return subs, out_labels


def _einsum_prepare(x, labels, keep):
    """Take diagonals of repeated labels and sum out labels that are in no other operand nor the
    output (keep: the labels needed later). Returns (tensor, labels)."""
    labels = list(labels)
    while True:
        dup = next((c for c in labels if labels.count(c) > 1), None)
        if dup is None:
            break
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        if x.shape[i] != x.shape[j]:
            raise ValueError(f"einsum: subscript {dup!r} is used for dims of sizes {x.shape[i]} and {x.shape[j]}")
        x = x.diagonal(0, i, j)  # the diagonal goes last
        labels = [c for k, c in enumerate(labels) if k not in (i, j)] + [dup]
    drop = [k for k, c in enumerate(labels) if c not in keep]
    if drop:
        x = x.sum(tuple(drop))
        labels = [c for k, c in enumerate(labels) if k not in drop]
    return x, labels


def _einsum_pair(a, la, b, lb, keep):
    """Contract a (labels la) with b (labels lb) into a tensor whose labels are returned too: labels in
    both and in keep are batch dims, in both and not in keep are summed, the rest stay. One bmm."""
    sizes = {}
    for x, ls in ((a, la), (b, lb)):
        for c, n in zip(ls, x.shape):
            if c in sizes and sizes[c] != n and 1 not in (sizes[c], n):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n}")
            sizes[c] = n if c not in sizes or sizes[c] == 1 else sizes[c]
    batch = [c for c in la if c in lb and c in keep]
    contract = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def arrange(x, ls, order):
        x = x.permute(*[ls.index(c) for c in order]) if ls != order else x
        return x.expand(*[sizes[c] for c in order])

    a2 = arrange(a, la, batch + left + contract)
    b2 = arrange(b, lb, batch + contract + right)
    nb = math.prod(sizes[c] for c in batch)
    nl = math.prod(sizes[c] for c in left)
    nc = math.prod(sizes[c] for c in contract)
    nr = math.prod(sizes[c] for c in right)
    out = matmul(a2.reshape(nb, nl, nc), b2.reshape(nb, nc, nr))
    labels = batch + left + right
    return out.reshape(*[sizes[c] for c in labels]), labels


def einsum(equation, *operands):
    """Einstein summation, as torch.einsum: einsum('bij,bjk->bik', a, b). Subscripts are letters, one
    per dim; '...' stands for broadcast leading (or inner) dims; without '->' the output holds the
    labels used once, in alphabetical order (after the ellipsis dims). A label repeated within one
    operand takes its diagonal ('ii->i', 'ii' is the trace). Operands are contracted left to right,
    each pair as one batched matrix product; differentiable through those ops."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: no operands")
    for k, x in enumerate(operands):
        if not isinstance(x, TensorBase):
            raise TypeError(f"einsum: operand {k} is a {type(x).__name__}, not a tensor")
    subs, out_labels = _einsum_parse(equation, operands)
    later = [set(out_labels)]  # labels needed after operand k: in the output or a later operand
    for s in reversed(subs[1:]):
        later.insert(0, later[0] | set(s))
    x, lx = _einsum_prepare(operands[0], subs[0], later[0] | (set(subs[1]) if len(subs) > 1 else set()))
    for k in range(1, len(operands)):
        keep_after = later[k]
        y, ly = _einsum_prepare(operands[k], subs[k], keep_after | set(lx))
        x, lx = _einsum_prepare(x, lx, keep_after | set(ly))
        x, lx = _einsum_pair(x, lx, y, ly, keep_after)
    x, lx = _einsum_prepare(x, lx, set(out_labels))
    if lx != out_labels:
        x = x.permute(*[lx.index(c) for c in out_labels])
    return x.clone() if x is operands[0] else x  # (never the operand object itself)
