"""Special functions: lgamma, digamma, polygamma, erfinv (and ag.special's names for them), with
PyTorch's semantics, for float32 and float64.

The forward runs in NumPy in float64: lgamma through math.lgamma element by element, digamma and
polygamma by the recurrence psi_n(x) = psi_n(x + 1) - (-1)^n n! / x^(n+1) up to x >= 10 and then
the asymptotic series with Bernoulli numbers (error below 1e-14 there), with the reflection formula
for negative x in digamma. The derivatives chain into each other (lgamma' = digamma, digamma' =
polygamma(1), polygamma(n)' = polygamma(n + 1)), so any order of gradient works.
"""
import math

import numpy as np

from .._core import TensorBase
from ..autograd.function import Function
from ._registry import op, tensor_method
from .creation import from_numpy

# B_2k for k = 1..10
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)
_SHIFT_TO = 10.0


def _input(x, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    a = np.asarray(x.detach())
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    return a


def _result(values, like):
    return from_numpy(np.array(values, dtype=like.dtype if like.dtype.kind == "f" else np.float32, order="C"))


def _lgamma_np(a):
    flat = np.asarray(a, dtype=np.float64).reshape(-1)
    out = np.empty(flat.shape)
    for i, v in enumerate(flat.tolist()):
        if math.isnan(v):
            out[i] = math.nan
        elif v <= 0 and v == math.floor(v) or math.isinf(v):
            out[i] = math.inf
        else:
            out[i] = math.lgamma(v)
    return out.reshape(np.shape(a))


def _polygamma_np(n, a):
    """psi_n(x) for x > 0 (recurrence, then the asymptotic series), float64."""
    x = np.array(a, dtype=np.float64, copy=True)
    acc = np.zeros_like(x)
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n + 1)
    fact_n = math.factorial(n)
    # psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1)
    small = x < _SHIFT_TO
    while small.any():
        acc = np.where(small, acc + sign * fact_n / np.where(small, x, 1.0) ** (n + 1), acc)
        x = np.where(small, x + 1, x)
        small = x < _SHIFT_TO
    if n == 0:
        series = np.log(x) - 0.5 / x
        x2 = x * x
        power = x2
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series - b / (2 * k * power)
            power = power * x2
        return series + acc
    series = math.factorial(n - 1) / x ** n + fact_n / (2 * x ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
    return sign * series + acc


def _digamma_np(a):
    x = np.asarray(a, dtype=np.float64)
    out = np.empty(x.shape)
    pole = (x <= 0) & (x == np.floor(x))
    negative = (x < 0) & ~pole
    positive = ~pole & ~negative
    with np.errstate(all="ignore"):
        out[positive] = _polygamma_np(0, x[positive]) if positive.any() else out[positive]
        if negative.any():
            xn = x[negative]
            # reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
            out[negative] = _polygamma_np(0, 1 - xn) - math.pi / np.tan(math.pi * xn)
    out[pole & (x == 0)] = -np.inf
    out[pole & (x < 0)] = np.nan
    out[np.isnan(x)] = np.nan
    return out


def _polygamma_any(n, a):
    if n == 0:
        return _digamma_np(a)
    x = np.asarray(a, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    positive = x > 0
    if positive.any():
        out[positive] = _polygamma_np(n, x[positive])
    pole = (x <= 0) & (x == np.floor(x))
    out[pole] = np.inf if n % 2 == 1 else -np.inf  # as PyTorch
    negative = (x < 0) & ~pole
    if negative.any():
        # psi_n(x) = psi_n(x + m) + (-1)^(n+1) n! sum_{k<m} 1 / (x + k)^(n+1), with x + m > 0
        xn = x[negative]
        m = np.ceil(-xn) + 1
        total = _polygamma_np(n, xn + m)
        sign = -1.0 if n % 2 == 0 else 1.0
        for k in range(int(m.max())):
            use = k < m
            total = total + np.where(use, sign * math.factorial(n) / (xn + k) ** (n + 1), 0.0)
        out[negative] = total
    return out


class Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _result(_lgamma_np(_input(x, "lgamma")), np.asarray(x.detach()))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * digamma(x)


class Polygamma(Function):
    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _result(_polygamma_any(n, _input(x, "polygamma")), np.asarray(x.detach()))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


@op
def lgamma(x):
    """log |Gamma(x)| elementwise (inf at the poles 0, -1, -2, ...)."""
    _input(x, "lgamma")
    return Lgamma.apply(x if x.is_floating_point() else x.float())


@op
def digamma(x):
    """psi(x) = d/dx log Gamma(x) elementwise (-inf at 0, NaN at negative integers)."""
    _input(x, "digamma")
    return Polygamma.apply(x if x.is_floating_point() else x.float(), 0)


@op(method=False)
def polygamma(n, x):
    """The n-th derivative of digamma, elementwise (n >= 0)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n!r}")
    _input(x, "polygamma")
    return Polygamma.apply(x if x.is_floating_point() else x.float(), n)


def _polygamma_method(self, n):
    r"""The ``n``-th derivative of the digamma function at each element,
    :math:`\psi^{(n)}(x) = \frac{d^{n+1}}{dx^{n+1}} \ln \Gamma(x)`; ``x.polygamma(n)`` is
    ``polygamma(n, x)``. Differentiable to any order.

    Example:
        >>> ag.tensor([1.0]).polygamma(1)
        tensor([1.6449])
    """
    return polygamma(n, self)


tensor_method(_polygamma_method, name="polygamma")


@op
def mvlgamma(x, p):
    """The multivariate log-gamma log Gamma_p(x) = p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"mvlgamma: p has to be greater than or equal to 1, got {p!r}")
    total = lgamma(x)
    for j in range(1, p):
        total = total + lgamma(x - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


_ERF = np.frompyfunc(math.erf, 1, 1)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _erfinv_np(a):
    """Giles's single-precision approximation (2010) as the start, then Newton steps in float64:
    on erf(x) = |y| for |y| <= 0.5, and on log(erfc(x)) = log(1 - |y|) above (1 - |y| is exact there,
    and erfc keeps its relative accuracy in the tail); +-inf at +-1, NaN outside [-1, 1]."""
    y = np.asarray(a, dtype=np.float64)
    out = np.full(y.shape, np.nan)
    inside = np.abs(y) < 1
    v = np.abs(y[inside])
    w = -np.log((1 - v) * (1 + v))
    central = w < 5
    wc = w - 2.5
    pc = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        pc = c + pc * wc
    wt = np.sqrt(w) - 3
    pt = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        pt = c + pt * wt
    x = np.where(central, pc, pt) * v
    tail = v > 0.5
    log_complement = np.log(np.where(tail, 1 - v, 1.0))
    for _ in range(6):
        slope = 2 / math.sqrt(math.pi) * np.exp(-x * x)
        with np.errstate(divide="ignore", invalid="ignore"):
            erfc = np.where(tail, _ERFC(x).astype(np.float64), 1.0)
            # in the tail, Newton on log(erfc(x)) = log(1 - |y|): its slope -slope / erfc stays
            # well scaled where erfc itself underflows towards 0
            step_tail = (np.log(erfc) - log_complement) * erfc / -slope
            step_mid = (_ERF(x).astype(np.float64) - v) / slope
        x = x - np.where(tail, step_tail, step_mid)
    out[inside] = np.copysign(x, y[inside])
    out[y == 1] = np.inf
    out[y == -1] = -np.inf
    return out


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        y = _result(_erfinv_np(_input(x, "erfinv")), np.asarray(x.detach()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y * y).exp() * (math.sqrt(math.pi) / 2)


@op
def erfinv(x):
    """The inverse error function elementwise (+-inf at +-1, NaN outside [-1, 1])."""
    _input(x, "erfinv")
    return Erfinv.apply(x if x.is_floating_point() else x.float())
