"""ag.special, as torch.special: the special functions under their torch.special names."""
import math

from .nn.functional import log_softmax, softmax
from .ops.creation import full_like, ones_like, zeros_like
from .ops.special import digamma, erfinv, lgamma, mvlgamma, polygamma
from .ops.unary import erf, where

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "log1p",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
]

gammaln = lgamma
psi = digamma
multigammaln = mvlgamma


def erfc(x):
    return 1 - erf(x)


def expit(x):
    return x.sigmoid()


def logit(x, eps=None):
    if eps is not None:
        x = x.clamp(eps, 1 - eps)
    return (x / (1 - x)).log()


def expm1(x):
    return x.expm1()


def exp2(x):
    return 2 ** x


def log1p(x):
    return x.log1p()


def round(x, decimals=0):
    return x.round(decimals=decimals) if decimals else x.round()


def logsumexp(x, dim, keepdim=False):
    return x.logsumexp(dim, keepdim)


def xlogy(x, y):
    """x * log(y), 0 where x == 0 (even for y == 0)."""
    return where(x == 0, zeros_like(x * y), x * y.log())


def xlog1py(x, y):
    return where(x == 0, zeros_like(x * y), x * y.log1p())


def entr(x):
    """-x log x for x > 0, 0 at 0, -inf below."""
    inner = where(x > 0, -x * where(x > 0, x, full_like(x, 1.0)).log(), zeros_like(x))
    return where(x < 0, full_like(x, float("-inf")), inner)


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0."""
    safe = where(x == 0, full_like(x, 1.0), x) * math.pi
    return where(x == 0, ones_like(x), safe.sin() / safe)
