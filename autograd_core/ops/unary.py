"""Unary elementwise ops: forward in C, each VJP on the line that defines the op.

`_unary_op(name, grad, save=..., doc=...)` is one kernel's op in one statement: `grad(x, y, g, p0, p1)`
is the VJP written with Tensor ops (so create_graph works), and a docstring publishes it as ag.<name>
and Tensor.<name>. The op's row in agc.h (read through _core.op_info) says which C kernel, if any,
computes the same VJP in one pass (integer inputs of float ops compute in float32 in the binding, as
the row's flags say); that fused kernel is used when no double backward is being recorded, and it
decides what is saved (x or y). Composite ops built on them are Functions with `compute` (see
autograd.function.composite) or plain functions of other ops."""
import math

from .. import _core
from .._core import TensorBase, alias, data_alias
from .._core import binary as _binary
from .._core import unary as _unary
from ..autograd.function import _FREED, Function, unary_primitive
from ..autograd.grad_mode import state
from ._grad import _grad_to, _meta
from ._registry import op, tensor_method
from .creation import as_tensor, zeros_like

# dtype codes 2.._F16-1 are the integers and bool; below and from _F16 on are the floating dtypes
_F16 = _core.F16


U = _core.UNARY_OPS
B = _core.BINARY_OPS
# the codes the composite ops below call per element of work (a dict lookup per call otherwise)
_BOOL, _GE, _FLOOR, _CEIL, _CLAMP = _core.BOOL, B["ge"], U["floor"], U["ceil"], U["clamp"]


def _float_input(x):
    return x if not 1 < x._dtype_code < _F16 else x.to(_core.F32)


def _unary_op(name, grad, save="x", fused_if=None, doc=None):
    """One C unary kernel as an op, in one statement: the Function and the call (autograd.function's
    unary_primitive decides between a graph node and the kernel). grad(x, y, g, p0, p1) is the VJP in
    Tensor ops. The fused backward comes from the op registry (agc.h's rows): the fused C kernel
    computes the VJP in one pass when no graph is recorded in backward and decides what is saved (x
    or y); for ops with parameters it has the default ones, so it is used only when fused_if(p0, p1).

    With a docstring `doc` the op is public: the result is its one-argument form, published as
    ag.<name> and Tensor.<name> (`.op` is the form with parameters). Without one the result is the
    form with parameters, op(x, p0=0.0, p1=0.0), for the functions built on it (`.public` is the
    one-argument form). Both carry `.Function`."""
    info = _core.op_info("unary", name)
    code = info.code
    fused_code = B[info.fused] if info.fused else None
    if info.fused:
        save = _core.op_info("binary", info.fused).grad_of

    def forward(ctx, x, p0=0.0, p1=0.0):  # (x requires grad, so it is a float tensor)
        y = _unary(code, x, p0, p1)
        if p0 or p1:
            ctx.p = (p0, p1)  # (else the class default, (0.0, 0.0))
        # the output is saved as an alias without grad_fn: saving y itself would make the cycle
        # y -> node -> y (see autograd.function._SavedOutput); backward re-attaches it if needed
        v = data_alias(y) if save_y else x
        ctx._saved = (v,)
        ctx._saved_versions = (v._version,)
        return y

    def backward(ctx, g):
        saved = ctx._saved
        if saved is _FREED or saved[0]._version != ctx._saved_versions[0]:
            saved = ctx.saved_tensors  # raises the error that says what happened
        v = saved[0]
        if save_y and state.enabled:  # create_graph: the saved output must lead back to this node
            v = alias(v)
            v._attach(ctx, 0)
        if fused_code is not None and not state.enabled and (fused_if is None or fused_if(*ctx.p)):
            gx = _binary(fused_code, v, g)
        else:
            x, y = (None, v) if save == "y" else (v, None)
            gx = grad(x, y, g, *ctx.p)
        # one gradient per forward argument: (x) or (x, p0, p1)
        return (gx,) if len(ctx.next_edges) == 1 else (gx, None, None)

    save_y = save == "y"
    cls = type(name.title().replace("_", ""), (Function,),
               {"forward": staticmethod(forward), "backward": staticmethod(backward), "_core_forward": True,
                "p": (0.0, 0.0)})

    with_params, public = unary_primitive(cls, _unary, code)
    with_params.__name__ = name
    public.__name__ = public.__qualname__ = name
    public.__module__ = __name__
    public.__doc__ = doc
    for f in (with_params, public):
        f.Function, f.op, f.public = cls, with_params, public
    return op(public) if doc is not None else with_params


def _nondiff(name):
    """A piecewise-constant op: its output requires grad like the input's and gets a zero gradient (as
    PyTorch). One kernel, so unary_primitive decides between a node and the kernel."""
    code = U[name]

    def forward(ctx, x):
        return _unary(code, x)

    def backward(ctx, g):
        return zeros_like(g)

    cls = type(name.title(), (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                           "_core_forward": True})
    return unary_primitive(cls, _unary, code)[1]


# ---------------------------------------------------------------------- the unary kernels: one row each
# A row with a docstring is public (ag.<name> and Tensor.<name>); the others are the kernels that the
# functions below build on.
neg = _unary_op("neg", lambda x, y, g, *p: -g, doc="""``-x``, elementwise (also ``-x`` and ``ag.negative``).""")
abs = _unary_op("abs", lambda x, y, g, *p: g * sign(x), doc="""\
``|x|``, elementwise (also ``abs(x)``). Its gradient is ``sign(x)``: 0 at 0.

Example:
    >>> ag.abs(ag.tensor([-2, 0, 3]))
    tensor([2, 0, 3])
""")
_square = _unary_op("square", lambda x, y, g, *p: g * 2 * x)
exp = _unary_op("exp", lambda x, y, g, *p: g * y, save="y", doc="""\
``e ** x``, elementwise. Integer inputs give a float32 result.

Example:
    >>> ag.exp(ag.tensor([0.0, 1.0]))
    tensor([1.0000, 2.7183])
""")
log = _unary_op("log", lambda x, y, g, *p: g / x, doc="""\
The natural logarithm, elementwise (``-inf`` at 0, ``nan`` below). Integer inputs give a float32 result.
""")
log1p = _unary_op("log1p", lambda x, y, g, *p: g / (x + 1), doc="""\
``log(1 + x)``, accurate for small ``x``. Integer inputs give a float32 result.""")
# g * exp(x), not g * (y + 1): for x < -37 the float64 y + 1 is 0 while exp(x) is not
expm1 = _unary_op("expm1", lambda x, y, g, *p: g * exp(x), doc="""\
``exp(x) - 1``, accurate for small ``x``. Integer inputs give a float32 result.""")
sqrt = _unary_op("sqrt", lambda x, y, g, *p: g / (2 * y), save="y", doc="""\
The square root, elementwise (``nan`` below 0). Integer inputs give a float32 result.""")
rsqrt = _unary_op("rsqrt", lambda x, y, g, *p: g * -0.5 * y * y * y, save="y", doc="""\
``1 / sqrt(x)``, elementwise. Integer inputs give a float32 result.""")
sin = _unary_op("sin", lambda x, y, g, *p: g * cos(x), doc="""\
The sine (radians), elementwise. Integer inputs give a float32 result.""")
cos = _unary_op("cos", lambda x, y, g, *p: -g * sin(x), doc="""\
The cosine (radians), elementwise. Integer inputs give a float32 result.""")
# (tanh and sigmoid save y: their fused backward kernels read it)
tanh = _unary_op("tanh", lambda x, y, g, *p: g * (1 - y * y), doc="""\
The hyperbolic tangent, elementwise; its gradient is ``1 - tanh(x)^2``. Integer inputs give a float32
result.
""")
sigmoid = _unary_op("sigmoid", lambda x, y, g, *p: g * y * (1 - y), doc="""\
The logistic sigmoid ``1 / (1 + exp(-x))``, elementwise; its gradient is ``sigmoid(x) (1 - sigmoid(x))``.
Integer inputs give a float32 result.

Example:
    >>> ag.sigmoid(ag.tensor([0.0]))
    tensor([0.5000])
""")
# the kinks' closed side is tested (x <= 0), so a NaN x passes the gradient through, as in PyTorch
relu = _unary_op("relu", lambda x, y, g, *p: where(x <= 0, 0.0, g), doc="""\
``max(0, x)``, elementwise; its gradient is 1 where ``x > 0``, else 0.

Example:
    >>> ag.relu(ag.tensor([-1.0, 2.0]))
    tensor([0., 2.])
""")
erf = _unary_op("erf", lambda x, y, g, *p: g * (2 / math.sqrt(math.pi)) * exp(-x * x), doc="""\
The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise. Integer inputs give a float32
result.
""")
_reciprocal = _unary_op("reciprocal", lambda x, y, g, *p: -g * y * y, save="y")
_clamp = _unary_op("clamp", lambda x, y, g, lo, hi: g * ((x >= lo) & (x <= hi)))
# (g * slope, not g * where(x > 0, 1.0, slope): a where of two Python floats is float32, which would
# round the float64 gradient)
_leaky_relu = _unary_op("leaky_relu", lambda x, y, g, slope, _: where(x > 0, g, g * slope))
_pow_scalar = _unary_op("pow_scalar", lambda x, y, g, e, _: g * e * _pow_scalar(x, e - 1) if e != 0 else g * 0)
_rpow_scalar = _unary_op("rpow_scalar", lambda x, y, g, base, _: g * y * math.log(base), save="y")
_affine = _unary_op("affine", lambda x, y, g, a, b: g * a)
# (the closed side x <= 0 is tested, so a NaN x passes g through, as PyTorch)
_elu = _unary_op("elu", lambda x, y, g, alpha, _: g * where(x <= 0, alpha * exp(x), 1.0),
                 fused_if=lambda alpha, _: alpha == 1.0)
_softplus = _unary_op("softplus", lambda x, y, g, beta, thr: g * where(x * beta > thr, 1.0, sigmoid(x * beta)),
                      fused_if=lambda beta, thr: beta == 1.0 and thr == 20.0)
_gelu = _unary_op("gelu", lambda x, y, g, *p: g * (0.5 * (1 + erf(x * (1 / math.sqrt(2))))
                                                    + x * exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))))
_gelu_tanh = _unary_op("gelu_tanh", lambda x, y, g, *p: g * _gelu_tanh_grad(x))
_silu = _unary_op("silu", lambda x, y, g, *p: g * sigmoid(x) * (1 + x * (1 - sigmoid(x))))
_sign = _nondiff("sign")
_floor = _nondiff("floor")
_ceil = _nondiff("ceil")
_round = _nondiff("round")


def _gelu_tanh_grad(x):
    """d/dx of x/2 (1 + tanh(k (x + 0.044715 x^3))): the one Python copy (csrc/elementwise.c has the
    fused kernel gelu_tanh_bwd)."""
    k = math.sqrt(2 / math.pi)
    inner = k * (x + 0.044715 * x * x * x)
    t = tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


negative = op(neg, name="negative")


@op
def sign(x):
    """-1, 0 or 1; zero gradient."""
    return _sign(x) if x._dtype_code != _core.BOOL else x.clone()


@op
def square(x):
    """``x * x``, elementwise (a bool tensor squares to int64, as in PyTorch)."""
    # bool squares like PyTorch's: to int64 first
    return _square.public(x.to(_core.I64) if x._dtype_code == _core.BOOL else x)


@op
def tan(x):
    """The tangent (radians), elementwise."""
    x = _float_input(x)
    return sin(x) / cos(x)


def _half_exp_square(x):
    """(h / 2) h and 1 / (2 h h) with h = exp(|x| / 2): exp(|x|) / 2 and exp(-|x|) / 2 without
    overflowing before the result does (float32 sinh(89) is finite, exp(89) is not)."""
    h = exp(abs(x) * 0.5)
    return (h * 0.5) * h, 0.5 / (h * h)


def _sinh_values(x):
    big, small = _half_exp_square(x)
    # near 0, expm1 keeps the relative precision that exp(x) - exp(-x) loses to cancellation
    near = (expm1(x) - expm1(-x)) * 0.5
    return where(abs(x) < 1, near, sign(x) * (big - small))


def _cosh_values(x):
    big, small = _half_exp_square(x)
    return big + small


class Sinh(Function):
    compute = staticmethod(_sinh_values)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _sinh_values(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cosh(x)


class Cosh(Function):
    compute = staticmethod(_cosh_values)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _cosh_values(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sinh(x)


@op
def sinh(x):
    """The hyperbolic sine ``(e^x - e^-x) / 2``, elementwise."""
    return Sinh.call(_float_input(x))  # (float first: -x of a uint8 wraps around)


@op
def cosh(x):
    """The hyperbolic cosine ``(e^x + e^-x) / 2``, elementwise."""
    return Cosh.call(_float_input(x))


@op
def logsigmoid(x):
    """log(sigmoid(x)) computed stably as -softplus(-x). Integer inputs raise TypeError, as in PyTorch."""
    return -softplus(-_activation_input(x, "logsigmoid"))


@op
def relu6(x):
    """``min(max(0, x), 6)``, elementwise."""
    return hardtanh(x, 0.0, 6.0)


class Hardtanh(Function):
    """clamp's values, with a zero gradient at the two kinks (PyTorch's hardtanh, relu6 and hardsigmoid
    count x == min_val and x == max_val as outside; clamp counts them as inside)."""

    _core_forward = True
    # (without a node, clamp: it also propagates a NaN bound)
    compute = staticmethod(lambda x, lo, hi: clamp(x, lo, hi))

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return _unary(U["clamp"], x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return where((x <= lo) | (x >= hi), 0.0, g), None, None  # (NaN: g, as PyTorch)


@op
def hardtanh(x, min_val=-1.0, max_val=1.0):
    """clamp(x, min_val, max_val); integer tensors stay integer, as in PyTorch."""
    code = x._dtype_code
    if code == _core.BOOL:
        raise TypeError("hardtanh: bool inputs are not supported")
    if code > 1:
        if code == _core.U8 and min_val < 0:
            raise TypeError(f"hardtanh: cannot clamp a uint8 tensor to a negative lower limit ({min_val})")
        # on integers, clamping to [-1.5, 6.5] is clamping to [-1, 6]
        return clamp(x, math.ceil(min_val), math.floor(max_val))
    return Hardtanh.call(x, float(min_val), float(max_val))


@op
def floor(x):
    """The largest integer not above ``x``, elementwise (integer tensors: a copy); zero gradient."""
    return _floor(x) if not 1 < x._dtype_code < _F16 else x.clone()


@op
def ceil(x):
    """The smallest integer not below ``x``, elementwise (integer tensors: a copy); zero gradient."""
    return _ceil(x) if not 1 < x._dtype_code < _F16 else x.clone()


@op
def round(x, decimals=0):
    """Round half to even, like torch.round."""
    if 1 < x._dtype_code < _F16:
        return x.clone()
    if decimals:
        s = 10.0 ** decimals
        return _round(x * s) / s
    return _round(x)


def _trunc_values(x):
    return _core.where(_binary(_GE, x, 0), _unary(_FLOOR, x), _unary(_CEIL, x))


class Trunc(Function):
    """Round toward zero; a zero gradient (the output requires grad like the input's, as in PyTorch)."""

    compute = staticmethod(_trunc_values)

    @staticmethod
    def forward(ctx, x):
        return _trunc_values(x)

    @staticmethod
    def backward(ctx, g):
        return g * 0


@op
def trunc(x):
    """Round toward zero; zero gradient."""
    if 1 < x._dtype_code < _F16:
        return x.clone()
    return Trunc.call(x)


fix = trunc


@op
def frac(x):
    """The fractional part ``x - trunc(x)`` (floating-point tensors only); gradient 1."""
    if 1 < x._dtype_code < _F16:
        raise TypeError(f"frac: not implemented for dtype {x.dtype.name} (floating point tensors only)")
    return x - trunc(x).detach()


@op
def reciprocal(x):
    """``1 / x``, elementwise. Integer inputs give a float32 result."""
    return _reciprocal(_float_input(x))


@op
def isnan(x):
    """A bool tensor: True where ``x`` is NaN."""
    return _unary(U["isnan"], x)


@op
def isfinite(x):
    """A bool tensor: True where ``x`` is neither infinite nor NaN."""
    return _unary(U["isfinite"], x)


@op
def isinf(x):
    """A bool tensor: True where ``x`` is ``+inf`` or ``-inf``."""
    return ~(isfinite(x) | isnan(x))


@op
def logical_not(x):
    """A bool tensor: True where ``x`` is zero (or False)."""
    return _unary(U["logical_not"], x)


@op
def clamp(x, min=None, max=None):
    """Limit x to [min, max]; min or max may be omitted, or be tensors (broadcast). A NaN bound gives
    NaN, as in PyTorch."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, TensorBase) or isinstance(max, TensorBase):
        lo = None if min is None else min if isinstance(min, TensorBase) else as_tensor(min)
        hi = None if max is None else max if isinstance(max, TensorBase) else as_tensor(max)
        return ClampTensor.call(x, lo, hi)
    lo = -math.inf if min is None else float(min)
    hi = math.inf if max is None else float(max)
    if 1 < x._dtype_code < _F16 and (isinstance(min, float) or isinstance(max, float)):
        x = x.to(_core.F32)
    if math.isnan(lo) or math.isnan(hi):
        # the kernel's comparisons skip a NaN bound; a NaN x is propagated (and gets a zero gradient)
        x = x + math.nan
    return _clamp(x, lo, hi)


def _clamp_tensor_values(x, lo, hi):
    # one result dtype for the three first (as PyTorch): clamping in two steps would round a 0-d
    # float64 x to a float32 min's dtype before comparing it with a float64 max
    code, dimensioned = x._dtype_code, x.ndim > 0
    for b in (lo, hi):
        if b is not None:  # (folded pairwise, each step standing for what came before: 0-d or not)
            code = _core.result_type(_core.empty((1,) if dimensioned else (), code), b)
            dimensioned = dimensioned or b.ndim > 0
    x, lo, hi = (t if t is None or t._dtype_code == code else t.to(code) for t in (x, lo, hi))
    if lo is not None:
        x = _binary(B["maximum"], x, lo)
    if hi is not None:
        x = _binary(B["minimum"], x, hi)
    return x


class ClampTensor(Function):
    """clamp with tensor bounds: maximum/minimum values (NaN propagates), PyTorch's gradients: x where
    min <= x <= max, min where x < min < max, max where x > max or max < min."""

    compute = staticmethod(_clamp_tensor_values)
    grad_args = (0, 1, 2)

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        ctx.metas = (_meta(x), _meta(lo), _meta(hi))
        return _clamp_tensor_values(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        mx, mlo, mhi = ctx.metas
        inside = None
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = (x <= hi) if inside is None else inside & (x <= hi)
        gx = _grad_to(where(inside, g, 0.0), mx) if ctx.needs_input_grad[0] else None
        glo = ghi = None
        if lo is not None and ctx.needs_input_grad[1]:
            below = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = _grad_to(where(below, g, 0.0), mlo)
        if hi is not None and ctx.needs_input_grad[2]:
            above = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = _grad_to(where(above, g, 0.0), mhi)
        return gx, glo, ghi


clip = op(clamp, name="clip")


@op
def clamp_min(x, min):
    """``max(x, min)``, elementwise."""
    return clamp(x, min=min)


@op
def clamp_max(x, max):
    """``min(x, max)``, elementwise."""
    return clamp(x, max=max)


# ------------------------------------------------------------------------------ activations
# The activations of nn.functional are these functions (F.gelu is ag.gelu); F adds PyTorch's inplace=
# where it has one. Like PyTorch's, they raise on integer and bool tensors (torch.nn.functional.gelu
# of an int64 tensor is an error), where sigmoid, tanh, softsign and tanhshrink promote to float32.


def _activation_input(x, op):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x._dtype_code > 1:
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")
    return x


@op(method=False)
def leaky_relu(x, negative_slope=0.01):
    """``max(0, x) + negative_slope * min(0, x)``, elementwise. Integer inputs raise TypeError."""
    return _leaky_relu(_activation_input(x, "leaky_relu"), float(negative_slope))


@op(method=False)
def elu(x, alpha=1.0):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``. Integer inputs raise TypeError."""
    return _elu(_activation_input(x, "elu"), float(alpha))


@op(method=False)
def selu(x):
    """``scale * elu(x, alpha)`` with alpha = 1.6733 and scale = 1.0507 (self-normalising)."""
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * _elu(_activation_input(x, "selu"), alpha)


@op(method=False)
def celu(x, alpha=1.0):
    """x for x > 0, else alpha (exp(x / alpha) - 1); one branch at a time, so the gradient at 0 is 1."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    x = _activation_input(x, "celu")
    # (the clamp keeps expm1 finite where the other branch is taken: inf * 0 would make a NaN gradient)
    return where(x <= 0, alpha * expm1(clamp(x, max=0.0) / alpha), x)


@op(method=False)
def softplus(x, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold`` (no overflow)."""
    return _softplus(_activation_input(x, "softplus"), float(beta), float(threshold))


@op(method=False)
def gelu(x, approximate="none"):
    """``x * Phi(x)``, Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula.
    Integer inputs raise TypeError, as in PyTorch."""
    if approximate == "none":
        return _gelu(_activation_input(x, "gelu"))
    if approximate == "tanh":
        return _gelu_tanh(_activation_input(x, "gelu"))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


@op(method=False)
def silu(x):
    """``x * sigmoid(x)`` (swish), elementwise. Integer inputs raise TypeError."""
    return _silu(_activation_input(x, "silu"))


def _mish_values(x):
    return x * tanh(_softplus(x, 1.0, 20.0))  # (x is checked: softplus's kernel straight)


class Mish(Function):
    compute = staticmethod(_mish_values)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _mish_values(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = tanh(softplus(x))
        # x * sigmoid(x) before the (1 - t^2) factor: for a huge x the product stays finite and the
        # factor 0 makes it 0 (g * x first would overflow to inf, and inf * 0 is NaN)
        return g * (t + x * sigmoid(x) * (1 - t * t))


@op(method=False)
def mish(x):
    """x * tanh(softplus(x)). Integer inputs raise TypeError."""
    return Mish.call(_activation_input(x, "mish"))


def _hardsigmoid_values(x):
    return _unary(_CLAMP, x + 3, 0.0, 6.0) / 6


class Hardsigmoid(Function):
    """min(max(x + 3, 0), 6) / 6; the gradient 1/6 on the open interval (-3, 3) only (so 0 at the
    kinks and at NaN, PyTorch's values)."""

    compute = staticmethod(_hardsigmoid_values)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _hardsigmoid_values(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where((x > -3) & (x < 3), g / 6, 0.0)


@op(method=False)
def hardsigmoid(x):
    """``clamp(x / 6 + 1/2, 0, 1)``, elementwise. Integer inputs raise TypeError."""
    return Hardsigmoid.call(_activation_input(x, "hardsigmoid"))


def _hardswish_values(x):
    return x * _unary(_CLAMP, x + 3, 0.0, 6.0) / 6


class Hardswish(Function):
    """x * hardsigmoid(x); the derivative x / 3 + 0.5 on the open interval (-3, 3), 0 below, 1 above
    (PyTorch's values at the kinks)."""

    compute = staticmethod(_hardswish_values)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _hardswish_values(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * where(x <= -3, 0.0, where(x < 3, x / 3 + 0.5, 1.0))


@op(method=False)
def hardswish(x):
    """``x * clamp(x + 3, 0, 6) / 6``, elementwise. Integer inputs raise TypeError."""
    return Hardswish.call(_activation_input(x, "hardswish"))


@op(method=False)
def softsign(x):
    """``x / (1 + |x|)``, elementwise."""
    x = _float_input(x)  # (1 + abs(x) of a uint8 255 would wrap to 0)
    return x / (1 + abs(x))


@op(method=False)
def tanhshrink(x):
    """``x - tanh(x)``, elementwise."""
    x = _float_input(x)
    return x - tanh(x)


@op
def log2(x):
    """The base-2 logarithm, elementwise."""
    x = _float_input(x)
    return log(x) * (1 / math.log(2))


@op
def log10(x):
    """The base-10 logarithm, elementwise."""
    x = _float_input(x)
    return log(x) * (1 / math.log(10))


@op
def exp2(x):
    """``2 ** x``, elementwise."""
    return _rpow_scalar(_float_input(x), 2.0)


def _logit_values(x, eps):
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(x / (1 - x))


class Logit(Function):
    """log(x / (1 - x)) with PyTorch's gradient: NaN outside [0, 1]; with eps, x is clamped to
    [eps, 1 - eps] and the gradient is 0 where the clamp acts."""

    compute = staticmethod(_logit_values)

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        return _logit_values(x, eps)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        d = g / (x * (1 - x))
        if eps is None:
            return where((x < 0) | (x > 1), math.nan, d), None
        return where((x < eps) | (x > 1 - eps), 0.0, d), None


@op
def logit(x, eps=None):
    """``log(x / (1 - x))``, the inverse of the sigmoid; with ``eps``, ``x`` is first clamped into
    ``[eps, 1 - eps]``.
    """
    return Logit.call(_float_input(x), eps)  # (float first: 1 - x of a uint8 wraps around)


@op
def lerp(a, b, weight):
    """Linear interpolation ``a + weight * (b - a)`` (``weight`` a number or a tensor, broadcast).

    Example:
        >>> ag.lerp(ag.tensor([0.0, 10.0]), ag.tensor([10.0, 20.0]), 0.5)
        tensor([ 5., 15.])
    """
    return a + weight * (b - a)


@op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan``, ``+inf`` by ``posinf`` and ``-inf`` by ``neginf`` (by default the
    largest and the lowest finite values of the dtype).
    """
    if 1 < x._dtype_code < _F16:  # integers hold no NaN or inf
        return x.clone()
    big = 3.4028234663852886e38 if x._dtype_code == _core.F32 else 1.7976931348623157e308
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    x = where(isnan(x), nan, x)
    x = where(x == math.inf, posinf, x)
    return where(x == -math.inf, neginf, x)


class Where(Function):
    compute = staticmethod(_core.where)
    grad_args = (1, 2)  # (cond, a, b)

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.ma, ctx.mb = _meta(a), _meta(b)
        return _core.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        ga = _grad_to(where(cond, g, 0.0), ctx.ma) if ctx.needs_input_grad[1] else None
        gb = _grad_to(where(cond, 0.0, g), ctx.mb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


@op(method=False)
def where(cond, a=None, b=None):
    """Elementwise cond ? a : b with broadcasting (a and b may be Python scalars)."""
    if a is None and b is None:
        return cond.nonzero(as_tuple=True)
    if not isinstance(cond, TensorBase):
        raise TypeError(f"where: condition must be a bool tensor, got {type(cond).__name__}")
    if cond._dtype_code != _BOOL:
        cond = cond != 0
    # an integer tensor beside a float number computes in float32, as in PyTorch (b tested first: it is
    # a tensor in the common call, which then costs one test)
    if isinstance(b, float) and isinstance(a, TensorBase) and 1 < a._dtype_code < _F16:
        a = a.to(_core.F32)
    return Where.call(cond, a, b)


@tensor_method(name="where")
def _where_method(x, condition, other):
    """``x`` where ``condition`` is True, else ``other``: PyTorch's ``Tensor.where``, that is
    ``ag.where(condition, x, other)``.

    Example:
        >>> ag.tensor([1.0, -2.0]).where(ag.tensor([True, False]), 0.0)
        tensor([1., 0.])
    """
    return where(condition, x, other)
