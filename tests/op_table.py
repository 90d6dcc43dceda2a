"""The op table: one row per op — what to call, what NumPy says the answer is, how to make inputs.

tests/test_ops.py runs every row forward against NumPy (float32 and float64) and through gradcheck
(float64), on every layout: contiguous, transposed, sliced with step 2, broadcast (stride 0), and the
small shapes (0-d, size 1, empty) where the op accepts them."""
import math
import operator
from dataclasses import dataclass, field

import numpy as np

import autograd_core as ag

LAYOUTS = ["contiguous", "transposed", "sliced", "broadcast", "small"]

ELEMENTWISE_SMALL_1 = [[()], [(1,)], [(0,)], [(2, 0)]]
ELEMENTWISE_SMALL_2 = [[(), ()], [(1,), (1,)], [(0,), (0,)], [(2, 0), (1,)], [(3, 1), ()]]


@dataclass
class Case:
    name: str
    fn: object
    ref: object
    shapes: list                      # list of shape sets, one shape per input
    low: float = -2.0
    high: float = 2.0
    away_from: tuple = ()             # keep inputs at least 0.05 from these points (kinks)
    grad: bool = True
    small: list = None                # shape sets for the "small" layout (0-d, size 1, empty)
    tol32: float = 2e-5
    tol64: float = 1e-9
    grad_tol: float = 1e-5
    int_inputs: tuple = ()            # indices of inputs that are integer (not differentiated)
    int_high: int = 3
    positive: tuple = ()              # indices of inputs kept strictly positive
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.name

    def make(self, rng, shape, dtype, k):
        if k in self.int_inputs:
            return rng.integers(0, self.int_high, size=shape).astype(np.int64)
        lo = 0.2 if k in self.positive else self.low
        a = rng.uniform(lo, self.high, size=shape)
        for p in self.away_from:
            near = np.abs(a - p) < 0.05
            a = np.where(near, p + 0.1 * np.sign(a - p + 1e-12), a)
        return a.astype(dtype)

    def inputs(self, rng, dtype, layout):
        """Yield lists of numpy arrays (views with the layout's strides)."""
        if layout == "small":
            for shapes in self.small or []:
                yield [self.make(rng, s, dtype, k) for k, s in enumerate(shapes)]
            return
        for shapes in self.shapes:
            yield [_layout(self.make(rng, s, dtype, k), layout, rng) for k, s in enumerate(shapes)]


def _layout(a, layout, rng):
    if layout == "contiguous" or a.ndim == 0:
        return a
    if layout == "transposed":
        # same values, reversed memory order
        return np.ascontiguousarray(a.T).T
    if layout == "sliced":
        big = np.empty(a.shape[:-1] + (a.shape[-1] * 2,), a.dtype)
        big[..., ::2] = a
        big[..., 1::2] = 7
        return big[..., ::2]
    if layout == "broadcast":
        # repeat the first row along axis 0 through a zero stride
        return np.broadcast_to(a[:1], a.shape)
    raise ValueError(layout)


def seeded(name):
    return np.random.default_rng(abs(hash(name)) % (2 ** 32))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf)(x) if x.size else x.copy()


def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x, axis, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    r = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


U1 = [[(5,)], [(3, 4)], [(2, 3, 5)], [(17,)]]
B2 = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 5), (3, 1)], [(4,), (2, 3, 4)], [(3, 4), ()]]
R3 = [[(3, 4, 5)]]
M = [[(3, 4), (4, 5)], [(2, 3, 4), (4,)], [(4,), (4, 2)], [(4,), (4,)], [(2, 3, 4), (2, 4, 5)],
     [(2, 1, 3, 4), (3, 4, 2)], [(1, 7), (7, 9)], [(13, 17), (17, 19)]]

OPS = [
    # ---------------------------------------------------------------- unary
    Case("neg", operator.neg, np.negative, U1, small=ELEMENTWISE_SMALL_1),
    Case("abs", ag.abs, np.abs, U1, away_from=(0.0,), small=ELEMENTWISE_SMALL_1),
    Case("exp", ag.exp, np.exp, U1, small=ELEMENTWISE_SMALL_1),
    Case("log", ag.log, np.log, U1, low=0.1, small=ELEMENTWISE_SMALL_1, positive=(0,)),
    Case("log1p", ag.log1p, np.log1p, U1, low=-0.5, small=ELEMENTWISE_SMALL_1),
    Case("expm1", ag.expm1, np.expm1, U1, small=ELEMENTWISE_SMALL_1),
    Case("sqrt", ag.sqrt, np.sqrt, U1, low=0.1, small=ELEMENTWISE_SMALL_1, positive=(0,)),
    Case("rsqrt", ag.rsqrt, lambda x: 1 / np.sqrt(x), U1, low=0.2, small=ELEMENTWISE_SMALL_1, positive=(0,)),
    Case("square", ag.square, np.square, U1, small=ELEMENTWISE_SMALL_1),
    Case("sin", ag.sin, np.sin, U1, small=ELEMENTWISE_SMALL_1),
    Case("cos", ag.cos, np.cos, U1, small=ELEMENTWISE_SMALL_1),
    Case("tan", ag.tan, np.tan, U1, low=-1.2, high=1.2),
    Case("tanh", ag.tanh, np.tanh, U1, small=ELEMENTWISE_SMALL_1),
    Case("sigmoid", ag.sigmoid, _sigmoid, U1, small=ELEMENTWISE_SMALL_1),
    Case("relu", ag.relu, lambda x: np.maximum(x, 0), U1, away_from=(0.0,), small=ELEMENTWISE_SMALL_1),
    Case("reciprocal", ag.reciprocal, lambda x: 1 / x, U1, away_from=(0.0,), low=0.3, positive=(0,)),
    Case("clamp", lambda x: ag.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), U1, away_from=(-0.5, 0.7),
         small=ELEMENTWISE_SMALL_1),
    Case("clamp_min", lambda x: x.clamp(min=0.3), lambda x: np.maximum(x, 0.3), U1, away_from=(0.3,)),
    Case("leaky_relu", lambda x: ag.nn.functional.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), U1,
         away_from=(0.0,)),
    Case("elu", lambda x: ag.nn.functional.elu(x, 1.3), lambda x: np.where(x > 0, x, 1.3 * np.expm1(x)), U1,
         away_from=(0.0,)),
    Case("softplus", lambda x: ag.nn.functional.softplus(x), lambda x: np.log1p(np.exp(x)), U1),
    Case("gelu", lambda x: ag.nn.functional.gelu(x), _gelu, U1),
    Case("gelu_tanh", lambda x: ag.nn.functional.gelu(x, approximate="tanh"), _gelu_tanh, U1),
    Case("silu", lambda x: ag.nn.functional.silu(x), lambda x: x * _sigmoid(x), U1),
    Case("erf", ag.erf, _erf, U1),
    Case("pow_scalar", lambda x: x ** 3, lambda x: x ** 3, U1, small=ELEMENTWISE_SMALL_1),
    Case("pow_frac", lambda x: x ** 2.5, lambda x: x ** 2.5, U1, low=0.2, positive=(0,)),
    Case("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, U1),
    Case("sign", ag.sign, np.sign, U1, grad=False, away_from=(0.0,)),
    Case("floor", ag.floor, np.floor, U1, grad=False),
    Case("ceil", ag.ceil, np.ceil, U1, grad=False),
    Case("round", ag.round, np.round, U1, grad=False, away_from=(-1.5, -0.5, 0.5, 1.5)),
    Case("trunc", ag.trunc, np.trunc, U1, grad=False),
    Case("isnan", ag.isnan, np.isnan, U1, grad=False),
    Case("isfinite", ag.isfinite, np.isfinite, U1, grad=False),
    # ---------------------------------------------------------------- binary
    Case("add", operator.add, np.add, B2, small=ELEMENTWISE_SMALL_2),
    Case("sub", operator.sub, np.subtract, B2, small=ELEMENTWISE_SMALL_2),
    Case("mul", operator.mul, np.multiply, B2, small=ELEMENTWISE_SMALL_2),
    Case("div", operator.truediv, np.divide, B2, positive=(1,), small=ELEMENTWISE_SMALL_2),
    Case("pow", ag.pow, np.power, B2, positive=(0,)),
    Case("maximum", ag.maximum, np.maximum, B2, small=ELEMENTWISE_SMALL_2),
    Case("minimum", ag.minimum, np.minimum, B2),
    Case("atan2", ag.atan2, np.arctan2, B2, positive=(1,)),
    Case("hypot", ag.hypot, np.hypot, B2, away_from=(0.0,), small=ELEMENTWISE_SMALL_2),
    Case("logaddexp", ag.logaddexp, np.logaddexp, B2, small=ELEMENTWISE_SMALL_2),
    Case("remainder", lambda a, b: a % b, np.mod, [[(3, 4), (3, 4)], [(3, 4), (4,)]], positive=(1,), grad=False),
    Case("add_scalar", lambda a: a + 1.5, lambda a: a + 1.5, U1, small=ELEMENTWISE_SMALL_1),
    Case("rsub_scalar", lambda a: 2 - a, lambda a: 2 - a, U1),
    Case("rdiv_scalar", lambda a: 2 / a, lambda a: 2 / a, U1, positive=(0,)),
    Case("mul_scalar", lambda a: a * -3, lambda a: a * -3, U1),
    Case("lt", operator.lt, np.less, B2, grad=False),
    Case("ge", operator.ge, np.greater_equal, B2, grad=False),
    Case("eq", operator.eq, np.equal, [[(3, 4), (3, 4)]], grad=False),
    Case("where", lambda a, b: ag.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b), B2, away_from=(0.0,)),
    Case("lerp", lambda a, b: ag.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), B2),
    # ---------------------------------------------------------------- reductions
    Case("sum", lambda x: x.sum(), lambda x: np.sum(x), U1 + R3, small=ELEMENTWISE_SMALL_1),
    Case("sum_dim0", lambda x: x.sum(0), lambda x: x.sum(0), [[(3, 4)], [(3, 4, 5)]]),
    Case("sum_dim_last", lambda x: x.sum(-1), lambda x: x.sum(-1), [[(3, 4)], [(3, 4, 5)]]),
    Case("sum_dims_keep", lambda x: x.sum((0, 2), keepdim=True), lambda x: x.sum((0, 2), keepdims=True), R3),
    Case("mean", lambda x: x.mean(1), lambda x: x.mean(1), R3 + [[(4, 6)]]),
    Case("mean_all", lambda x: x.mean(), lambda x: x.mean(), U1, small=[[()], [(1,)]]),
    Case("prod", lambda x: x.prod(1), lambda x: x.prod(1), R3 + [[(4, 6)]], low=0.5, high=1.5),
    Case("amax", lambda x: x.amax(1), lambda x: x.max(1), R3 + [[(4, 6)]]),
    Case("amin", lambda x: x.amin((0, 2)), lambda x: x.min((0, 2)), R3),
    Case("max_all", lambda x: x.max(), lambda x: x.max(), U1 + R3),
    Case("max_dim", lambda x: x.max(1).values, lambda x: x.max(1), R3 + [[(4, 6)]]),
    Case("min_dim_keep", lambda x: x.min(-1, keepdim=True)[0], lambda x: x.min(-1, keepdims=True), R3),
    Case("argmax", lambda x: x.argmax(1), lambda x: x.argmax(1), R3, grad=False),
    Case("argmin", lambda x: x.argmin(), lambda x: x.argmin(), R3, grad=False),
    Case("var", lambda x: x.var(1), lambda x: x.var(1, ddof=1), R3 + [[(4, 6)]]),
    Case("var_biased", lambda x: x.var(unbiased=False), lambda x: x.var(), U1),
    Case("std", lambda x: x.std(-1), lambda x: x.std(-1, ddof=1), R3 + [[(4, 6)]]),
    Case("logsumexp", lambda x: x.logsumexp(1), lambda x: _logsumexp(x, 1), R3 + [[(4, 6)]]),
    Case("softmax", lambda x: x.softmax(-1), lambda x: _softmax(x, -1), R3 + [[(4, 6)], [(7,)]]),
    Case("softmax_dim0", lambda x: x.softmax(0), lambda x: _softmax(x, 0), R3 + [[(4, 6)]]),
    Case("softmax_mid", lambda x: ag.softmax(x, 1), lambda x: _softmax(x, 1), R3),
    Case("log_softmax", lambda x: x.log_softmax(-1), lambda x: x - _logsumexp(x, -1, True), R3 + [[(4, 6)]]),
    Case("log_softmax_dim0", lambda x: x.log_softmax(0), lambda x: x - _logsumexp(x, 0, True), R3),
    Case("norm", lambda x: x.norm(), lambda x: np.sqrt((x ** 2).sum()), U1 + R3),
    Case("norm_dim", lambda x: x.norm(dim=1), lambda x: np.sqrt((x ** 2).sum(1)), R3),
    Case("norm_p1", lambda x: x.norm(p=1, dim=-1), lambda x: np.abs(x).sum(-1), R3, away_from=(0.0,)),
    Case("norm_p3", lambda x: x.norm(p=3), lambda x: (np.abs(x) ** 3).sum() ** (1 / 3), U1, away_from=(0.0,)),
    Case("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(1), R3 + [[(4, 6)]]),
    Case("cumsum_last", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), U1),
    Case("cumprod", lambda x: x.cumprod(0), lambda x: x.cumprod(0), [[(4, 3)], [(5,)]], low=0.5, high=1.5),
    # ---------------------------------------------------------------- shape
    Case("reshape", lambda x: x.reshape(-1, 2), lambda x: x.reshape(-1, 2), [[(3, 4)], [(2, 3, 2)]]),
    Case("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), R3),
    Case("transpose", lambda x: x.transpose(0, 1), lambda x: x.swapaxes(0, 1), [[(3, 4)], [(2, 3, 4)]]),
    Case("T", lambda x: x.T, lambda x: x.T, [[(3, 4)]]),
    Case("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [[(3, 1)], [(1, 4)]]),
    Case("flatten", lambda x: x.flatten(1), lambda x: x.reshape(x.shape[0], -1), R3),
    Case("unsqueeze", lambda x: x.unsqueeze(1), lambda x: x[:, None], [[(3, 4)]]),
    Case("squeeze", lambda x: x.unsqueeze(0).squeeze(0), lambda x: x, [[(3, 4)]]),
    Case("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), [[(3, 4)]]),
    Case("flip", lambda x: x.flip(0, -1), lambda x: x[::-1, ..., ::-1], R3 + [[(3, 4)]]),
    Case("cat", lambda a, b: ag.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
         [[(3, 4), (3, 2)], [(2, 3, 4), (2, 1, 4)]]),
    Case("stack", lambda a, b: ag.stack([a, b], 1), lambda a, b: np.stack([a, b], 1), [[(3, 4), (3, 4)]]),
    Case("split", lambda x: x.split(2, 1)[1] * 2, lambda x: x[:, 2:4] * 2, [[(3, 5)]]),
    Case("chunk", lambda x: x.chunk(2, 0)[0] + x.chunk(2, 0)[1], lambda x: x[:2] + x[2:], [[(4, 3)]]),
    Case("getitem_basic", lambda x: x[1:, ::2, 0], lambda x: x[1:, ::2, 0], R3),
    Case("getitem_none_ellipsis", lambda x: x[None, ..., 1], lambda x: x[None, ..., 1], R3),
    Case("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [[(3, 4)]]),
    Case("tril", lambda x: x.tril(), lambda x: np.tril(x), [[(4, 4)], [(3, 5)]]),
    Case("triu", lambda x: x.triu(1), lambda x: np.triu(x, 1), [[(4, 4)]]),
    Case("roll", lambda x: x.roll(1, 1), lambda x: np.roll(x, 1, 1), [[(3, 4)]]),
    # ---------------------------------------------------------------- linear algebra
    Case("matmul", ag.matmul, np.matmul, M),
    Case("mm", ag.mm, np.matmul, [[(3, 4), (4, 5)]]),
    Case("bmm", ag.bmm, np.matmul, [[(2, 3, 4), (2, 4, 5)]]),
    Case("outer", ag.outer, np.outer, [[(3,), (4,)]]),
    Case("dot", ag.dot, np.dot, [[(5,), (5,)]]),
    Case("linear", lambda x, w, b: ag.nn.functional.linear(x, w, b), lambda x, w, b: x @ w.T + b,
         [[(4, 3), (5, 3), (5,)], [(2, 4, 3), (5, 3), (5,)]]),
]

# Ops that gradgradcheck covers (a representative set: every unary math op, mul, div, pow, matmul,
# softmax, log_softmax, reductions).
GRADGRAD = ["neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tanh",
            "sigmoid", "relu", "reciprocal", "clamp", "leaky_relu", "elu", "softplus", "gelu", "gelu_tanh", "silu",
            "erf", "pow_scalar", "rpow", "mul", "div", "pow", "maximum", "matmul", "softmax", "log_softmax",
            "sum_dims_keep", "mean", "prod", "amax", "max_dim", "var", "std", "logsumexp", "norm", "cumsum",
            "linear", "where", "hypot", "logaddexp"]
