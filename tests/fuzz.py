"""Differential fuzzer: random cases of the public API compared with PyTorch (NumPy when PyTorch is
not installed), each run in a worker process so that a crash is reported with its case, not lost.

A case is one op called on generated inputs: dtypes float32, float64, int64, int32, uint8 and bool;
shapes empty, 0-d, broadcast and of high rank; layouts contiguous, transposed, sliced (step 2),
expanded (stride 0) and reversed (negative strides, through from_numpy); values with NaN, +-inf,
-0.0, huge and tiny numbers mixed in. Hypothesis draws the case's description (op, shapes, dtypes,
layouts, parameters, a seed for the values); the worker rebuilds the inputs from it, runs the op in
both libraries and compares: whether each raises, then dtypes, shapes and values, then the
gradients of every floating point input for one random output gradient.

Outcomes: ok, both_raise, crash (the worker died; restarted), hang, and the mismatches: ag_raises
(PyTorch gives a result, we raise), ref_raises (we accept what PyTorch rejects), dtype, shape, value,
grad. A mismatch that docs/differences.md explains is matched by a rule in KNOWN and counted as
documented. The short run in tests/test_fuzz.py fails on any crash, hang or undocumented mismatch.

The long run:  python -m tests.fuzz --cases 500000 [--seed 0] [--ops exp,fmod] [--show 20]
prints the counts by outcome and by op, and the first failing cases of each kind (each with the
command that replays it)."""
import argparse
import math
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections import Counter, defaultdict, deque

import numpy as np

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL = FLOATS + INTS + ("bool",)
NUMERIC = FLOATS + INTS
LAYOUTS = ("contiguous", "transposed", "sliced", "expanded", "reversed")


# ============================================================================ the op table
class Op:
    """call(lib, *inputs, **params) runs the op in autograd_core or torch (they share the API; `ref`
    overrides for torch where they do not). np_ref(*arrays, **params) is the NumPy reference used when
    torch is missing (None: the case is skipped then)."""

    def __init__(self, name, call, arity=1, dtypes=ALL, grad=True, params=None, ref=None, np_ref=None,
                 rank=(0, 4), tol=1.0, shapes="broadcast", sums=0, exact=None, plain_ref=False):
        self.name, self.call, self.arity, self.dtypes, self.grad = name, call, arity, dtypes, grad
        self.params = params or (lambda draw, shape: {})
        self.ref, self.np_ref, self.rank, self.tol, self.shapes = ref, np_ref, rank, tol, shapes
        # an op that adds up many terms (sum, matmul: sums=1; var, sums of squares: 2) is only as
        # exact as its largest term, max|input|^sums: the tolerance scales with that, not the result
        self.sums = sums
        # exact(arrays, params, grads_out or None): the op's exact outputs (or, given the output
        # gradients, the exact input gradients), from extended-precision arithmetic: a mismatch where
        # ours is exact and the reference is not is marked [exact]
        self.exact = exact
        # plain_ref: on a mismatch, PyTorch is asked again with oneDNN off (its plain sums of products):
        # a match there is marked [oneDNN]
        self.plain_ref = plain_ref


def F(lib):
    return lib.nn.functional


def _unary(name, dtypes=ALL, grad=True, np_ref=None, tol=1.0, functional=False, **kw):
    if functional:
        return Op(name, lambda lib, x, **p: getattr(F(lib), name)(x, **p), dtypes=dtypes, grad=grad,
                  np_ref=np_ref, tol=tol, **kw)
    return Op(name, lambda lib, x, **p: getattr(lib, name)(x, **p), dtypes=dtypes, grad=grad, np_ref=np_ref,
              tol=tol, **kw)


def _binary(name, dtypes=ALL, grad=True, np_ref=None, tol=1.0, **kw):
    return Op(name, lambda lib, a, b, **p: getattr(lib, name)(a, b, **p), arity=2, dtypes=dtypes, grad=grad,
              np_ref=np_ref, tol=tol, **kw)


def _dim_param(draw, shape, optional=True, key="dim"):
    import hypothesis.strategies as st

    nd = max(len(shape), 1)
    choices = st.integers(-nd - 1, nd)  # one past each end: the error path
    if optional:
        choices = st.one_of(st.none(), choices)
    return {key: draw(choices)}


def _reduce_params(keepdim=True, optional=True):
    def params(draw, shape):
        import hypothesis.strategies as st

        p = _dim_param(draw, shape, optional)
        if keepdim and p["dim"] is not None:
            p["keepdim"] = draw(st.booleans())
        if p["dim"] is None:
            del p["dim"]
        return p

    return params


def _floats(*values):
    import hypothesis.strategies as st

    return st.sampled_from(values)


def _clamp_params(draw, shape):
    bounds = _floats(None, -1.0, 0.0, 0.5, 2.0, math.nan, -math.inf, math.inf, 3)
    lo, hi = draw(bounds), draw(bounds)
    if lo is None and hi is None:
        lo = -0.5
    return {"min": lo, "max": hi}


def _pad_params(draw, shape):
    import hypothesis.strategies as st

    k = draw(st.integers(1, max(1, min(len(shape), 3))))
    pads = tuple(draw(st.integers(-3, 3)) for _ in range(2 * k))
    return {"pad": pads, "mode": draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))}


def _prod_exact(arrays, params, grads_out=None):
    """prod over params["dim"] in long double; with grads_out, each element's gradient: the output
    gradient times the product of the *other* elements of its slice."""
    (x,) = arrays
    if x.dtype.kind != "f":
        return None
    dim, keepdim = params["dim"], params.get("keepdim", False)
    xl = np.moveaxis(x.astype(np.longdouble), dim, -1)
    with np.errstate(all="ignore"):
        if grads_out is None:
            out = np.prod(xl, axis=-1, keepdims=True)
            out = np.moveaxis(out, -1, dim)
            return [(out if keepdim else np.squeeze(out, dim)).astype(x.dtype)]
        g = np.asarray(grads_out[0], dtype=np.longdouble)
        g = np.moveaxis(g if keepdim else np.expand_dims(g, dim), dim, -1)
        n = xl.shape[-1]
        others = np.stack([np.prod(np.delete(xl, i, axis=-1), axis=-1) for i in range(n)], -1) if n else xl
        return [np.moveaxis(g * others, -1, dim).astype(x.dtype)]


def _sum_exact(arrays, params, grads_out=None, mean=False):
    """sum (or mean) over params["dim"] (None: all) in long double, where no float32 or float64 sum
    overflows: the result is inf only for infinite inputs of one sign or a true sum beyond the dtype's
    range, NaN only for a NaN or both infinities."""
    (x,) = arrays
    if x.dtype.kind != "f" or grads_out is not None:
        return None
    dim = params.get("dim")
    with np.errstate(all="ignore"):
        out = (np.mean if mean else np.sum)(x.astype(np.longdouble), axis=dim, keepdims=params.get("keepdim", False))
    return [np.asarray(out).astype(x.dtype)]


def _norm_exact(arrays, params, grads_out=None):
    """The 2-norm over params["dim"] (None: all) in long double, whose range holds the square of every
    float64; with grads_out, the input gradient g * x / norm (0 where the norm is 0)."""
    (x,) = arrays
    if x.dtype.kind != "f":
        return None
    dim, keepdim = params.get("dim"), params.get("keepdim", False)
    xl = x.astype(np.longdouble)
    with np.errstate(all="ignore"):
        norm = np.sqrt(np.sum(xl * xl, axis=dim, keepdims=True))
        if grads_out is None:
            return [np.asarray(norm if keepdim else np.sum(norm, axis=dim)).astype(x.dtype)]
        g = np.asarray(grads_out[0], dtype=np.longdouble)
        if not keepdim:
            g = g.reshape(norm.shape)
        grad = np.where(norm == 0, 0, g * xl / np.where(norm == 0, 1, norm))
    return [grad.astype(x.dtype)]


def _var_exact(arrays, params, grads_out=None):
    """var over params["dim"] (None: all; correction 1) in long double, whose sums of float32 or float64
    values cannot overflow; with grads_out, the input gradient 2 g (x - mean) / (n - 1), whose mean is
    then +-inf beside an infinite element (not NaN from an overflowed partial sum)."""
    (x,) = arrays
    dim, keepdim = params.get("dim"), params.get("keepdim", False)
    n = x.size if dim is None else x.shape[dim]
    if x.dtype.kind != "f" or n < 2:
        return None
    xl = x.astype(np.longdouble)
    with np.errstate(all="ignore"):
        mean = np.mean(xl, axis=dim, keepdims=True)
        if grads_out is None:
            v = np.sum((xl - mean) ** 2, axis=dim, keepdims=keepdim) / (n - 1)
            return [np.asarray(v).astype(x.dtype)]
        g = np.asarray(grads_out[0], dtype=np.longdouble).reshape(mean.shape)
        return [(g * (2.0 / (n - 1)) * (xl - mean)).astype(x.dtype)]


def _pad_call(lib, x, pad, mode):
    return F(lib).pad(x, pad, mode=mode)


def _diag_params(draw, shape):
    import hypothesis.strategies as st

    nd = max(len(shape), 1)
    return {"offset": draw(st.integers(-3, 3)), "dim1": draw(st.integers(-nd, nd - 1)),
            "dim2": draw(st.integers(-nd, nd - 1))}


def _diag_embed_params(draw, shape):
    import hypothesis.strategies as st

    nd = len(shape) + 1
    return {"offset": draw(st.integers(-2, 2)), "dim1": draw(st.integers(-nd, nd - 1)),
            "dim2": draw(st.integers(-nd, nd - 1))}


def _offset_param(draw, shape):
    import hypothesis.strategies as st

    return {"offset": draw(st.integers(-3, 3))}


def _chunk_params(draw, shape):
    import hypothesis.strategies as st

    p = _dim_param(draw, shape, optional=False)
    p["chunks"] = draw(st.integers(1, 5))
    return p


def _embedding_call(lib, weight, idx, padding_idx):
    return F(lib).embedding(idx, weight, padding_idx=padding_idx)


def _embedding_params(draw, shape):
    import hypothesis.strategies as st

    n = shape[0] if shape else 0
    return {"padding_idx": draw(st.one_of(st.none(), st.integers(-n - 1, n)))}


def _cosine_params(draw, shape):
    import hypothesis.strategies as st

    p = _dim_param(draw, shape, optional=False)
    p["eps"] = draw(st.sampled_from([1e-8, 1e-3]))
    return p


def _multinomial_call(lib, p, num_samples, replacement):
    # the draws differ between the libraries; what must agree is whether it raises, the shape and dtype,
    # and that a class of probability 0 is never drawn (the value compared is that fact, per draw)
    out = lib.multinomial(p, num_samples, replacement=replacement)
    picked = lib.gather(p.reshape(-1, p.shape[-1]), 1, out.reshape(-1, num_samples))
    return picked > 0


def _multinomial_params(draw, shape):
    import hypothesis.strategies as st

    return {"num_samples": draw(st.integers(1, 4)), "replacement": draw(st.booleans())}


def _sdpa_call(lib, q, mask):
    k = q * 0.5
    return F(lib).scaled_dot_product_attention(q, k, q, attn_mask=mask > 0)


def _conv_params(draw, shape):
    import hypothesis.strategies as st

    return {"stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, 2)),
            "dilation": draw(st.integers(1, 2))}


def _pool_params(draw, shape):
    import hypothesis.strategies as st

    k = draw(st.integers(1, 3))
    return {"kernel_size": k, "stride": draw(st.integers(1, 3)), "padding": draw(st.integers(0, k // 2))}


def _cross_entropy_call(lib, x):
    # the targets come from the input's own values, so both libraries see the same ones
    target = (x.detach().abs() * 7).nan_to_num(0.0, 0.0, 0.0).sum(-1).long() % max(x.shape[-1], 1)
    return F(lib).cross_entropy(x, target)


def _index(lib, x, dim):
    n = x.shape[dim]
    idx = lib.tensor([i % n for i in (0, n - 1, 1, 0)] if n else [], dtype=lib.int64)
    return lib.index_select(x, dim, idx)


def _fmod_like(name):
    return _binary(name, dtypes=NUMERIC, tol=4.0)


def _scalar_op(name, scalar):
    return Op(f"{name}_scalar", lambda lib, x, s=scalar, n=name: getattr(lib, n)(x, s), dtypes=ALL)


OPS = [
    # ---- unary math
    _unary("neg", dtypes=NUMERIC, np_ref=np.negative),
    _unary("abs", dtypes=NUMERIC, np_ref=np.abs),
    _unary("sign", np_ref=np.sign),
    _unary("square", np_ref=np.square),
    _unary("exp", np_ref=np.exp),
    _unary("exp2"),
    _unary("expm1", np_ref=np.expm1),
    _unary("log", np_ref=np.log),
    _unary("log1p", np_ref=np.log1p),
    _unary("log2", np_ref=np.log2),
    _unary("log10", np_ref=np.log10),
    _unary("sqrt", np_ref=np.sqrt),
    _unary("rsqrt"),
    _unary("reciprocal"),
    _unary("sin", np_ref=np.sin, tol=4.0),
    _unary("cos", np_ref=np.cos, tol=4.0),
    _unary("tan", np_ref=np.tan, tol=8.0),
    _unary("tanh", np_ref=np.tanh),
    _unary("sinh", np_ref=np.sinh),
    _unary("cosh", np_ref=np.cosh),
    _unary("sigmoid"),
    _unary("erf"),
    _unary("logit"),
    _unary("floor", dtypes=NUMERIC, np_ref=np.floor),
    _unary("ceil", dtypes=NUMERIC, np_ref=np.ceil),
    _unary("round", dtypes=NUMERIC, np_ref=np.round),
    _unary("trunc", dtypes=NUMERIC, np_ref=np.trunc),
    _unary("frac", dtypes=FLOATS),
    _unary("isnan", np_ref=np.isnan, grad=False),
    _unary("isinf", np_ref=np.isinf, grad=False),
    _unary("isfinite", np_ref=np.isfinite, grad=False),
    _unary("logical_not", np_ref=np.logical_not, grad=False),
    _unary("nan_to_num"),
    _unary("relu", dtypes=NUMERIC),
    Op("clamp", lambda lib, x, **p: lib.clamp(x, **p), dtypes=NUMERIC, params=_clamp_params),
    Op("clamp_tensor", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), arity=3, dtypes=FLOATS),
    # ---- activations (nn.functional)
    _unary("relu6", functional=True, dtypes=NUMERIC),
    _unary("hardtanh", functional=True, dtypes=NUMERIC),
    # (PyTorch's float64 hardsigmoid gradient uses a float32 constant 1/6: a relative error of 3e-8)
    _unary("hardsigmoid", functional=True, dtypes=FLOATS, tol=1e3),
    _unary("hardswish", functional=True, dtypes=FLOATS),
    _unary("elu", functional=True, dtypes=FLOATS),
    _unary("selu", functional=True, dtypes=FLOATS),
    _unary("celu", functional=True, dtypes=FLOATS),
    _unary("silu", functional=True, dtypes=FLOATS),
    _unary("gelu", functional=True, dtypes=FLOATS),
    _unary("mish", functional=True, dtypes=FLOATS),
    _unary("softplus", functional=True, dtypes=FLOATS),
    _unary("softsign", functional=True, dtypes=FLOATS),
    _unary("tanhshrink", functional=True, dtypes=FLOATS),
    _unary("logsigmoid", functional=True, dtypes=FLOATS),
    _unary("softshrink", functional=True, dtypes=FLOATS),
    _unary("hardshrink", functional=True, dtypes=FLOATS),
    _unary("leaky_relu", functional=True, dtypes=FLOATS),
    Op("prelu", lambda lib, x: F(lib).prelu(x, lib.tensor([0.25], dtype=x.dtype)), dtypes=FLOATS, rank=(1, 4)),
    # ---- binary
    _binary("add", np_ref=np.add),
    _binary("sub", dtypes=NUMERIC, np_ref=np.subtract),
    _binary("mul", np_ref=np.multiply),
    _binary("div", np_ref=np.true_divide),
    _binary("floor_divide", dtypes=NUMERIC),
    _fmod_like("remainder"),
    _fmod_like("fmod"),
    _binary("pow", dtypes=NUMERIC, tol=100.0),
    _binary("maximum", np_ref=np.maximum),
    _binary("minimum", np_ref=np.minimum),
    _binary("fmax", dtypes=NUMERIC, np_ref=np.fmax),
    _binary("fmin", dtypes=NUMERIC, np_ref=np.fmin),
    _binary("atan2", tol=4.0),
    _binary("eq", np_ref=np.equal, grad=False),
    _binary("ne", np_ref=np.not_equal, grad=False),
    _binary("lt", np_ref=np.less, grad=False),
    _binary("le", np_ref=np.less_equal, grad=False),
    _binary("gt", np_ref=np.greater, grad=False),
    _binary("ge", np_ref=np.greater_equal, grad=False),
    _binary("logical_and", np_ref=np.logical_and, grad=False),
    _binary("logical_or", np_ref=np.logical_or, grad=False),
    _binary("logical_xor", np_ref=np.logical_xor, grad=False),
    Op("where", lambda lib, c, a, b: lib.where(c > 0, a, b), arity=3),
    _scalar_op("add", 2.5), _scalar_op("mul", -3), _scalar_op("div", 0.0), _scalar_op("pow", 2),
    _scalar_op("remainder", -2.5), _scalar_op("fmod", 3),
    # ---- reductions
    Op("sum", lambda lib, x, **p: x.sum(**p), params=_reduce_params(), sums=1, exact=_sum_exact),
    Op("mean", lambda lib, x, **p: x.mean(**p), dtypes=FLOATS, params=_reduce_params(), sums=1,
       exact=lambda a, p, g=None: _sum_exact(a, p, g, mean=True)),
    Op("prod", lambda lib, x, **p: x.prod(**p), params=_reduce_params(optional=False), tol=4.0, exact=_prod_exact),
    Op("amax", lambda lib, x, **p: x.amax(**p), dtypes=NUMERIC, params=_reduce_params()),
    Op("amin", lambda lib, x, **p: x.amin(**p), dtypes=NUMERIC, params=_reduce_params()),
    Op("max", lambda lib, x, **p: x.max(**p), dtypes=NUMERIC, params=_reduce_params()),
    Op("min", lambda lib, x, **p: x.min(**p), dtypes=NUMERIC, params=_reduce_params()),
    Op("argmax", lambda lib, x, **p: x.argmax(**p), dtypes=NUMERIC, params=_reduce_params(), grad=False),
    Op("var", lambda lib, x, **p: x.var(**p), dtypes=FLOATS, params=_reduce_params(), tol=4.0, sums=2,
       exact=_var_exact),
    Op("std", lambda lib, x, **p: x.std(**p), dtypes=FLOATS, params=_reduce_params(), tol=4.0, sums=1),
    Op("logsumexp", lambda lib, x, **p: x.logsumexp(**p), dtypes=FLOATS, params=_reduce_params(optional=False),
       sums=1),
    Op("norm", lambda lib, x, **p: x.norm(**p), dtypes=FLOATS, params=_reduce_params(), exact=_norm_exact),
    Op("all", lambda lib, x, **p: x.all(**p), params=_reduce_params(), grad=False),
    Op("any", lambda lib, x, **p: x.any(**p), params=_reduce_params(), grad=False),
    Op("cumsum", lambda lib, x, **p: x.cumsum(**p), dtypes=NUMERIC,
       params=lambda d, s: _dim_param(d, s, optional=False), sums=1),
    Op("softmax", lambda lib, x, **p: x.softmax(**p), dtypes=FLOATS,
       params=lambda d, s: _dim_param(d, s, optional=False)),
    Op("log_softmax", lambda lib, x, **p: x.log_softmax(**p), dtypes=FLOATS,
       params=lambda d, s: _dim_param(d, s, optional=False), sums=1),
    Op("median", lambda lib, x: x.median(), dtypes=NUMERIC),
    Op("median_dim", lambda lib, x, **p: x.median(**p)[0], dtypes=NUMERIC,
       params=lambda d, s: _dim_param(d, s, optional=False)),
    Op("sort", lambda lib, x, **p: x.sort(**p)[0], dtypes=NUMERIC,
       params=lambda d, s: _dim_param(d, s, optional=False)),
    Op("unique", lambda lib, x: lib.unique(x, return_counts=True), dtypes=NUMERIC, grad=False),
    # ---- shape
    Op("diagonal", lambda lib, x, **p: lib.diagonal(x, **p), params=_diag_params, rank=(2, 4)),
    Op("diag", lambda lib, x, offset: lib.diag(x, offset), rank=(1, 2), params=_offset_param),
    Op("diag_embed", lambda lib, x, **p: lib.diag_embed(x, **p), params=_diag_embed_params, rank=(1, 3)),
    Op("trace", lambda lib, x: lib.trace(x), dtypes=NUMERIC, rank=(2, 2), sums=1),
    Op("tril", lambda lib, x: lib.tril(x), rank=(2, 3)),
    Op("triu", lambda lib, x: lib.triu(x, 1), rank=(2, 3)),
    Op("flip", lambda lib, x, **p: lib.flip(x, [p["dim"]]), params=lambda d, s: _dim_param(d, s, False),
       rank=(1, 4)),
    Op("roll", lambda lib, x, **p: lib.roll(x, 2, p["dim"]), params=lambda d, s: _dim_param(d, s, False),
       rank=(1, 4)),
    Op("chunk", lambda lib, x, **p: x.chunk(**p), params=_chunk_params, rank=(1, 4)),
    Op("cat", lambda lib, a, b: lib.cat([a, b], -1), arity=2, shapes="same", rank=(1, 4)),
    Op("stack", lambda lib, a, b: lib.stack([a, b], 0), arity=2, shapes="same"),
    Op("transpose_contiguous", lambda lib, x: x.transpose(0, -1).contiguous() * 1, rank=(1, 4), dtypes=NUMERIC),
    Op("reshape_flat", lambda lib, x: x.reshape(-1), rank=(0, 5)),
    # ---- nn
    Op("matmul", lambda lib, a, b: a @ b, arity=2, dtypes=FLOATS, shapes="matmul", tol=8.0, sums=2),
    # (tol: x / |x| amplifies float32 rounding by 1 / |x| in the gradient, and eps = 1e-8 allows tiny |x|)
    Op("cosine_similarity", lambda lib, a, b, **p: F(lib).cosine_similarity(a, b, **p), arity=2,
       dtypes=FLOATS, params=_cosine_params, rank=(1, 3), tol=300.0),
    Op("pad", _pad_call, dtypes=FLOATS, params=_pad_params, rank=(1, 4)),
    Op("embedding", _embedding_call, arity=2, dtypes=FLOATS, shapes="embedding", params=_embedding_params),
    Op("multinomial", _multinomial_call, dtypes=FLOATS, grad=False, rank=(1, 2), shapes="probs",
       params=_multinomial_params),
    Op("sdpa", _sdpa_call, arity=2, dtypes=FLOATS, shapes="attention", tol=8.0, sums=2),
    Op("linear", lambda lib, x, w: F(lib).linear(x, w), arity=2, dtypes=FLOATS, shapes="linear", tol=8.0, sums=2),
    Op("conv1d", lambda lib, x, w, **p: F(lib).conv1d(x, w, **p), arity=2, dtypes=FLOATS, shapes="conv1d",
       params=_conv_params, tol=8.0, sums=2, plain_ref=True),
    Op("max_pool1d", lambda lib, x, **p: F(lib).max_pool1d(x, **p), dtypes=FLOATS, rank=(2, 3),
       params=_pool_params),
    Op("avg_pool1d", lambda lib, x, **p: F(lib).avg_pool1d(x, **p), dtypes=FLOATS, rank=(2, 3),
       params=_pool_params, sums=1),
    Op("layer_norm", lambda lib, x: F(lib).layer_norm(x, x.shape[-1:]), dtypes=FLOATS, rank=(1, 4), tol=8.0,
       sums=1),
    Op("mse_loss", lambda lib, a, b: F(lib).mse_loss(a, b), arity=2, dtypes=FLOATS, shapes="same", sums=2),
    Op("cross_entropy", _cross_entropy_call, dtypes=FLOATS, rank=(2, 2), sums=1),
    Op("index_select", lambda lib, x, **p: _index(lib, x, p["dim"]), params=lambda d, s: _dim_param(d, s, False),
       rank=(1, 4)),
    Op("softmin", lambda lib, x, **p: F(lib).softmin(x, **p), dtypes=FLOATS,
       params=lambda d, s: _dim_param(d, s, optional=False)),
    Op("normalize", lambda lib, x, **p: F(lib).normalize(x, **p), dtypes=FLOATS, rank=(1, 3),
       params=lambda d, s: _dim_param(d, s, optional=False), tol=8.0),
]
OPS_BY_NAME = {op.name: op for op in OPS}


# ============================================================================ documented differences
def _known(case, outcome, detail):
    """The section of docs/differences.md that explains this mismatch, or None."""
    for ops, outcomes, test, doc in KNOWN:
        if (ops is None or case["op"] in ops) and outcome in outcomes and (test is None or test(case, detail)):
            return doc
    return None


def _huge_input(case):
    """An input whose square overflows its dtype (PyTorch's norms then overflow; ours rescale)."""
    limit = {"float32": 1.8e19, "float64": 1.3e154}
    return any(a.dtype.kind == "f" and np.any(np.isfinite(a) & (np.abs(a) > limit[str(a.dtype)]))
               for a in make_arrays(case))


def _squares_underflow(case):
    """An input with a non-zero value whose square underflows its dtype below the smallest normal
    (PyTorch's norms then lose it, or round the whole sum of squares to 0; ours rescale)."""
    for a in make_arrays(case):
        if a.dtype.kind == "f":
            tiny = math.sqrt(float(np.finfo(a.dtype).tiny))
            fin = np.abs(a[np.isfinite(a)]).astype(np.float64)
            if np.any((fin > 0) & (fin < tiny)):
                return True
    return False


def _inf_weight_with_padding(case):
    return case["params"].get("padding", 0) > 0 and not np.isfinite(make_arrays(case)[1]).all()


def _pad_output_empty(case):
    """F.pad's result has a dimension of size 0 (PyTorch's backward then returns uninitialised memory)."""
    shape, pad = list(case["shapes"][0]), case["params"]["pad"]
    for k in range(len(pad) // 2):
        d = len(shape) - 1 - k
        if d < 0:
            return False
        shape[d] += pad[2 * k] + pad[2 * k + 1]
    return any(s <= 0 for s in shape)


def _equal_slices(case):
    """Every slice the reduction (params "dim", None: all) runs over holds one finite value repeated."""
    (a,) = make_arrays(case)
    a = ref_array(a, case["layouts"][0])
    dim = case["params"].get("dim")
    if a.size == 0 or not np.isfinite(a).all() or (dim is not None and not -a.ndim <= dim < max(a.ndim, 1)):
        return False
    if a.ndim == 0:
        return True
    axis = None if dim is None else dim % a.ndim
    return bool(np.all(np.max(a, axis=axis) == np.min(a, axis=axis)))


def _score_terms_overflow(case):
    """Attention scores q . k (k = q / 2 in the fuzzer's call) with a term that overflows the dtype:
    their sum is then inf or NaN depending on the order and the use of fused multiply-adds."""
    q = make_arrays(case)[0]
    fin = np.abs(q[np.isfinite(q)]).astype(np.float64)
    big = float(np.finfo(q.dtype).max)
    return bool(fin.size) and float(fin.max()) > math.sqrt(big) * math.sqrt(2)


def _int_input(case):
    return any(d not in FLOATS for d in case["dtypes"])


_PIECEWISE = {"relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "hardshrink", "softshrink", "elu",
              "celu", "selu", "leaky_relu", "threshold", "prelu", "clamp", "clamp_tensor"}


# (ops or None for all, outcomes, predicate on the detail string or None, section of differences.md)
KNOWN = [
    (None, ("ref_raises",), lambda c, d: "not implemented for" in d or "Bool inputs not supported" in d,
     "integer-inputs"),
    (("matmul",), ("ref_raises",), lambda c, d: "same dtype" in d, "mixed-dtypes"),
    (("pad",), ("ref_raises",), lambda c, d: ("not supported for" in d and "D input" in d)
     or "Expected 2D or 3D" in d or "Expected 3D or 4D" in d or "Expected 4D or 5D" in d, "pad-any-rank"),
    (("pad",), ("ag_raises",), lambda c, d: "after cropping" in d, "pad-circular-crop"),
    (("gelu",), ("value",), lambda c, d: c["dtypes"][0] == "float32", "gelu-float32"),
    (("median",), ("ag_raises",), lambda c, d: "empty" in d, "empty-median"),
    (("roll",), ("ag_raises",), lambda c, d: "out of range" in d, "empty-dim-checks"),
    (("multinomial",), ("ag_raises",), lambda c, d: "non-zero probability" in d, "multinomial"),
    (("gelu",), ("value",), lambda c, d: "[inf for nan]" in d, "overflow-inf-not-nan"),
    (("matmul", "conv1d", "linear", "sdpa"), ("value", "grad"), lambda c, d: "[nonfinite both]" in d,
     "overflow-inf-not-nan"),
    (("prod",), ("value",), lambda c, d: "[finite for nan]" in d or "[finite for inf]" in d, "no-spurious-overflow"),
    (("logit",), ("grad",), lambda c, d: "[inf sign at zero]" in d, "nan-kinks"),
    (("conv1d",), ("value", "grad"), lambda c, d: _inf_weight_with_padding(c), "conv-padding"),
    (("layer_norm",), ("value", "grad"), lambda c, d: _huge_input(c), "norm-overflow"),
    (("mse_loss",), ("dtype",), lambda c, d: len(set(c["dtypes"])) > 1, "loss-dtype"),
    (("max_pool1d", "avg_pool1d", "cross_entropy"), ("ref_raises", "ag_raises"),
     lambda c, d: any(0 in s for s in c["shapes"]) or "Expected" in d, "empty-inputs"),
    (("sinh", "cosh", "std"), ("value",), lambda c, d: "[finite for inf]" in d, "no-spurious-overflow"),
    (("fmod", "remainder", "fmod_scalar", "remainder_scalar"), ("value",), lambda c, d: "[finite for nan]" in d,
     "exact-fmod"),
    (("norm", "cosine_similarity", "normalize"), ("value", "grad"), lambda c, d: _huge_input(c), "norm-overflow"),
    (("atan2",), ("grad",), lambda c, d: _int_input(c), "integer-gradients"),
    (_PIECEWISE | {"var", "std", "logit", "prod"}, ("grad",), lambda c, d: "[at nan input]" in d, "nan-kinks"),
    (None, ("grad",), lambda c, d: "[extreme input]" in d or "[finite for inf]" in d
     or ("[finite for nan]" in d and _huge_input(c)), "overflow-order"),
    (("pad",), ("ref_raises",), lambda c, d: "is too small" in d or "multiplication overflow" in d
     or "negative dimension" in d, "pad-any-rank"),
    (("prod",), ("value", "grad"), lambda c, d: "[exact]" in d, "no-spurious-overflow"),
    (("sum", "mean"), ("value",), lambda c, d: "[exact]" in d, "no-spurious-overflow"),
    (("norm",), ("grad",), lambda c, d: "[exact]" in d and _squares_underflow(c), "norm-underflow"),
    (("var",), ("grad",), lambda c, d: "[exact]" in d and "[nonfinite both]" in d, "overflow-order"),
    (("cosine_similarity",), ("grad",), lambda c, d: "[rounding of summed terms]" in d, "broadcast-rounding"),
    (("cosine_similarity",), ("value", "grad"), lambda c, d: "[float32 accuracy]" in d, "mixed-dtypes"),
    (("conv1d",), ("grad",), lambda c, d: "[oneDNN]" in d, "conv-onednn"),
    (("pad",), ("grad",), lambda c, d: c["params"]["mode"] != "constant" and _pad_output_empty(c), "pad-empty-grad"),
    (("var", "std"), ("value", "grad"), lambda c, d: _equal_slices(c) or "[in equal slices]" in d, "equal-values"),
    (("matmul", "linear", "conv1d", "sdpa"), ("value",), lambda c, d: "[finite for inf]" in d,
     "overflow-inf-not-nan"),
    (("sdpa",), ("value", "grad"), lambda c, d: ("[finite for nan]" in d or "[inf for nan]" in d)
     and _score_terms_overflow(c), "overflow-inf-not-nan"),
]


# ============================================================================ case generation
def case_strategy(ops=None):
    """Hypothesis strategy of picklable case descriptions."""
    import hypothesis.strategies as st

    pool = [OPS_BY_NAME[n] for n in ops] if ops else OPS

    @st.composite
    def case(draw):
        op = draw(st.sampled_from(pool))
        lo, hi = op.rank
        big = draw(st.integers(0, 19)) == 0  # a rank up to 8, with small dims
        rank = draw(st.integers(lo, max(hi, 8) if big else hi))
        dim = st.integers(0, 2 if big or rank > 4 else 5)
        shape = tuple(draw(dim) for _ in range(rank))
        dtype = draw(st.sampled_from(op.dtypes))
        shapes = _input_shapes(draw, op, shape)
        dtypes = [dtype] + [draw(st.sampled_from(op.dtypes)) if draw(st.integers(0, 3)) == 0 else dtype
                            for _ in shapes[1:]]
        if op.shapes in ("embedding",):
            dtypes[1] = "int64"
        layouts = [draw(st.sampled_from(LAYOUTS)) for _ in shapes]
        return {
            "op": op.name, "shapes": shapes, "dtypes": dtypes, "layouts": layouts,
            "special": draw(st.sampled_from(["none", "none", "some", "many"])),
            "scale": draw(st.sampled_from([1.0, 1.0, 1e-3, 1e3, 1e30])),
            "ints": draw(st.sampled_from(["small", "small", "full"])),
            "params": op.params(draw, shapes[0]),
            "seed": draw(st.integers(0, 2**32 - 1)),
        }

    return case()


def _input_shapes(draw, op, shape):
    import hypothesis.strategies as st

    if op.arity == 1:
        return [shape]
    if op.shapes == "same":
        return [shape] * op.arity
    if op.shapes == "matmul":
        n, k, m = (draw(st.integers(0, 5)) for _ in range(3))
        batch = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
        a = batch + (n, k) if draw(st.booleans()) else (k,)
        b = (k, m) if draw(st.booleans()) else (k,)
        if draw(st.integers(0, 9)) == 0:
            b = (k + 1,) + b[1:]  # mismatched inner dims: the error path
        return [a, b]
    if op.shapes == "embedding":
        rows = draw(st.integers(1, 5))
        return [(rows, draw(st.integers(0, 4))), shape]
    if op.shapes == "linear":
        return [shape if shape else (draw(st.integers(0, 4)),), (draw(st.integers(0, 4)), (shape or (1,))[-1])]
    if op.shapes == "conv1d":
        n, c, length = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(0, 7))
        return [(n, c, length), (draw(st.integers(1, 3)), c, draw(st.integers(1, 3)))]
    if op.shapes == "attention":
        L = draw(st.integers(1, 4))
        return [(2, L, 3), (L, L)]
    # broadcast: each input drops leading dims or sets dims to 1; rarely a size that cannot broadcast
    out = []
    for _ in range(op.arity):
        s = list(shape[draw(st.integers(0, len(shape))):] if draw(st.booleans()) else shape)
        s = [1 if draw(st.integers(0, 3)) == 0 else d for d in s]
        if s and draw(st.integers(0, 29)) == 0:
            s[0] += 1
        out.append(tuple(s))
    return out


# ============================================================================ building inputs
_SPECIAL = np.array([math.nan, math.inf, -math.inf, -0.0, 0.0, 1e30, -1e30, 1e-40, 1e300, 5e-324, 3.4e38,
                     1.0, -1.0, 0.5, 3.0, -3.0, 6.0])
_INT_LIMITS = {"int64": (-2**63, 2**63 - 1), "int32": (-2**31, 2**31 - 1), "uint8": (0, 255)}


def make_arrays(case):
    rng = np.random.default_rng(case["seed"])
    arrays = []
    for i, (shape, dtype) in enumerate(zip(case["shapes"], case["dtypes"])):
        op = OPS_BY_NAME[case["op"]]
        if op.shapes == "embedding" and i == 1:
            rows = case["shapes"][0][0]
            arrays.append(rng.integers(0, rows, size=shape).astype(np.int64))
            continue
        if op.shapes == "probs":
            a = rng.random(shape) * (rng.random(shape) < 0.6)
            arrays.append(a.astype(dtype))
            continue
        if dtype == "bool":
            arrays.append(rng.random(shape) < 0.5)
        elif dtype in _INT_LIMITS:
            lo, hi = _INT_LIMITS[dtype]
            if case["ints"] == "small":
                lo, hi = max(lo, -9), min(hi, 9)
            a = rng.integers(lo, hi, size=shape, dtype=np.int64, endpoint=True)
            arrays.append(a.astype(dtype))
        else:
            a = rng.standard_normal(shape) * case["scale"]
            if case["special"] != "none" and a.size:
                k = max(1, a.size // (2 if case["special"] == "many" else 8))
                pos = rng.integers(0, a.size, size=k)
                a.reshape(-1)[pos] = rng.choice(_SPECIAL, size=k)
            with np.errstate(over="ignore"):
                arrays.append(a.astype(dtype))
    return arrays


def to_ag(ag, a, layout, requires_grad):
    """(the tensor handed to the op, the tensor whose gradient is compared)."""
    if layout == "transposed" and a.ndim >= 2:
        t = ag.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)))
        if requires_grad:
            t.requires_grad_()
        return t.transpose(-1, -2), t
    if layout == "sliced" and a.ndim >= 1:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        big[..., ::2] = a
        t = ag.tensor(big)[..., ::2]
    elif layout == "reversed" and a.ndim >= 1:
        t = ag.from_numpy(np.ascontiguousarray(a[..., ::-1])[..., ::-1])
    elif layout == "expanded" and a.ndim >= 1 and a.shape[0] > 0:
        base = ag.tensor(np.ascontiguousarray(a[:1]))
        if requires_grad:
            base.requires_grad_()
        return base.expand(*a.shape), base
    else:
        t = ag.tensor(a)
    if requires_grad:
        t.requires_grad_()
    return t, t


def ref_array(a, layout):
    """The values the op sees in layout (an expanded input repeats its first slice)."""
    if layout == "expanded" and a.ndim >= 1 and a.shape[0] > 0:
        return np.ascontiguousarray(np.broadcast_to(a[:1], a.shape))
    return a


# ============================================================================ running one case
def _flatten(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


def _close(x, y, dtype, tol, scale=1.0):
    """Values agree: NaN where NaN, the same infinities, finite values within tolerance."""
    if x.dtype.kind in "biu" or y.dtype.kind in "biu":
        return np.array_equal(x, y)
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return False
    inf = np.isinf(x) | np.isinf(y)
    if not np.array_equal(x[inf], y[inf]):
        return False
    fin = ~(np.isnan(x) | inf)
    rtol, atol = (1e-4, 1e-6) if dtype == "float32" else (1e-9, 1e-12)
    xf, yf = x[fin], y[fin]
    scale = max(scale, 1.0, float(np.abs(yf).max())) if yf.size else 1.0
    return bool(np.all(np.abs(xf - yf) <= tol * (atol * scale + rtol * np.abs(yf))))


def _inf_for_nan(x, y):
    """' [inf for nan]' when the only disagreement is an infinity where the reference has NaN."""
    if x.dtype.kind != "f" or y.dtype.kind != "f" or x.shape != y.shape:
        return ""
    x, y = x.astype(np.float64), y.astype(np.float64)
    differ = ~((x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-3, atol=0))
    return " [inf for nan]" if differ.any() and np.all(np.isinf(x[differ]) & np.isnan(y[differ])) else ""


def _term_scale(op, arrays):
    if not op.sums:
        return 1.0
    m = 1.0
    for a in arrays:
        if a.dtype.kind == "f" and a.size:
            fin = np.abs(a[np.isfinite(a)]).astype(np.float64)
            if fin.size:
                m = max(m, float(fin.max()))
    with np.errstate(over="ignore"):
        return float(np.float64(m) ** op.sums * 4)


def _extreme_input(x, ga, gt):
    """' [extreme input]' when the gradients differ only where the input is infinite or so large that
    a product with it overflows: the order of the factors then decides between inf, NaN and a finite
    value (ours multiplies the small factors first)."""
    if x.shape != ga.shape:
        return ""
    big = 1e15 if x.dtype == np.float32 else 1e150
    differ = ~((ga == gt) | (np.isnan(ga) & np.isnan(gt)) | np.isclose(ga, gt, rtol=1e-3))
    if not differ.any() or not np.all(~np.isfinite(gt[differ])):
        return ""
    xd = x[differ]
    if np.all(np.isinf(xd) | (np.abs(xd) > big)):
        return " [extreme input]"
    # a reduction (std, var, prod) whose slice holds an extreme value: ours finite, the reference not
    extreme = np.isinf(x) | (np.abs(x) > big)
    return " [extreme input]" if extreme.any() and np.all(np.isfinite(ga[differ])) else ""


def _at_nan(x, ga, gt):
    """' [at nan input]' when the gradients differ only where the input is NaN."""
    if x.shape != ga.shape:
        return ""
    differ = ~((ga == gt) | (np.isnan(ga) & np.isnan(gt)) | np.isclose(ga, gt, rtol=1e-3))
    return " [at nan input]" if differ.any() and np.isnan(x[differ]).all() else ""


def _finite_for_inf(x, y):
    """' [finite for inf]' when the only disagreement is a finite value near the dtype's largest where
    the reference overflowed to inf (an intermediate that overflows in PyTorch but not here)."""
    if x.dtype.kind != "f" or y.dtype.kind != "f" or x.shape != y.shape:
        return ""
    big = 1e37 if x.dtype == np.float32 else 1e307
    x, y = x.astype(np.float64), y.astype(np.float64)
    differ = ~((x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-3, atol=0))
    ok = np.isinf(y[differ]) & np.isfinite(x[differ]) & (np.abs(x[differ]) > big) & (np.sign(x[differ]) ==
                                                                                        np.sign(y[differ]))
    return " [finite for inf]" if differ.any() and ok.all() else ""


def _finite_for_nan(x, y):
    """' [finite for nan]' when the only disagreement is a finite value where the reference has NaN."""
    if x.dtype.kind != "f" or y.dtype.kind != "f" or x.shape != y.shape:
        return ""
    x, y = x.astype(np.float64), y.astype(np.float64)
    differ = ~((x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-3, atol=0))
    return " [finite for nan]" if differ.any() and np.all(np.isnan(y[differ]) & np.isfinite(x[differ])) else ""


def _nonfinite_both(x, y):
    """' [nonfinite both]' when both sides are inf or NaN wherever they disagree."""
    if x.dtype.kind != "f" or y.dtype.kind != "f" or x.shape != y.shape:
        return ""
    x, y = x.astype(np.float64), y.astype(np.float64)
    differ = ~((x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-3, atol=0))
    return " [nonfinite both]" if differ.any() and np.all(~np.isfinite(x[differ]) & ~np.isfinite(y[differ])) else ""


def _inf_sign_at_zero(x, ga, gt):
    """' [inf sign at zero]': the gradients are opposite infinities, only where the input is +-0."""
    if x.shape != ga.shape:
        return ""
    differ = ~((ga == gt) | (np.isnan(ga) & np.isnan(gt)) | np.isclose(ga, gt, rtol=1e-3))
    return " [inf sign at zero]" if differ.any() and np.all((x[differ] == 0) & np.isinf(ga[differ]) & np.isinf(
        gt[differ])) else ""


def _in_equal_slices(case, x, ga, gt):
    """' [in equal slices]': var or std gradients that differ only in slices (over params "dim") holding
    one finite value repeated, where the true gradient is 0 and both libraries round to 0 or a residue
    (the slices elsewhere may hold inf or NaN, unlike _equal_slices)."""
    if case["op"] not in ("var", "std") or x.shape != ga.shape or x.size == 0:
        return ""
    dim = case["params"].get("dim")
    if x.ndim == 0 or (dim is not None and not -x.ndim <= dim < x.ndim):
        return ""
    axis = None if dim is None else dim % x.ndim
    with np.errstate(invalid="ignore"):
        equal = (np.max(x, axis=axis, keepdims=True) == np.min(x, axis=axis, keepdims=True)) & \
            np.isfinite(x).all(axis=axis, keepdims=True)
    equal = np.broadcast_to(equal, x.shape)
    differ = ~((ga == gt) | (np.isnan(ga) & np.isnan(gt)) | np.isclose(ga, gt, rtol=1e-3))
    return " [in equal slices]" if differ.any() and equal[differ].all() else ""


def _error_text(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"


def run_case(case):
    """(outcome, detail) for one case; imports torch (or falls back to NumPy) and autograd_core."""
    import autograd_core as ag

    try:
        import torch
    except ImportError:
        torch = None
    op = OPS_BY_NAME[case["op"]]
    arrays = make_arrays(case)
    params = case["params"]
    floats = [a.dtype.kind == "f" for a in arrays]
    want_grad = op.grad and any(floats)
    ag_in, ag_leaf = [], []
    for a, layout, fl in zip(arrays, case["layouts"], floats):
        t, leaf = to_ag(ag, a, layout, want_grad and fl)
        ag_in.append(t)
        ag_leaf.append(leaf)
    ref_in = [ref_array(a, layout) for a, layout in zip(arrays, case["layouts"])]
    if torch is not None:
        t_in = [torch.tensor(a, requires_grad=bool(want_grad and fl)) for a, fl in zip(ref_in, floats)]
        ref_call = op.ref or op.call
        try:
            ref_out = _flatten(ref_call(torch, *t_in, **params))
            ref_err = None
        except Exception as e:  # noqa: BLE001  (any exception is an outcome to compare)
            ref_out, ref_err = None, e
    else:
        if op.np_ref is None:
            return "skipped", "no NumPy reference"
        t_in = None
        try:
            with np.errstate(all="ignore"):
                ref_out = _flatten(op.np_ref(*ref_in, **params))
            ref_err = None
        except Exception as e:  # noqa: BLE001
            ref_out, ref_err = None, e
    try:
        ag_out = _flatten(op.call(ag, *ag_in, **params))
        ag_err = None
    except Exception as e:  # noqa: BLE001
        ag_out, ag_err = None, e
    if ag_err is not None and ref_err is not None:
        return "both_raise", f"ag {_error_text(ag_err)} | ref {_error_text(ref_err)}"
    if ag_err is not None:
        return "ag_raises", _error_text(ag_err) + "\n" + "".join(traceback.format_exception(ag_err)[-3:])
    if ref_err is not None:
        return "ref_raises", _error_text(ref_err)
    if len(ag_out) != len(ref_out):
        return "shape", f"{len(ag_out)} outputs, reference {len(ref_out)}"
    for i, (x, y) in enumerate(zip(ag_out, ref_out)):
        xa = np.asarray(x.detach() if hasattr(x, "detach") else x)
        ya = y.detach().numpy() if torch is not None else np.asarray(y)
        if torch is not None and _dtype_name(x) != _dtype_name(y):
            return "dtype", f"output {i}: {_dtype_name(x)}, reference {_dtype_name(y)}"
        if xa.shape != ya.shape:
            return "shape", f"output {i}: {xa.shape}, reference {ya.shape}"
        if not _close(xa, ya, str(xa.dtype), op.tol, _term_scale(op, ref_in)):
            marks = _inf_for_nan(xa, ya) + _finite_for_inf(xa, ya) + _finite_for_nan(xa, ya) + _nonfinite_both(xa, ya)
            marks += _float32_accuracy(xa, ya, op, ref_in) + _exact_mark(xa, ya, op, ref_in, params, i)
            return "value", f"output {i}:{marks}\n ag  {_short(xa)}\n ref {_short(ya)}"
    if want_grad and torch is not None:
        return _compare_grads(ag, torch, case, op, ag_out, ref_out, ag_leaf, t_in, ag_in, floats)
    return "ok", ""


def _compare_grads(ag, torch, case, op, ag_out, ref_out, ag_leaf, t_in, ag_in, floats):
    rng = np.random.default_rng(case["seed"] + 1)
    outs_a, outs_t, gs_a, gs_t = [], [], [], []
    for x, y in zip(ag_out, ref_out):
        if getattr(y, "requires_grad", False) and y.dtype.is_floating_point:
            g = rng.standard_normal(tuple(y.shape)).astype(_dtype_name(y))
            outs_a.append(x)
            outs_t.append(y)
            gs_a.append(ag.tensor(g))
            gs_t.append(torch.tensor(g))
    if not outs_t:
        return "ok", ""
    ins_t = [t for t, fl in zip(t_in, floats) if fl]
    try:
        grads_t = torch.autograd.grad(outs_t, ins_t, gs_t, allow_unused=True)
    except Exception as e:  # noqa: BLE001
        return "ok", f"(reference backward raised {_error_text(e)})"
    # the expanded layout's leaf is the one slice that was expanded: compare with the reference's sum
    ins_a = [t for t, fl in zip(ag_in, floats) if fl]
    try:
        if not all(getattr(x, "requires_grad", False) for x in outs_a):
            return "grad", "an output does not require grad"
        grads_a = ag.autograd.grad(outs_a, ins_a, gs_a, allow_unused=True)
    except Exception as e:  # noqa: BLE001
        return "grad", f"backward raised {_error_text(e)}\n" + "".join(traceback.format_exception(e)[-3:])
    for i, (ga, gt) in enumerate(zip(grads_a, grads_t)):
        if gt is None and ga is None:
            continue
        ga = np.zeros(ins_t[i].shape) if ga is None else np.asarray(ga.detach())
        gt = np.zeros(ins_t[i].shape) if gt is None else gt.numpy()
        if ga.shape != gt.shape:
            return "grad", f"gradient {i}: shape {ga.shape}, reference {gt.shape}"
        x = ins_t[i].detach().numpy()
        # (a float64 input of a float32 result gets a gradient computed in float32)
        precision = "float32" if "float32" in (_dtype_name(ins_t[i]), _dtype_name(outs_t[0])) else "float64"
        if not _close(ga, gt, precision, op.tol * 4, _term_scale(op, [x])):
            ref_in = [t.detach().numpy() for t in t_in]
            marks = _at_nan(x, ga, gt) + _extreme_input(x, ga, gt) + _finite_for_inf(ga, gt) + \
                _inf_sign_at_zero(x, ga, gt) + _nonfinite_both(ga, gt) + _finite_for_nan(ga, gt) + \
                _in_equal_slices(case, x, ga, gt) + \
                _float32_accuracy(ga, gt, op, ref_in) + \
                _exact_mark(ga, gt, op, ref_in, case["params"], i, [g.numpy() for g in gs_t]) + \
                _onednn_mark(torch, case, op, t_in, floats, gs_t, i, ga, precision) + \
                _rounding_of_summed_terms(torch, case, op, t_in, floats, gs_t, i, ga)
            return "grad", f"gradient {i}:{marks}\n ag  {_short(ga)}\n ref {_short(gt)}"
    return "ok", ""


def _float32_accuracy(x, y, op, inputs):
    """' [float32 accuracy]': float inputs of mixed precision whose float64 results agree to float32's
    accuracy (the reference computes part of the op in the float32 input's own precision)."""
    kinds = {str(a.dtype) for a in inputs if a.dtype.kind == "f"}
    if kinds != {"float32", "float64"} or x.shape != y.shape or x.dtype.kind != "f":
        return ""
    return " [float32 accuracy]" if _close(x, y, "float32", op.tol, _term_scale(op, inputs)) else ""


def _exact_mark(x, y, op, inputs, params, i, grads_out=None):
    """' [exact]': ours agrees with the exact result (op.exact) and the reference does not."""
    if op.exact is None:
        return ""
    try:
        want = op.exact(inputs, params, grads_out)
    except Exception:  # noqa: BLE001  (no exact result for these parameters: no mark)
        return ""
    if want is None or i >= len(want) or want[i].shape != x.shape:
        return ""
    w = want[i]
    tight = 1.0  # the exact value rounded once; ours may round once more
    return " [exact]" if _close(x, w, str(w.dtype), tight) and not _close(y, w, str(w.dtype), tight) else ""


def _onednn_mark(torch, case, op, t_in, floats, gs_t, i, ga, precision):
    """' [oneDNN]': ours agrees with PyTorch's gradient once oneDNN is off (its plain sums of products,
    which its float64 path uses anyway): the difference comes from oneDNN, not from a wrong gradient."""
    if not op.plain_ref:
        return ""
    # (in the inputs' dtype, and in float64, where the float32 partial sums cannot overflow)
    for dtype in (None, torch.float64):
        try:
            with torch.backends.mkldnn.flags(enabled=False):
                leaves = [(t.detach().to(dtype) if dtype and fl else t.detach()).clone().requires_grad_(
                    t.requires_grad) for t, fl in zip(t_in, floats)]
                outs = [o for o in _flatten((op.ref or op.call)(torch, *leaves, **case["params"])) if o.requires_grad]
                ins = [t for t, fl in zip(leaves, floats) if fl]
                gt = torch.autograd.grad(outs, ins, [g.to(dtype) if dtype else g for g in gs_t],
                                         allow_unused=True)[i]
        except Exception:  # noqa: BLE001, S112  (no plain reference in this dtype: no mark from it)
            continue
        if gt is not None and _close(ga, gt.numpy().astype(ga.dtype), precision, op.tol * 4):
            return " [oneDNN]"
    return ""


def _rounding_of_summed_terms(torch, case, op, t_in, floats, gs_t, i, ga):
    """' [rounding of summed terms]': the gradient of a broadcast input is a sum over its copies, and
    ours is within the dtype's rounding of the float64 gradient, at the scale of those terms (the sum
    of their magnitudes): where the terms cancel (the true sum is 0 or small) the two libraries'
    roundings differ by a few units in the last place of that scale, not of the result."""
    if op.shapes != "broadcast" or op.arity < 2:
        return ""
    try:
        bshape = torch.broadcast_shapes(*[t.shape for t in t_in])
        leaves = [t.detach().double().requires_grad_(fl) for t, fl in zip(t_in, floats)]
        copies = [leaf.expand(bshape) for leaf in leaves]
        for c, fl in zip(copies, floats):
            if fl:
                c.retain_grad()
        outs = [o for o in _flatten(op.call(torch, *copies, **case["params"])) if o.requires_grad]
        torch.autograd.backward(outs, [g.double() for g in gs_t])
    except Exception:  # noqa: BLE001  (no float64 reference for this case: no mark)
        return ""
    leaf, terms = [(lf, c) for lf, c, fl in zip(leaves, copies, floats) if fl][i]
    if leaf.grad is None or terms.grad is None:
        return ""
    want = leaf.grad.numpy()
    scale = terms.grad.abs().sum_to_size(leaf.shape).numpy()
    k = max(1, terms.numel() // max(1, leaf.numel()))  # copies summed into each element
    eps = float(np.finfo(ga.dtype).eps) / 2
    # (a few roundings inside each term, then up to k - 1 in the sum)
    ok = np.abs(ga.astype(np.float64) - want) <= (8 + k) * eps * scale
    return " [rounding of summed terms]" if ga.shape == want.shape and ok.all() else ""


def _short(a):
    s = np.array2string(np.asarray(a), threshold=40, precision=6)
    return s if len(s) < 600 else s[:600] + "..."


# ============================================================================ the worker process
def _self_test(case):
    """Cases that test the runner itself (tests/test_fuzz.py): a crash and a hang."""
    if case["op"] == "__abort__":
        os.abort()
    if case["op"] == "__hang__":
        time.sleep(3600)


def _worker(conn, use_torch):
    import warnings

    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    if not use_torch:  # compare with NumPy only (and start in a fraction of the time)
        sys.modules["torch"] = None
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    import autograd_core  # noqa: F401

    conn.send(("ready", ""))
    while True:
        case = conn.recv()
        if case is None:
            return
        try:
            _self_test(case)
            result = run_case(case)
        except Exception as e:  # noqa: BLE001  (a bug in the fuzzer itself: reported, never hidden)
            result = ("fuzzer_error", _error_text(e) + "\n" + traceback.format_exc()[-800:])
        conn.send(result)


class Runner:
    """Runs cases in a worker process, restarting it when it dies; a case that kills it is a crash and
    one that takes longer than `timeout` seconds a hang. Up to `depth` cases are in flight, so the
    worker runs one while the next is drawn; the worker answers in order, so the oldest unanswered
    case is the one that killed it (the others are sent again to the new worker)."""

    def __init__(self, timeout=60.0, use_torch=True, depth=4):
        self.timeout, self.use_torch, self.depth = timeout, use_torch, depth
        self.ctx = mp.get_context("spawn")
        self.proc = None
        self.restarts = 0
        self.inflight = deque()

    def start(self):
        """Start the worker now (else the first case does): its imports take a few seconds."""
        if self.proc is None or not self.proc.is_alive():
            if self.proc is not None:
                self.restarts += 1
            self._start()

    def _start(self):
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.use_torch), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        if not self.conn.poll(max(120.0, self.timeout)) or self.conn.recv()[0] != "ready":
            raise RuntimeError("fuzz: the worker process did not start")

    def submit(self, case):
        """Queue a case; returns the [(case, (outcome, detail))] that completed meanwhile."""
        if not self.inflight:
            self.start()
        # (with cases in flight a dead worker is left for _collect_one, which reports the case that killed
        # it: restarting here would lose them and pair the new worker's answers with the wrong cases)
        self.inflight.append(case)
        try:
            self.conn.send(case)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the worker died: _collect_one reports the case that killed it
        done = []
        while len(self.inflight) >= self.depth:
            done.append(self._collect_one())
        return done

    def drain(self):
        done = []
        while self.inflight:
            done.append(self._collect_one())
        return done

    def run(self, case):
        """Run one case and wait for it: (outcome, detail)."""
        results = self.submit(case) + self.drain()
        return results[-1][1]

    def _collect_one(self):
        case = self.inflight[0]
        try:
            if self.conn.poll(self.timeout):
                result = self.conn.recv()
                self.inflight.popleft()
                return case, result
            self.proc.kill()
            self.proc.join()
            result = ("hang", f"no answer in {self.timeout} s")
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            self.proc.join(5)
            result = ("crash", f"worker died with exit code {self.proc.exitcode}")
        self.inflight.popleft()
        self.start()
        for other in self.inflight:
            self.conn.send(other)
        return case, result

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()


FAILURES = ("crash", "hang", "ag_raises", "ref_raises", "dtype", "shape", "value", "grad", "fuzzer_error")


class Tally:
    def __init__(self, stream=None):
        self.stream = stream  # where each failure is printed as it happens (None: only in the report)
        self.outcomes = Counter()
        self.by_op = defaultdict(Counter)
        self.examples = defaultdict(list)
        self.documented = Counter()

    def add(self, case, outcome, detail, keep=5):
        if outcome in FAILURES and outcome not in ("crash", "hang", "fuzzer_error"):
            doc = _known(case, outcome, detail)
            if doc:
                self.documented[doc] += 1
                outcome = "documented"
        self.outcomes[outcome] += 1
        self.by_op[case["op"]][outcome] += 1
        if outcome in FAILURES and len(self.examples[(case["op"], outcome)]) < keep:
            self.examples[(case["op"], outcome)].append((case, detail))
        if outcome in FAILURES and self.stream is not None:
            print(f"--- {outcome} in {case['op']}: {case}\n{detail}", file=self.stream, flush=True)

    def failures(self):
        return sum(self.outcomes[k] for k in FAILURES)

    def report(self, show=3, out=sys.stdout):
        total = sum(self.outcomes.values())
        print(f"cases run: {total}", file=out)
        for k, v in sorted(self.outcomes.items(), key=lambda kv: -kv[1]):
            print(f"  {k:12s} {v}", file=out)
        if self.documented:
            print("documented differences (docs/differences.md):", file=out)
            for k, v in self.documented.most_common():
                print(f"  {k:24s} {v}", file=out)
        bad = {op: c for op, c in self.by_op.items() if any(c[k] for k in FAILURES)}
        if bad:
            print("failing ops:", file=out)
            for op, c in sorted(bad.items()):
                print(f"  {op:22s} " + ", ".join(f"{k} {c[k]}" for k in FAILURES if c[k]), file=out)
        for (op, outcome), cases in sorted(self.examples.items()):
            for case, detail in cases[:show]:
                print(f"--- {outcome} in {op}: {case}\n{detail}", file=out)


def fuzz(n_cases, seed=0, ops=None, runner=None, tally=None, time_limit=None, progress=0):
    """Run n_cases cases drawn by hypothesis (derandomised from seed); returns the Tally."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed

    own_runner = runner is None
    runner = runner or Runner()
    tally = tally or Tally()
    runner.start()
    start = time.monotonic()
    state = {"n": 0}

    @hyp_seed(seed)
    @settings(max_examples=n_cases, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case_strategy(ops))
    def one(case):
        if time_limit is not None and time.monotonic() - start > time_limit:
            return
        for done, (outcome, detail) in runner.submit(case):
            tally.add(done, outcome, detail)
        state["n"] += 1
        if progress and state["n"] % progress == 0:
            rate = state["n"] / (time.monotonic() - start)
            print(f"[{sum(tally.outcomes.values())} cases, {rate:.0f}/s] " + ", ".join(
                f"{k} {v}" for k, v in tally.outcomes.most_common()), flush=True)

    try:
        one()
        for done, (outcome, detail) in runner.drain():
            tally.add(done, outcome, detail)
    finally:
        if own_runner:
            runner.close()
    return tally


def replay(case):
    """Run one case in this process (for debugging a reported case)."""
    return run_case(case)


def recheck(path, show=2, timeout=60.0):
    """Run the failing cases of a --log file again: how many now pass, are documented, still fail."""
    import ast

    cases, seen = [], set()
    with open(path) as f:
        for line in f:
            if line.startswith("--- ") and ": {" in line:
                text = line[line.index(": {") + 2:].strip()
                if text not in seen:
                    seen.add(text)
                    cases.append((line.split()[1], ast.literal_eval(text)))
    runner, tally = Runner(timeout=timeout), Tally()
    before = Counter(outcome for outcome, _ in cases)
    try:
        results = []
        for _, case in cases:
            results += runner.submit(case)
        results += runner.drain()
    finally:
        runner.close()
    for case, (outcome, detail) in results:
        tally.add(case, outcome, detail)
    print(f"failing cases in {path}: {len(cases)} distinct (" + ", ".join(f"{k} {v}" for k, v in before.items())
          + ")")
    print("with the current code:")
    tally.report(show=show)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10000, help="how many cases (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (the runs are reproducible)")
    parser.add_argument("--ops", default="", help="comma-separated op names (default: all)")
    parser.add_argument("--show", type=int, default=2, help="examples printed per failing (op, outcome)")
    parser.add_argument("--chunk", type=int, default=20000, help="cases per hypothesis run")
    parser.add_argument("--progress", type=int, default=5000, help="print counts every N cases (0: never)")
    parser.add_argument("--replay", default="", help="a case dict as printed, run in this process")
    parser.add_argument("--log", default="", help="a file to which each failing case is written at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a case may take before it counts as a "
                        "hang (default 60; raise it for a sanitizer build at low priority on a busy machine)")
    parser.add_argument("--recheck", default="", help="a --log file: run its cases again with the current code "
                        "and count which now pass, are documented, or still fail")
    args = parser.parse_args(argv)
    if args.replay:
        import ast

        print(*replay(ast.literal_eval(args.replay)), sep="\n")
        return 0
    if args.recheck:
        return recheck(args.recheck, show=args.show, timeout=args.timeout)
    ops = [o for o in args.ops.split(",") if o] or None
    for o in ops or ():
        if o not in OPS_BY_NAME:
            parser.error(f"unknown op {o!r}; known: {', '.join(OPS_BY_NAME)}")
    log = open(args.log, "a") if args.log else None  # noqa: SIM115  (closed below)
    tally = Tally(stream=log)
    runner = Runner(timeout=args.timeout)
    done, chunk = 0, 0
    t0 = time.monotonic()
    # SIGTERM and Ctrl-C end the run early, with the counts so far
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while done < args.cases:
            n = min(args.chunk, args.cases - done)
            fuzz(n, seed=args.seed * 1000003 + chunk, ops=ops, runner=runner, tally=tally, progress=args.progress)
            done += n
            chunk += 1
    except KeyboardInterrupt:
        print("interrupted: the counts below are for the cases run so far")
    finally:
        runner.close()
        if log is not None:
            log.close()
    tally.report(show=args.show)
    print(f"worker restarts after crashes: {runner.restarts}; {time.monotonic() - t0:.0f} s; "
          f"autograd_core {'sanitized' if os.environ.get('AGC_SANITIZED') else 'normal'} build")
    return 1 if tally.outcomes["crash"] or tally.outcomes["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
