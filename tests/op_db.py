"""The op database: one row per op, in the manner of PyTorch's OpInfo.

A row says what to call (the function form, through public names only), what NumPy says the answer
is, which PyTorch function is the same op, which dtypes it takes and what it returns for them, how to
make its inputs on every memory layout, whether it has first and second derivatives, how close the
answers must be, and which other spellings of the op exist (Tensor method, in-place method, `F.*`,
module, Python operator). tests/test_op_db.py turns every row into forward, gradcheck,
gradgradcheck, dtype, layout, SIMD-tier, torch-parity and variant tests.

The kernel rows at the end (KERNEL_UNARY, KERNEL_BINARY) are the C op lists as `_core` sees them,
derived from the op rows (an op row's `kernel`); tests/test_kernels.py runs them on wide input
ranges, every stride and every SIMD tier, with the dtypes of _core.op_table(), and checks that they
name exactly the ops of csrc/include/agc.h.

Adding an op: one `OpInfo(...)` row. Inputs come from `Inputs(...)`: the shape sets, the domain
(`low`, `high`, `positive`, `away_from` kinks), integer arguments (`ints`) and the keyword sets the
op is called with, each passed unchanged to the op, its variants, PyTorch and the reference."""
import math
import operator
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

import autograd_core as ag
from autograd_core import _core

F = ag.nn.functional
nn = ag.nn

FLOATS = (np.float32, np.float64)
INTS = (np.int64, np.int32, np.uint8)

# Memory layouts every row is tried on. "broadcast" repeats the first row of each input through a
# zero stride (so its values are those of the first row); "small" is the 0-d, size-1 and empty
# shapes a row lists.
LAYOUTS = ("contiguous", "transposed", "sliced", "flipped", "broadcast", "small")


def seeded(text):
    """A generator seeded from a stable hash of `text` (crc32): the same numbers in every process,
    unlike the salted built-in hash()."""
    return np.random.default_rng(zlib.crc32(text.encode()))


def lay_out(a, layout):
    """A view holding a's values (the first row of them, for "broadcast") in the named layout."""
    if a.ndim == 0 or layout in ("contiguous", "small"):
        return a
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    if layout == "sliced":
        big = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), a.dtype)
        big[..., ::2] = a
        big[..., 1::2] = 7
        return big[..., ::2]
    if layout == "flipped":
        return np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    if layout == "broadcast":
        return np.broadcast_to(a[:1], a.shape)
    raise ValueError(f"unknown layout {layout!r}")


@dataclass
class Sample:
    """One call: NumPy arrays for the tensor arguments, then keywords shared by every form."""
    args: list
    kwargs: dict

    def __repr__(self):
        return f"Sample({[a.shape for a in self.args]}, {self.kwargs})"


@dataclass
class Inputs:
    """The sample generator of a row: `shapes` (one tuple of shapes per call) laid out on every
    layout; `small` shape tuples for the "small" layout; values uniform in [low, high), kept 0.05
    away from `away_from` (kinks, ties), strictly positive for the argument indices in `positive`;
    `ints` maps an argument index to the (low, high) of an integer argument (class indices); every
    shape tuple is called with every keyword set in `kwargs`."""
    shapes: list
    small: list = ()
    low: float = -2.0
    high: float = 2.0
    away_from: tuple = ()
    positive: tuple = ()
    ints: dict = field(default_factory=dict)
    kwargs: list = (None,)
    int_kwargs: list = None           # keyword sets for integer dtypes (a float bound would promote)
    int_range: tuple = (-20, 20)      # values for integer dtypes
    make: object = None               # (rng, shape, dtype, k) -> array, for domains not uniform

    def array(self, rng, shape, dtype, k):
        if k in self.ints:
            lo, hi = self.ints[k]
            return rng.integers(lo, hi, size=shape).astype(np.int64)
        if self.make is not None:
            return np.asarray(self.make(rng, shape, dtype, k))
        if np.dtype(dtype).kind in "iub":
            lo, hi = self.int_range
            if k in self.positive:
                lo = max(lo, 1)
            if np.dtype(dtype).kind == "b":
                return rng.integers(0, 2, size=shape).astype(bool)
            info = np.iinfo(dtype)
            return rng.integers(max(lo, info.min), min(hi, info.max), size=shape).astype(dtype)
        lo = 0.2 if k in self.positive else self.low
        a = rng.uniform(lo, self.high, size=shape)
        for p in self.away_from:
            near = np.abs(a - p) < 0.05
            a = np.where(near, p + 0.1 * np.sign(a - p + 1e-12), a)
        return a.astype(dtype)

    def __call__(self, layout, dtype, rng):
        sets = self.small if layout == "small" else self.shapes
        integer = np.dtype(dtype).kind in "iub"
        for shapes in sets:
            for kwargs in (self.int_kwargs if integer and self.int_kwargs else self.kwargs):
                args = [self.array(rng, s, dtype, k) for k, s in enumerate(shapes)]
                if layout != "small":
                    args = [lay_out(a, layout) for a in args]
                yield Sample(args, dict(kwargs or {}))


SAME = object()   # the torch form is the row's own callable (operators and method chains)


@dataclass
class OpInfo:
    """One op. `op` is the function form; `ref` takes float64 (or integer) NumPy arrays and the
    sample's keywords. `torch` is a dotted name under `torch` ("nn.functional.gelu"), a callable
    taking torch tensors, SAME, or None when PyTorch has no such op. `out_dtype` is the result dtype
    when it does not follow the input (comparisons give bool). `int_dtypes` are the integer dtypes
    the op takes; `int_out` is what they give (None: the input's dtype). Variants name the other
    spellings: `method` and `inplace` are Tensor method names, `functional` an `F` name, `module`
    an nn class built from the sample's keywords, `operator` a Python operator, `toplevel` the ag.<name>
    spelling of an F.* op."""
    name: str
    op: object
    ref: object
    inputs: Inputs
    torch: object = None
    dtypes: tuple = FLOATS
    out_dtype: object = None
    int_dtypes: tuple = ()
    int_out: object = None
    grad: bool = True
    gradgrad: bool = False
    tol32: float = 2e-5
    tol64: float = 1e-9
    grad_atol: float = 1e-5
    method: str = None
    inplace: str = None
    functional: str = None
    module: object = None
    operator: object = None
    toplevel: str = None              # an ag.<name> spelling of an F.* op
    simd: bool = False                # runs through the dispatched SIMD kernels: test on every tier
    kernel: str = None                # the _core kernel it reaches, when it is one primitive
    positional: tuple = ()            # sample keywords passed by position, in this order
    torch_grad_args: tuple = None     # arguments PyTorch differentiates, when not all float ones
    only_layouts: tuple = None        # for ops defined on some layouts only (view needs contiguity)

    def call_args(self, tensors, kwargs):
        """(args, kwargs) for calling the op or a variant with a sample's tensors and keywords."""
        kwargs = dict(kwargs)
        return list(tensors) + [kwargs.pop(name) for name in self.positional], kwargs

    def __str__(self):
        return self.name

    def samples(self, layout, dtype, rng):
        return list(self.inputs(layout, dtype, rng))

    @property
    def layouts(self):
        return [layout for layout in self.only_layouts or LAYOUTS if layout != "small" or self.inputs.small]


# ------------------------------------------------------------------------------------------ references
def _vec(f):
    """A scalar math function applied elementwise, keeping the shape of empty arrays."""
    v = np.vectorize(f, otypes=[np.float64])
    return lambda x: v(x) if np.size(x) else np.asarray(x, np.float64).copy()


np_erf = _vec(math.erf)
np_lgamma = _vec(math.lgamma)


def np_sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def np_softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.log1p(np.exp(np.minimum(beta * x, threshold))) / beta)


def np_gelu(x, approximate="none"):
    if approximate == "tanh":
        return x * np_sigmoid(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
    return 0.5 * x * (1 + np_erf(x / math.sqrt(2)))


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def np_selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np_elu(x, alpha)


def np_celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x / alpha))


def np_leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def np_hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def np_hardsigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def np_mish(x):
    return x * np.tanh(np_softplus(x))


def np_softshrink(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def np_hardshrink(x, lambd=0.5):
    return np.where(np.abs(x) > lambd, x, 0.0)


def np_threshold(x, threshold, value):
    return np.where(x > threshold, x, value)


def np_clamp(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def np_round(x, decimals=0):
    return np.round(x, decimals)


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def reduction(f):
    """A NumPy reduction f(x, axis, keepdims) called with PyTorch's keywords."""
    def ref(x, dim=None, keepdim=False, **kw):
        return f(x, axis=_axis(dim), keepdims=keepdim, **kw)
    return ref


def np_var(x, dim=None, keepdim=False, unbiased=None, correction=None):
    ddof = correction if correction is not None else (0 if unbiased is False else 1)
    return np.var(x, axis=_axis(dim), keepdims=keepdim, ddof=ddof)


def np_std(x, dim=None, keepdim=False, unbiased=None, correction=None):
    return np.sqrt(np_var(x, dim, keepdim, unbiased, correction))


def np_logsumexp(x, dim=None, keepdim=False):
    m = np.max(x, axis=_axis(dim), keepdims=True)
    r = np.log(np.exp(x - m).sum(axis=_axis(dim), keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=_axis(dim))


def np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def np_log_softmax(x, dim):
    return x - np_logsumexp(x, dim, keepdim=True)


def np_norm(x, p="fro", dim=None, keepdim=False):
    a = np.abs(x)
    if p == "fro" or p == 2:
        return np.sqrt((a ** 2).sum(axis=_axis(dim), keepdims=keepdim))
    if p == float("inf"):
        return a.max(axis=_axis(dim), keepdims=keepdim)
    return (a ** p).sum(axis=_axis(dim), keepdims=keepdim) ** (1 / p)


def np_max_dim(x, dim, keepdim=False):
    return np.max(x, axis=dim, keepdims=keepdim)


def np_min_dim(x, dim, keepdim=False):
    return np.min(x, axis=dim, keepdims=keepdim)


def reduce_loss(r, reduction="mean"):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](r)


def np_mse(x, y, reduction="mean"):
    return reduce_loss((x - y) ** 2, reduction)


def np_l1(x, y, reduction="mean"):
    return reduce_loss(np.abs(x - y), reduction)


def np_smooth_l1(x, y, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    return reduce_loss(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def np_huber(x, y, reduction="mean", delta=1.0):
    d = np.abs(x - y)
    return reduce_loss(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def np_bce(p, y, reduction="mean"):
    return reduce_loss(-(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100)), reduction)


def np_bce_logits(x, y, reduction="mean"):
    return reduce_loss(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))), reduction)


def np_soft_margin(x, y, reduction="mean"):
    return reduce_loss(np.log1p(np.exp(-y * x)), reduction)


def np_nll(logp, target, reduction="mean"):
    picked = -np.take_along_axis(logp, target[:, None], 1)[:, 0]
    return reduce_loss(picked, reduction)


def np_cross_entropy(x, target, reduction="mean", label_smoothing=0.0):
    logp = np_log_softmax(x, 1)
    nll = -np.take_along_axis(logp, target[:, None], 1)[:, 0]
    smooth = -logp.mean(1)
    return reduce_loss((1 - label_smoothing) * nll + label_smoothing * smooth, reduction)


def np_kl_div(x, y, reduction="mean", log_target=False):
    r = np.exp(y) * (y - x) if log_target else np.where(y > 0, y * (np.log(np.where(y > 0, y, 1)) - x), 0.0)
    if reduction == "batchmean":
        return r.sum() / x.shape[0]
    return reduce_loss(r, reduction)


# ------------------------------------------------------------------------------------------ shape sets
U1 = [[(5,)], [(3, 4)], [(2, 3, 5)], [(17,)]]
SMALL1 = [[()], [(1,)], [(0,)], [(2, 0)]]
B2 = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 5), (3, 1)], [(4,), (2, 3, 4)], [(3, 4), ()]]
SMALL2 = [[(), ()], [(1,), (1,)], [(0,), (0,)], [(2, 0), (1,)], [(3, 1), ()]]
R3 = [[(3, 4, 5)], [(4, 6)]]
M = [[(3, 4), (4, 5)], [(2, 3, 4), (4,)], [(4,), (4, 2)], [(4,), (4,)], [(2, 3, 4), (2, 4, 5)],
     [(2, 1, 3, 4), (3, 4, 2)], [(1, 7), (7, 9)], [(13, 17), (17, 19)]]
DIMS = [{}, {"dim": 0}, {"dim": -1}, {"dim": 1, "keepdim": True}]
DIMS3 = DIMS + [{"dim": (0, -1)}]


def _few_values(rng, shape, dtype, k):
    """Integers in [-2, 2]: equal pairs are common, so == and != see both answers."""
    return rng.integers(-2, 3, shape).astype(dtype)


def unary(**kw):
    return Inputs(U1, small=SMALL1, **kw)


def binary(**kw):
    return Inputs(B2, small=SMALL2, **kw)


def reduce_inputs(kwargs=DIMS, small=([(1, 1)], [(2, 1)]), **kw):
    return Inputs([[(3, 4, 5)], [(4, 6)]], small=small, kwargs=kwargs, **kw)


def loss_inputs(**kw):
    return Inputs([[(4, 3), (4, 3)], [(6,), (6,)]], kwargs=[{"reduction": r} for r in ("mean", "sum", "none")],
                  **kw)


# ------------------------------------------------------------------------------------------ rows
def _unary_op(name, ref, *, ints=INTS, int_out=np.float32, inputs=None, gradgrad=True, inplace=None,
              torch=None, kernel=True, **kw):
    """A unary math op reachable as ag.<name> and Tensor.<name>; `kernel=False` when no _core kernel
    of that name computes it."""
    return OpInfo(name, getattr(ag, name), ref, inputs or unary(), torch=torch or name, int_dtypes=ints,
                  int_out=int_out, gradgrad=gradgrad and kw.get("grad", True), method=name, inplace=inplace,
                  simd=True,
                  kernel=name if kernel else None, **kw)


UNARY_OPS = [
    OpInfo("neg", ag.neg, np.negative, unary(), torch="neg", int_dtypes=INTS, int_out=None, gradgrad=True,
           method="neg", inplace="neg_", operator=operator.neg, simd=True, kernel="neg"),
    _unary_op("abs", np.abs, ints=INTS, int_out=None, inputs=unary(away_from=(0.0,)), inplace="abs_"),
    _unary_op("exp", np.exp, inplace="exp_"),
    _unary_op("exp2", np.exp2, kernel=False),
    _unary_op("log", np.log, inputs=unary(positive=(0,)), inplace="log_"),
    _unary_op("log2", np.log2, inputs=unary(positive=(0,)), kernel=False),
    _unary_op("log10", np.log10, inputs=unary(positive=(0,)), kernel=False),
    _unary_op("log1p", np.log1p, inputs=unary(low=-0.5)),
    _unary_op("expm1", np.expm1),
    _unary_op("sqrt", np.sqrt, inputs=unary(positive=(0,)), inplace="sqrt_"),
    _unary_op("rsqrt", lambda x: 1 / np.sqrt(x), inputs=unary(positive=(0,))),
    _unary_op("square", np.square, ints=INTS, int_out=None),
    _unary_op("sin", np.sin),
    _unary_op("cos", np.cos),
    _unary_op("tan", np.tan, inputs=unary(low=-1.2, high=1.2), kernel=False),
    _unary_op("sinh", np.sinh, kernel=False),
    _unary_op("cosh", np.cosh, kernel=False),
    _unary_op("tanh", np.tanh, inplace="tanh_", functional="tanh", module=nn.Tanh),
    _unary_op("asin", np.arcsin, inputs=unary(low=-0.9, high=0.9), kernel=False),
    _unary_op("acos", np.arccos, inputs=unary(low=-0.9, high=0.9), kernel=False),
    _unary_op("atan", np.arctan, kernel=False),
    _unary_op("sigmoid", np_sigmoid, inplace="sigmoid_", functional="sigmoid", module=nn.Sigmoid),
    _unary_op("erf", np_erf),
    _unary_op("lgamma", np_lgamma, inputs=unary(positive=(0,)), kernel=False, tol32=1e-4, gradgrad=False),
    _unary_op("logit", lambda x: np.log(x / (1 - x)), inputs=unary(low=0.05, high=0.95), kernel=False,
              tol32=1e-4),
    _unary_op("reciprocal", lambda x: 1 / x, inputs=unary(low=0.3, positive=(0,))),
    _unary_op("relu", lambda x: np.maximum(x, 0), ints=INTS, int_out=None, inputs=unary(away_from=(0.0,)),
              inplace="relu_", functional="relu", module=nn.ReLU),
    _unary_op("sign", np.sign, ints=INTS, int_out=None, inputs=unary(away_from=(0.0,)), grad=False),
    _unary_op("floor", np.floor, ints=INTS, int_out=None, grad=False, inplace="floor_"),
    _unary_op("ceil", np.ceil, ints=INTS, int_out=None, grad=False),
    _unary_op("trunc", np.trunc, ints=INTS, int_out=None, grad=False, kernel=False),
    _unary_op("frac", lambda x: x - np.trunc(x), ints=(), grad=False, kernel=False, gradgrad=False),
    # ties (x.5) are drawn on purpose: both libraries round half to even
    _unary_op("round", np_round, ints=INTS, int_out=None, grad=False, inplace="round_",
              inputs=unary(make=lambda rng, shape, dtype, k: (rng.integers(-8, 8, shape) / 2
                                                              + rng.choice([0.0, 0.3], shape)).astype(dtype))),
    OpInfo("round_decimals", ag.round, np_round,
           Inputs([[(3, 4)]],
                  make=lambda rng, shape, dtype, k: (rng.integers(-80, 80, shape) / 20 + 0.013).astype(dtype),
                  kwargs=[{"decimals": 1}, {"decimals": 2}]), torch="round", grad=False, method="round"),
    _unary_op("isnan", np.isnan, ints=INTS, int_out=np.bool_, grad=False, out_dtype=np.bool_),
    _unary_op("isfinite", np.isfinite, ints=INTS, int_out=np.bool_, grad=False, out_dtype=np.bool_),
    _unary_op("isinf", np.isinf, ints=INTS, int_out=np.bool_, grad=False, out_dtype=np.bool_, kernel=False),
    OpInfo("logical_not", ag.logical_not, np.logical_not, unary(make=lambda rng, shape, dtype, k:
                                                                rng.integers(-1, 2, shape).astype(dtype)),
           torch="logical_not", out_dtype=np.bool_, int_dtypes=INTS + (np.bool_,), int_out=np.bool_, grad=False,
           method="logical_not", simd=True, kernel="logical_not"),
    OpInfo("bitwise_not", operator.invert, np.invert, unary(), torch="bitwise_not", dtypes=(),
           int_dtypes=INTS + (np.bool_,), int_out=None, grad=False),
    OpInfo("clamp", ag.clamp, np_clamp,
           unary(away_from=(-0.5, 0.7, 0.3), kwargs=[{"min": -0.5, "max": 0.7}, {"min": 0.3}, {"max": 0.3}],
                 int_kwargs=[{"min": 1, "max": 5}, {"min": 2}, {"max": 2}]),
           torch="clamp", int_dtypes=INTS, int_out=None, gradgrad=True, method="clamp", inplace="clamp_",
           simd=True, kernel="clamp"),
    OpInfo("clamp_min", ag.clamp_min, lambda x, min: np.maximum(x, min),
           unary(away_from=(0.3,), kwargs=[{"min": 0.3}]),
           torch="clamp_min", method="clamp_min"),
    OpInfo("clamp_max", ag.clamp_max, lambda x, max: np.minimum(x, max),
           unary(away_from=(0.3,), kwargs=[{"max": 0.3}]),
           torch="clamp_max", method="clamp_max"),
    OpInfo("pow_scalar", ag.pow, lambda x, exponent: x ** exponent,
           unary(kwargs=[{"exponent": 3}, {"exponent": 2.0}], int_kwargs=[{"exponent": 3}, {"exponent": 0}]),
           torch="pow", int_dtypes=INTS, int_out=None,
           gradgrad=True, positional=("exponent",), method="pow", inplace="pow_", simd=True, kernel="pow_scalar"),
    OpInfo("pow_frac", lambda x: x ** 2.5, lambda x: x ** 2.5, unary(positive=(0,)), torch=SAME, gradgrad=True,
           simd=True),
    OpInfo("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, unary(), torch=SAME, gradgrad=True, simd=True,
           kernel="rpow_scalar"),
    OpInfo("add_scalar", lambda a: a + 1.5, lambda a: a + 1.5, unary(), torch=SAME, simd=True),
    OpInfo("rsub_scalar", lambda a: 2 - a, lambda a: 2 - a, unary(), torch=SAME, int_dtypes=INTS, int_out=None),
    OpInfo("rdiv_scalar", lambda a: 2 / a, lambda a: 2 / a, unary(positive=(0,)), torch=SAME, gradgrad=True),
    OpInfo("mul_scalar", lambda a: a * -3, lambda a: a * -3, unary(), torch=SAME, int_dtypes=(np.int64, np.int32),
           int_out=None, simd=True),
    OpInfo("nan_to_num", ag.nan_to_num, np.nan_to_num, unary(), torch="nan_to_num", method="nan_to_num"),
]

ACTIVATIONS = [
    OpInfo("leaky_relu", F.leaky_relu, np_leaky_relu,
           unary(away_from=(0.0,), kwargs=[{}, {"negative_slope": 0.1}]), torch="nn.functional.leaky_relu",
           gradgrad=True, functional="leaky_relu", module=nn.LeakyReLU, simd=True, kernel="leaky_relu"),
    OpInfo("elu", F.elu, np_elu, unary(away_from=(0.0,), kwargs=[{}, {"alpha": 1.3}]), torch="nn.functional.elu",
           gradgrad=True, module=nn.ELU, simd=True, kernel="elu", tol32=5e-5),
    OpInfo("celu", F.celu, np_celu, unary(away_from=(0.0,), kwargs=[{}, {"alpha": 0.7}]),
           torch="nn.functional.celu", gradgrad=True, module=nn.CELU),
    OpInfo("selu", F.selu, np_selu, unary(away_from=(0.0,)), torch="nn.functional.selu", gradgrad=True,
           module=nn.SELU),
    OpInfo("softplus", F.softplus, np_softplus, unary(kwargs=[{}, {"beta": 2.0}]), torch="nn.functional.softplus",
           gradgrad=True, module=nn.Softplus, simd=True, kernel="softplus"),
    OpInfo("gelu", F.gelu, np_gelu, unary(kwargs=[{}]), torch="nn.functional.gelu", gradgrad=True,
           module=nn.GELU, simd=True, kernel="gelu"),
    OpInfo("gelu_tanh", F.gelu, np_gelu, unary(kwargs=[{"approximate": "tanh"}]), torch="nn.functional.gelu",
           gradgrad=True, module=nn.GELU, simd=True, kernel="gelu_tanh"),
    OpInfo("silu", F.silu, lambda x: x * np_sigmoid(x), unary(), torch="nn.functional.silu", gradgrad=True,
           module=nn.SiLU, simd=True, kernel="silu"),
    OpInfo("mish", F.mish, np_mish, unary(), torch="nn.functional.mish", gradgrad=True, module=nn.Mish),
    OpInfo("relu6", F.relu6, lambda x: np.clip(x, 0, 6), unary(low=-3, high=8, away_from=(0.0, 6.0)),
           torch="nn.functional.relu6", module=nn.ReLU6),
    OpInfo("hardtanh", F.hardtanh, np_hardtanh,
           unary(away_from=(-1.0, 1.0, -0.5), kwargs=[{}, {"min_val": -0.5, "max_val": 1.5}]),
           torch="nn.functional.hardtanh", module=nn.Hardtanh),
    OpInfo("hardsigmoid", F.hardsigmoid, np_hardsigmoid, unary(low=-4, high=4, away_from=(-3.0, 3.0)),
           torch="nn.functional.hardsigmoid", module=nn.Hardsigmoid),
    OpInfo("hardswish", F.hardswish, lambda x: x * np_hardsigmoid(x), unary(low=-4, high=4, away_from=(-3.0, 3.0)),
           torch="nn.functional.hardswish", module=nn.Hardswish),
    OpInfo("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), unary(away_from=(0.0,)),
           torch="nn.functional.softsign", gradgrad=True, module=nn.Softsign),
    OpInfo("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), unary(), torch="nn.functional.tanhshrink",
           gradgrad=True, module=nn.Tanhshrink),
    OpInfo("logsigmoid", F.logsigmoid, lambda x: -np_softplus(-x), unary(), torch="nn.functional.logsigmoid",
           gradgrad=True, module=nn.LogSigmoid),
    OpInfo("softshrink", F.softshrink, np_softshrink, unary(away_from=(-0.5, 0.5), kwargs=[{}, {"lambd": 0.3}]),
           torch="nn.functional.softshrink", module=nn.Softshrink),
    OpInfo("hardshrink", F.hardshrink, np_hardshrink, unary(away_from=(-0.5, 0.5)),
           torch="nn.functional.hardshrink", module=nn.Hardshrink),
    OpInfo("threshold", F.threshold, np_threshold,
           unary(away_from=(0.1,), kwargs=[{"threshold": 0.1, "value": -1.0}]),
           torch="nn.functional.threshold", module=nn.Threshold),
]

BINARY_OPS = [
    OpInfo("add", ag.add, np.add, binary(), torch="add", int_dtypes=INTS, gradgrad=True, method="add",
           inplace="add_", operator=operator.add, simd=True, kernel="add"),
    OpInfo("sub", ag.sub, np.subtract, binary(), torch="sub", int_dtypes=INTS, method="sub", inplace="sub_",
           operator=operator.sub, simd=True, kernel="sub"),
    OpInfo("mul", ag.mul, np.multiply, binary(), torch="mul", int_dtypes=INTS, gradgrad=True, method="mul",
           inplace="mul_", operator=operator.mul, simd=True, kernel="mul"),
    OpInfo("div", ag.div, np.divide, binary(positive=(1,)), torch="div", int_dtypes=INTS, int_out=np.float32,
           gradgrad=True, method="div", inplace="div_", operator=operator.truediv, simd=True, kernel="div"),
    OpInfo("pow", ag.pow, np.power, binary(positive=(0,), int_range=(0, 6)), torch="pow", int_dtypes=INTS,
           gradgrad=True, method="pow", inplace="pow_", operator=operator.pow, simd=True, kernel="pow"),
    OpInfo("maximum", ag.maximum, np.maximum, binary(), torch="maximum", int_dtypes=INTS, gradgrad=True,
           method="maximum", simd=True, kernel="maximum"),
    OpInfo("minimum", ag.minimum, np.minimum, binary(), torch="minimum", int_dtypes=INTS, method="minimum",
           simd=True, kernel="minimum"),
    OpInfo("fmax", ag.fmax, np.fmax, binary(), torch="fmax", method="fmax"),
    OpInfo("fmin", ag.fmin, np.fmin, binary(), torch="fmin", method="fmin"),
    OpInfo("atan2", ag.atan2, np.arctan2, binary(positive=(1,)), torch="atan2", method="atan2", simd=True,
           kernel="atan2"),
    OpInfo("hypot", ag.hypot, np.hypot, binary(away_from=(0.0,)), torch="hypot", gradgrad=True, method="hypot",
           simd=True, kernel="hypot"),
    OpInfo("logaddexp", ag.logaddexp, np.logaddexp, binary(), torch="logaddexp", gradgrad=True,
           method="logaddexp", simd=True, kernel="logaddexp"),
    OpInfo("copysign", ag.copysign, np.copysign, binary(away_from=(0.0,)), torch="copysign", int_dtypes=INTS,
           int_out=np.float32, gradgrad=True, method="copysign", simd=True, kernel="copysign"),
    OpInfo("logaddexp2", ag.logaddexp2, np.logaddexp2, binary(), torch="logaddexp2", gradgrad=True,
           method="logaddexp2", simd=True, kernel="logaddexp2"),
    OpInfo("addcmul", ag.addcmul, lambda x, t1, t2, value=1: x + value * t1 * t2,
           Inputs([[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(2, 1, 4), (3, 1), (4,)]],
                  small=[[(), (), ()], [(0,), (0,), (1,)], [(2, 0), (1,), ()]],
                  kwargs=[{}, {"value": 0.5}], int_kwargs=[{}, {"value": 3}]),
           torch="addcmul", int_dtypes=INTS, gradgrad=True, method="addcmul", inplace="addcmul_"),
    OpInfo("remainder", ag.remainder, np.mod, Inputs([[(3, 4), (3, 4)], [(3, 4), (4,)]], positive=(1,)),
           torch="remainder", int_dtypes=INTS, grad=False, method="remainder", operator=operator.mod, simd=True,
           kernel="mod"),
    OpInfo("fmod", ag.fmod, np.fmod, Inputs([[(3, 4), (3, 4)], [(3, 4), (4,)]], positive=(1,)), torch="fmod",
           int_dtypes=(np.int64, np.int32), grad=False, method="fmod", simd=True, kernel="fmod"),
    OpInfo("floor_divide", ag.floor_divide, np.floor_divide, Inputs([[(3, 4), (3, 4)], [(3, 4), (4,)]], positive=(1,)),
           torch="floor_divide", torch_grad_args=(), int_dtypes=INTS, grad=False, method="floor_divide",
           operator=operator.floordiv,
           simd=True, kernel="floordiv"),
    OpInfo("eq", ag.eq, np.equal, Inputs([[(3, 4), (3, 4)], [(3, 4), (4,)]],
                                         make=_few_values),
           torch="eq", out_dtype=np.bool_, int_dtypes=INTS, int_out=np.bool_, grad=False, method="eq",
           operator=operator.eq, simd=True, kernel="eq"),
    OpInfo("ne", ag.ne, np.not_equal, Inputs([[(3, 4), (3, 4)], [(3, 4), (4,)]],
                                             make=_few_values),
           torch="ne", out_dtype=np.bool_, int_dtypes=INTS, int_out=np.bool_, grad=False, method="ne",
           operator=operator.ne, simd=True, kernel="ne"),
    OpInfo("lt", ag.lt, np.less, binary(), torch="lt", out_dtype=np.bool_, int_dtypes=INTS, int_out=np.bool_,
           grad=False, method="lt", operator=operator.lt, simd=True, kernel="lt"),
    OpInfo("le", ag.le, np.less_equal, binary(), torch="le", out_dtype=np.bool_, int_dtypes=INTS, int_out=np.bool_,
           grad=False, method="le", operator=operator.le, simd=True, kernel="le"),
    OpInfo("gt", ag.gt, np.greater, binary(), torch="gt", out_dtype=np.bool_, int_dtypes=INTS, int_out=np.bool_,
           grad=False, method="gt", operator=operator.gt, simd=True, kernel="gt"),
    OpInfo("ge", ag.ge, np.greater_equal, binary(), torch="ge", out_dtype=np.bool_, int_dtypes=INTS,
           int_out=np.bool_, grad=False, method="ge", operator=operator.ge, simd=True, kernel="ge"),
    OpInfo("logical_and", ag.logical_and, np.logical_and, binary(), torch="logical_and", out_dtype=np.bool_,
           int_dtypes=INTS + (np.bool_,), int_out=np.bool_, grad=False, method="logical_and", simd=True,
           kernel="logical_and"),
    OpInfo("logical_or", ag.logical_or, np.logical_or, binary(), torch="logical_or", out_dtype=np.bool_,
           int_dtypes=INTS + (np.bool_,), int_out=np.bool_, grad=False, method="logical_or", kernel="logical_or"),
    OpInfo("logical_xor", ag.logical_xor, np.logical_xor, binary(), torch="logical_xor", out_dtype=np.bool_,
           int_dtypes=INTS + (np.bool_,), int_out=np.bool_, grad=False, method="logical_xor", kernel="logical_xor"),
    OpInfo("bitwise_and", operator.and_, np.bitwise_and, binary(), torch="bitwise_and", dtypes=(),
           int_dtypes=INTS + (np.bool_,), grad=False),
    OpInfo("bitwise_or", operator.or_, np.bitwise_or, binary(), torch="bitwise_or", dtypes=(),
           int_dtypes=INTS + (np.bool_,), grad=False),
    OpInfo("bitwise_xor", operator.xor, np.bitwise_xor, binary(), torch="bitwise_xor", dtypes=(),
           int_dtypes=INTS + (np.bool_,), grad=False),
    OpInfo("where", lambda a, b: ag.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           binary(away_from=(0.0,)), torch=lambda a, b: a.where(a > 0, b), gradgrad=True),
    OpInfo("lerp", ag.lerp, lambda a, b, weight: a + weight * (b - a), binary(kwargs=[{"weight": 0.3}]),
           torch="lerp", method="lerp", inplace="lerp_"),
]

REDUCTIONS = [
    OpInfo("sum", ag.sum, reduction(np.sum), reduce_inputs(DIMS3, small=([(1, 1)], [(2, 1)], [(0, 3)], [(3, 0)])),
           torch="sum", int_dtypes=INTS, int_out=np.int64,
           gradgrad=True, method="sum", simd=True),
    OpInfo("mean", ag.mean, reduction(np.mean), reduce_inputs(DIMS3), torch="mean", gradgrad=True, method="mean",
           simd=True),
    OpInfo("prod", ag.prod, lambda x, dim=None, keepdim=False: np.prod(x, axis=dim, keepdims=keepdim),
           reduce_inputs(DIMS, low=0.5, high=1.5), torch="prod", int_dtypes=INTS, int_out=np.int64,
           gradgrad=True, method="prod"),
    OpInfo("amax", ag.amax, reduction(np.max), reduce_inputs(DIMS3[1:]), torch="amax", int_dtypes=INTS,
           gradgrad=True, method="amax", simd=True),
    OpInfo("amin", ag.amin, reduction(np.min), reduce_inputs(DIMS3[1:]), torch="amin", int_dtypes=INTS,
           method="amin", simd=True),
    OpInfo("max_all", ag.max, np.max, reduce_inputs([{}]), torch="max", int_dtypes=INTS, method="max"),
    OpInfo("max_dim", lambda x, **kw: ag.max(x, **kw).values, np_max_dim, reduce_inputs(DIMS[1:]),
           torch=lambda x, **kw: x.max(**kw).values, int_dtypes=INTS, gradgrad=True),
    OpInfo("min_dim", lambda x, **kw: ag.min(x, **kw)[0], np_min_dim, reduce_inputs(DIMS[1:]),
           torch=lambda x, **kw: x.min(**kw)[0], int_dtypes=INTS),
    OpInfo("argmax", ag.argmax, lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
           reduce_inputs(DIMS), torch="argmax", out_dtype=np.int64, int_dtypes=INTS, int_out=np.int64, grad=False,
           method="argmax"),
    OpInfo("argmin", ag.argmin, lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
           reduce_inputs(DIMS), torch="argmin", out_dtype=np.int64, int_dtypes=INTS, int_out=np.int64, grad=False,
           method="argmin"),
    OpInfo("var", ag.var, np_var, reduce_inputs([{}, {"dim": 1}, {"dim": (0, -1), "keepdim": True},
                                                 {"unbiased": False}, {"dim": -1, "correction": 0},
                                                 {"dim": 0, "correction": 2}], small=()),
           torch="var", gradgrad=True, method="var", simd=True),
    OpInfo("std", ag.std, np_std,
           reduce_inputs([{}, {"dim": -1}, {"dim": 1, "unbiased": False, "keepdim": True}], small=()),
           torch="std", gradgrad=True, method="std"),
    OpInfo("logsumexp", ag.logsumexp, np_logsumexp, reduce_inputs([{"dim": 1}, {"dim": -1, "keepdim": True},
                                                                   {"dim": (0, 1)}]),
           torch="logsumexp", gradgrad=True, method="logsumexp", simd=True),
    OpInfo("norm", ag.norm, np_norm, reduce_inputs([{}, {"dim": 1}, {"p": 1, "dim": -1}, {"p": 3},
                                                    {"p": float("inf"), "dim": 0}], away_from=(0.0,)),
           torch="norm", gradgrad=True, method="norm"),
    OpInfo("cumsum", ag.cumsum, lambda x, dim: np.cumsum(x, axis=dim),
           Inputs([[(3, 4, 5)], [(4, 6)], [(7,)]], small=[[(1,)], [(0,)]], kwargs=[{"dim": 0}, {"dim": -1}]),
           torch="cumsum", int_dtypes=INTS, int_out=np.int64, gradgrad=True, method="cumsum"),
    OpInfo("cumprod", ag.cumprod, lambda x, dim: np.cumprod(x, axis=dim),
           Inputs([[(4, 3)], [(5,)]], low=0.5, high=1.5, kwargs=[{"dim": 0}]), torch="cumprod", method="cumprod"),
    OpInfo("softmax", ag.softmax, np_softmax, Inputs(R3, kwargs=[{"dim": -1}, {"dim": 0}, {"dim": 1}]),
           torch="softmax", gradgrad=True, method="softmax", functional="softmax", module=nn.Softmax, simd=True),
    OpInfo("log_softmax", ag.log_softmax, np_log_softmax,
           Inputs(R3, kwargs=[{"dim": -1}, {"dim": 0}, {"dim": 1}]),
           torch="log_softmax", gradgrad=True, method="log_softmax", functional="log_softmax", module=nn.LogSoftmax,
           simd=True),
    OpInfo("softmax_1d", ag.softmax, np_softmax, Inputs([[(7,)], [(1,)]], kwargs=[{"dim": 0}]), torch="softmax",
           method="softmax"),
    OpInfo("all", ag.all, lambda x, dim=None: np.all(x, axis=dim), Inputs([[(3, 4)]], kwargs=[{}, {"dim": 1}]),
           torch="all", dtypes=(), int_dtypes=(np.bool_, np.int64), int_out=np.bool_, grad=False, method="all"),
    OpInfo("any", ag.any, lambda x, dim=None: np.any(x, axis=dim), Inputs([[(3, 4)]], kwargs=[{}, {"dim": 0}]),
           torch="any", dtypes=(), int_dtypes=(np.bool_, np.int64), int_out=np.bool_, grad=False, method="any"),
]

SHAPE_OPS = [
    OpInfo("reshape", lambda x: x.reshape(-1, 2), lambda x: x.reshape(-1, 2), Inputs([[(3, 4)], [(2, 3, 2)]]),
           torch=SAME, int_dtypes=INTS),
    OpInfo("reshape_tuple", lambda x: x.reshape((6, 4)), lambda x: x.reshape((6, 4)), Inputs([[(2, 3, 4)]]),
           torch=SAME),
    OpInfo("view", lambda x: x.view(2, 12), lambda x: x.reshape(2, 12), Inputs([[(2, 3, 4)], [(4, 6)]]),
           torch=SAME, only_layouts=("contiguous",)),
    OpInfo("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), Inputs([[(3, 4, 5)]]),
           torch=SAME, int_dtypes=INTS),
    OpInfo("transpose", ag.transpose, lambda x, dim0, dim1: x.swapaxes(dim0, dim1),
           Inputs([[(3, 4)], [(2, 3, 4)]], kwargs=[{"dim0": 0, "dim1": 1}, {"dim0": -1, "dim1": 0}]),
           torch="transpose", method="transpose"),
    OpInfo("T", lambda x: x.T, lambda x: x.T, Inputs([[(3, 4)]]), torch=SAME),
    OpInfo("mT", lambda x: x.mT, lambda x: x.swapaxes(-1, -2), Inputs([[(2, 3, 4)]]), torch=SAME),
    OpInfo("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           Inputs([[(3, 1)], [(1, 4)]]), torch=SAME, int_dtypes=INTS),
    OpInfo("expand_as", lambda x: x[:1].expand_as(x), lambda x: np.broadcast_to(x[:1], x.shape), Inputs([[(3, 4)]]),
           torch=SAME),
    OpInfo("flatten", ag.flatten, lambda x, start_dim=0, end_dim=-1: x.reshape(
        x.shape[:start_dim] + (-1,) + (x.shape[end_dim + 1:] if end_dim != -1 else ())),
        Inputs([[(2, 3, 4)]], kwargs=[{}, {"start_dim": 1}, {"start_dim": 0, "end_dim": 1}]), torch="flatten",
        method="flatten"),
    OpInfo("unflatten", lambda x: x.unflatten(-1, (2, -1)), lambda x: x.reshape(x.shape[:-1] + (2, -1)),
           Inputs([[(3, 4)], [(2, 3, 6)]]), torch=SAME),
    OpInfo("unsqueeze", ag.unsqueeze, lambda x, dim: np.expand_dims(x, dim),
           Inputs([[(3, 4)]], kwargs=[{"dim": 1}, {"dim": -1}, {"dim": 0}]), torch="unsqueeze", method="unsqueeze"),
    OpInfo("squeeze", lambda x: x.unsqueeze(0).unsqueeze(2).squeeze(), lambda x: x, Inputs([[(3, 4)]]), torch=SAME),
    OpInfo("squeeze_dim", lambda x: x.unsqueeze(1).squeeze(1), lambda x: x, Inputs([[(3, 4)]]), torch=SAME),
    OpInfo("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), Inputs([[(3, 4)]]), torch=SAME,
           int_dtypes=INTS),
    OpInfo("flip", ag.flip, lambda x, dims: np.flip(x, dims),
           Inputs([[(3, 4, 5)], [(3, 4)]], kwargs=[{"dims": (0, -1)}, {"dims": (1,)}]), torch="flip", method="flip",
           positional=("dims",),
           int_dtypes=INTS),
    OpInfo("roll", ag.roll, lambda x, shifts, dims: np.roll(x, shifts, dims),
           Inputs([[(3, 4)]], kwargs=[{"shifts": 1, "dims": 1}, {"shifts": -2, "dims": 0}]), torch="roll",
           method="roll"),
    OpInfo("tril", ag.tril, lambda x, diagonal=0: np.tril(x, diagonal),
           Inputs([[(4, 4)], [(3, 5)]], kwargs=[{}, {"diagonal": 1}]), torch="tril", method="tril"),
    OpInfo("triu", ag.triu, lambda x, diagonal=0: np.triu(x, diagonal),
           Inputs([[(4, 4)], [(3, 5)]], kwargs=[{}, {"diagonal": -1}]), torch="triu", method="triu"),
    OpInfo("narrow", ag.narrow, lambda x, dim, start, length: np.take(x, range(start, start + length), dim),
           Inputs([[(3, 4)]], kwargs=[{"dim": 1, "start": 1, "length": 2}]), torch="narrow", method="narrow"),
    OpInfo("cat", lambda a, b, dim: ag.cat([a, b], dim), lambda a, b, dim: np.concatenate([a, b], dim),
           Inputs([[(3, 4), (3, 2)], [(2, 3, 4), (2, 1, 4)]], kwargs=[{"dim": 1}]),
           torch=lambda a, b, dim: _torch_cat(a, b, dim), int_dtypes=INTS),
    OpInfo("stack", lambda a, b, dim: ag.stack([a, b], dim), lambda a, b, dim: np.stack([a, b], dim),
           Inputs([[(3, 4), (3, 4)]], kwargs=[{"dim": 1}, {"dim": 0}]),
           torch=lambda a, b, dim: _torch_stack(a, b, dim), int_dtypes=INTS),
    OpInfo("split", lambda x: x.split(2, 1)[1] * 2, lambda x: x[:, 2:4] * 2, Inputs([[(3, 5)]]), torch=SAME),
    OpInfo("split_sizes", lambda x: x.split([1, 3], dim=2)[1], lambda x: x[:, :, 1:], Inputs([[(2, 3, 4)]]),
           torch=SAME),
    OpInfo("chunk", lambda x: x.chunk(2, 0)[0] + x.chunk(2, 0)[1], lambda x: x[:2] + x[2:], Inputs([[(4, 3)]]),
           torch=SAME),
    OpInfo("getitem_basic", lambda x: x[1:, ::2, 0], lambda x: x[1:, ::2, 0], Inputs([[(3, 4, 5)]]), torch=SAME,
           int_dtypes=INTS),
    OpInfo("getitem_none_ellipsis", lambda x: x[None, ..., 1], lambda x: x[None, ..., 1], Inputs([[(3, 4, 5)]]),
           torch=SAME),
    OpInfo("getitem_none_int", lambda x: x[None, :, None, 1], lambda x: x[None, :, None, 1],
           Inputs([[(2, 3, 4)]]), torch=SAME),
    OpInfo("getitem_negative", lambda x: x[-1, -2:], lambda x: x[-1, -2:], Inputs([[(2, 3, 4)]]), torch=SAME),
    OpInfo("getitem_intlist", lambda x: x[[1, 0, 1]], lambda x: x[[1, 0, 1]], Inputs([[(2, 3, 4)]]), torch=SAME),
    OpInfo("getitem_adv_pair", lambda x: x[[0, 1], [2, 1]], lambda x: x[[0, 1], [2, 1]], Inputs([[(2, 3, 4)]]),
           torch=SAME),
    OpInfo("getitem_tensor_idx", lambda x: x[:, x.new_tensor([2, 0]).long()], lambda x: x[:, [2, 0]],
           Inputs([[(2, 3, 4)]]), torch=SAME),
    OpInfo("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], Inputs([[(2, 3, 4)]], away_from=(0.0,)),
           torch=SAME),
    OpInfo("index_select", lambda x, dim: x.index_select(dim, x.new_tensor([1, 1, 0]).long()),
           lambda x, dim: np.take(x, [1, 1, 0], dim), Inputs([[(3, 4)]], kwargs=[{"dim": 0}, {"dim": 1}]),
           torch=SAME),
    OpInfo("gather", lambda x: x.gather(-1, x.new_tensor([[0, 3], [2, 2], [1, 0]]).long()),
           lambda x: np.take_along_axis(x, np.array([[0, 3], [2, 2], [1, 0]]), -1), Inputs([[(3, 4)]]), torch=SAME),
    OpInfo("masked_fill", lambda x: x.masked_fill(x < 0, 0.5), lambda x: np.where(x < 0, 0.5, x),
           Inputs([[(3, 4)]], away_from=(0.0,)), torch=SAME),
]

LINALG = [
    OpInfo("matmul", ag.matmul, np.matmul, Inputs(M), torch="matmul", gradgrad=True, method="matmul",
           operator=operator.matmul, simd=True, tol32=5e-5),
    OpInfo("mm", ag.mm, np.matmul, Inputs([[(3, 4), (4, 5)]]), torch="mm", method="mm"),
    OpInfo("bmm", ag.bmm, np.matmul, Inputs([[(2, 3, 4), (2, 4, 5)]]), torch="bmm", method="bmm"),
    OpInfo("outer", ag.outer, np.outer, Inputs([[(3,), (4,)]]), torch="outer", method="outer"),
    OpInfo("dot", ag.dot, np.dot, Inputs([[(5,), (5,)]]), torch="dot", method="dot"),
    OpInfo("linear", F.linear, lambda x, w, b: x @ w.T + b,
           Inputs([[(4, 3), (5, 3), (5,)], [(2, 4, 3), (5, 3), (5,)]]),
           torch="nn.functional.linear", gradgrad=True),
]

LOSSES = [
    OpInfo("mse_loss", F.mse_loss, np_mse, loss_inputs(), torch="nn.functional.mse_loss", gradgrad=True,
           module=nn.MSELoss),
    OpInfo("l1_loss", F.l1_loss, np_l1, loss_inputs(), torch="nn.functional.l1_loss", module=nn.L1Loss),
    OpInfo("smooth_l1_loss", F.smooth_l1_loss, np_smooth_l1, loss_inputs(), torch="nn.functional.smooth_l1_loss",
           module=nn.SmoothL1Loss),
    OpInfo("huber_loss", F.huber_loss, np_huber, loss_inputs(), torch="nn.functional.huber_loss",
           module=nn.HuberLoss),
    OpInfo("binary_cross_entropy", F.binary_cross_entropy, np_bce,
           loss_inputs(make=lambda rng, shape, dtype, k: rng.uniform(0.05, 0.95, shape).astype(dtype)),
           torch="nn.functional.binary_cross_entropy", module=nn.BCELoss, gradgrad=True),
    OpInfo("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, np_bce_logits,
           loss_inputs(make=lambda rng, shape, dtype, k: (rng.uniform(-3, 3, shape) if k == 0
                                                           else rng.uniform(0, 1, shape)).astype(dtype)),
           torch="nn.functional.binary_cross_entropy_with_logits", module=nn.BCEWithLogitsLoss, gradgrad=True),
    OpInfo("soft_margin_loss", F.soft_margin_loss, np_soft_margin,
           loss_inputs(make=lambda rng, shape, dtype, k: (rng.uniform(-2, 2, shape) if k == 0
                                                           else rng.choice([-1.0, 1.0], shape)).astype(dtype)),
           torch="nn.functional.soft_margin_loss", module=nn.SoftMarginLoss, torch_grad_args=(0,)),
    OpInfo("cross_entropy", F.cross_entropy, np_cross_entropy,
           Inputs([[(5, 4), (5,)]], ints={1: (0, 4)},
                  kwargs=[{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1}]),
           torch="nn.functional.cross_entropy", module=nn.CrossEntropyLoss, gradgrad=True),
    OpInfo("nll_loss", F.nll_loss, np_nll, Inputs([[(5, 4), (5,)]], ints={1: (0, 4)},
                                                  kwargs=[{}, {"reduction": "sum"}, {"reduction": "none"}]),
           torch="nn.functional.nll_loss", module=nn.NLLLoss),
    OpInfo("kl_div", F.kl_div, np_kl_div,
           Inputs([[(4, 3), (4, 3)]], make=lambda rng, shape, dtype, k: (rng.uniform(-2, 0, shape) if k == 0 else
                                                                          rng.uniform(0.05, 1, shape)).astype(dtype),
                  kwargs=[{"reduction": "batchmean"}, {"reduction": "sum"}, {"reduction": "none"}]),
           torch="nn.functional.kl_div", module=nn.KLDivLoss),
]


def _torch_cat(a, b, dim):
    import torch
    return torch.cat([a, b], dim)


def _torch_stack(a, b, dim):
    import torch
    return torch.stack([a, b], dim)


# activations that PyTorch also exposes as torch.<name> are ag.<name> too: the same op
for _row in ACTIVATIONS:
    if hasattr(ag, _row.op.__name__):
        _row.toplevel = _row.op.__name__

OPS = UNARY_OPS + ACTIVATIONS + BINARY_OPS + REDUCTIONS + SHAPE_OPS + LINALG + LOSSES
BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "two rows share a name"


# ------------------------------------------------------------------------------------------ kernel rows
# The C op lists as _core names them (KERNEL_UNARY, KERNEL_BINARY), each with the reference of the op
# row that reaches it (OpInfo.kernel), the input domain each kernel is tested on (wide: the vector
# exp/log/tanh must hold over their whole range; normal(3) by default) and the two scalar parameters
# p0, p1 it is called with. The dtypes each kernel has are not listed: tests/test_kernels.py reads
# them from _core.op_table(). So a new op's kernel row is derived from its OpInfo row; rows are
# written below only for kernels that are no op (fused backward helpers), whose reference differs
# from the op's (bitwise logical ops) or that need another domain or parameters.
class UnaryKernel(NamedTuple):
    ref: object          # float64 (or int64) array -> array
    domain: object       # (rng, n) -> float64 array
    p0: float
    p1: float


class BinaryKernel(NamedTuple):
    ref: object


def normal(scale=3.0):
    return lambda rng, n: rng.standard_normal(n) * scale


def log_uniform(lo=0.01, hi=50.0):
    return lambda rng, n: np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _row(name, **kwargs):
    ref = BY_NAME[name].ref
    return (lambda x: ref(x, **kwargs)) if kwargs else ref


def _unary_kernel(name, domain, p0=0.0, p1=0.0, **kwargs):
    row = next(op for op in OPS if op.kernel == name)
    return UnaryKernel(_row(row.name, **kwargs), domain, p0, p1)


def _halves(rng, n):
    return rng.integers(-20, 20, n) / 2 + rng.choice([0, 0.3], n)


def _gelu_grad(x):
    return 0.5 * (1 + np_erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


def _gelu_tanh_grad(x):
    # 0.5 (1 + tanh u) = sigmoid(2u), which keeps its relative accuracy for x << 0
    k = np.sqrt(2 / np.pi)
    s = np_sigmoid(2 * k * (x + 0.044715 * x ** 3))
    return s + 2 * x * s * (1 - s) * k * (1 + 3 * 0.044715 * x * x)


KERNEL_UNARY = {row.kernel: UnaryKernel(row.ref, normal(), 0.0, 0.0) for row in OPS
                if row.kernel in _core.UNARY_OPS}
KERNEL_UNARY.update({
    "exp": _unary_kernel("exp", normal(10)),
    "log": _unary_kernel("log", log_uniform(1e-30, 1e30)),
    "log1p": _unary_kernel("log1p", log_uniform(1e-8, 1e6)),
    "expm1": _unary_kernel("expm1", normal(2)),
    "sqrt": _unary_kernel("sqrt", log_uniform()),
    "rsqrt": _unary_kernel("rsqrt", log_uniform()),
    "tanh": _unary_kernel("tanh", normal(4)),
    "sigmoid": _unary_kernel("sigmoid", normal(10)),
    "round": _unary_kernel("round", _halves),
    "reciprocal": _unary_kernel("reciprocal", log_uniform()),
    "logical_not": _unary_kernel("logical_not", lambda rng, n: rng.integers(-1, 2, n).astype(np.float64)),
    "clamp": _unary_kernel("clamp", normal(), -1.5, 2.0, min=-1.5, max=2.0),
    "leaky_relu": _unary_kernel("leaky_relu", normal(), 0.125, negative_slope=0.125),
    "pow_scalar": _unary_kernel("pow_scalar", log_uniform(), 1.7, exponent=1.7),
    "rpow_scalar": UnaryKernel(lambda x: 1.7 ** x, normal(), 1.7, 0.0),
    "affine": UnaryKernel(lambda x: 2 * x + 3, normal(), 2.0, 3.0),
    "elu": _unary_kernel("elu", normal(), 1.5, alpha=1.5),
    "softplus": _unary_kernel("softplus", normal(8), 1.0, 20.0),
    "gelu_tanh": _unary_kernel("gelu_tanh", normal(), approximate="tanh"),
    "silu": _unary_kernel("silu", normal(5)),
})


def _floor_divide(a, b):
    with np.errstate(all="ignore"):
        return np.floor_divide(a, b)


KERNEL_BINARY = {row.kernel: BinaryKernel(row.ref) for row in OPS if row.kernel in _core.BINARY_OPS}
KERNEL_BINARY.update({
    "floordiv": BinaryKernel(_floor_divide),
    # the kernels are bitwise on integers (the ops compare each operand with 0 first)
    "logical_and": BinaryKernel(np.bitwise_and),
    "logical_or": BinaryKernel(np.bitwise_or),
    "logical_xor": BinaryKernel(np.bitwise_xor),
    # fused backward kernels: (saved value, incoming gradient) -> input gradient
    "sigmoid_bwd": BinaryKernel(lambda y, g: g * y * (1 - y)),
    "tanh_bwd": BinaryKernel(lambda y, g: g * (1 - y * y)),
    "relu_bwd": BinaryKernel(lambda x, g: np.where(x <= 0, 0, g)),
    "silu_bwd": BinaryKernel(lambda x, g: g * np_sigmoid(x) * (1 + x * (1 - np_sigmoid(x)))),
    "gelu_bwd": BinaryKernel(lambda x, g: g * _gelu_grad(x)),
    "gelu_tanh_bwd": BinaryKernel(lambda x, g: g * _gelu_tanh_grad(x)),
    "softplus_bwd": BinaryKernel(lambda x, g: np.where(x > 20, g, g * np_sigmoid(x))),
    "elu_bwd": BinaryKernel(lambda x, g: np.where(x <= 0, g * np.exp(x), g)),
})
