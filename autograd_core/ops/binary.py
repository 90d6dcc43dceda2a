"""Binary elementwise ops with broadcasting: forward in C, VJPs written with Tensor ops.

The arithmetic operators have their own Functions (the per-call overhead of every + and * in a
model); every other kernel with a gradient is a `_binary_row` of its partial derivatives. Every VJP
ends with `sum_to`, which undoes broadcasting (and dtype promotion) in one place."""
import math
import numbers

import numpy as np

from .. import _core
from .._core import TensorBase
from .._core import binary as _binary
from ..autograd.function import _FREED, Function, apply_one, apply_two, binary_primitive
from ..autograd.grad_mode import state
from ._grad import _SAME, _grad_to, _meta, sum_to
from ._registry import op
from .creation import as_tensor, zeros_like

# dtype codes 2.._F16-1 are the integers and bool; below and from _F16 on are the floating dtypes
_F16 = _core.F16

op(sum_to, method=False)  # (re-exported: ag.sum_to undoes broadcasting)


_B = _core.BINARY_OPS
ADD, SUB, MUL, DIV = _B["add"], _B["sub"], _B["mul"], _B["div"]
FLOORDIV = _B["floordiv"]
_GE, _LE, _LOGICAL_OR, _ISNAN = _B["ge"], _B["le"], _B["logical_or"], _core.UNARY_OPS["isnan"]


def _operand(x, op):
    if isinstance(x, (TensorBase, int, float, bool)):
        return x
    try:
        return as_tensor(x)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: unsupported operand type {type(x).__name__}") from None


class Add(Function):
    __slots__ = ("ma", "mb")
    _core_forward = True

    @staticmethod
    def forward(ctx, a, b):
        out = _binary(ADD, a, b)
        ctx.ma, ctx.mb = out._input_meta(a), out._input_meta(b)
        return out

    @staticmethod
    def backward(ctx, g):
        ma, mb = ctx.ma, ctx.mb
        return (g if ma is _SAME else _grad_to(g, ma)), (g if mb is _SAME else _grad_to(g, mb))


class Sub(Function):
    __slots__ = ("ma", "mb")
    _core_forward = True

    @staticmethod
    def forward(ctx, a, b):
        out = _binary(SUB, a, b)
        ctx.ma, ctx.mb = out._input_meta(a), out._input_meta(b)
        return out

    @staticmethod
    def backward(ctx, g):
        return _grad_to(g, ctx.ma), (_grad_to(-g, ctx.mb) if ctx.mb else None)


class Mul(Function):
    __slots__ = ("ma", "mb")
    _core_forward = True

    @staticmethod
    def forward(ctx, a, b):
        out = _binary(MUL, a, b)
        ctx.ma, ctx.mb = out._input_meta(a), out._input_meta(b)
        ea, eb = ctx.next_edges
        # each operand is saved only when the other one's gradient is wanted (a Python scalar too)
        sa = a if eb is not None else None
        sb = b if ea is not None else None
        ctx._saved = (sa, sb)
        ctx._saved_versions = (sa._version if isinstance(sa, TensorBase) else 0,
                               sb._version if isinstance(sb, TensorBase) else 0)
        return out

    @staticmethod
    def backward(ctx, g):
        saved = ctx._saved
        if saved is _FREED:
            saved = ctx.saved_tensors  # raises the error that says what happened
        a, b = saved
        versions = ctx._saved_versions
        if (isinstance(a, TensorBase) and a._version != versions[0]) or \
                (isinstance(b, TensorBase) and b._version != versions[1]):
            ctx.saved_tensors  # raises the error that says what happened
        # (b is saved whenever a's gradient is wanted, and a whenever b's is)
        ga = gb = None
        if state.enabled:  # create_graph: differentiable products
            if b is not None:
                ga = _grad_to(g * b, ctx.ma)
            if a is not None:
                gb = _grad_to(g * a, ctx.mb)
        else:
            if b is not None:
                ga = _binary(MUL, g, b)
                if ctx.ma is not _SAME:
                    ga = _grad_to(ga, ctx.ma)
            if a is not None:
                gb = _binary(MUL, g, a)
                if ctx.mb is not _SAME:
                    gb = _grad_to(gb, ctx.mb)
        return ga, gb


class Div(Function):
    __slots__ = ("ma", "mb", "sa", "sb")
    _core_forward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.ma, ctx.mb = _meta(a), _meta(b)
        ctx.sa = a if not isinstance(a, TensorBase) else None
        ctx.sb = b if not isinstance(b, TensorBase) else None
        ctx.save_for_backward(a if isinstance(a, TensorBase) else None, b if isinstance(b, TensorBase) else None)
        return _binary(DIV, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a = a if a is not None else ctx.sa
        b = b if b is not None else ctx.sb
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _grad_to(g / b, ctx.ma)
        if ctx.needs_input_grad[1]:
            # (a / b) / b, not a / (b * b): b * b overflows or underflows first
            gb = _grad_to(-g * ((a / b) / b), ctx.mb)
        return ga, gb


class AddScalar(Function):
    """x + s (or s + x) for a Python scalar s: the gradient passes through unchanged."""

    _core_forward = True

    @classmethod
    def name(cls):
        return "AddBackward"

    @staticmethod
    def forward(ctx, x, s):
        return _binary(ADD, x, s)

    @staticmethod
    def backward(ctx, g):
        return g, None


class MulScalar(Function):
    """x * s for a Python scalar s (x - s and x / s are written with this and AddScalar)."""

    __slots__ = ("s",)
    _core_forward = True

    @classmethod
    def name(cls):
        return "MulBackward"

    @staticmethod
    def forward(ctx, x, s):
        ctx.s = s
        return _binary(MUL, x, s)

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return g * ctx.s, None
        return _binary(MUL, g, ctx.s), None


_SCALAR = (int, float)


def _recorder(fn_cls, code):
    """How a recorded a op b with a Python number goes into the graph: a float tensor with a number
    gets a dedicated node (AddScalar, MulScalar) with nothing to save or unbroadcast."""

    def record(a, b):
        if type(b) in _SCALAR:
            # (a requires grad, so it is a float tensor)
            if code == MUL:
                return apply_one(MulScalar, a, b)
            if code == ADD:
                return apply_one(AddScalar, a, b)
            if code == SUB:
                return apply_one(AddScalar, a, -b)
            if code == DIV and b != 0:
                return apply_one(MulScalar, a, 1.0 / b) if math.isfinite(b) else fn_cls.apply(a, b)
        elif type(a) in _SCALAR:
            if code == ADD or code == MUL:
                return apply_one(AddScalar if code == ADD else MulScalar, b, a)
        elif code <= DIV and isinstance(a, TensorBase) and isinstance(b, TensorBase):
            return apply_two(fn_cls, a, b)
        return fn_cls.apply(a, b)

    return record


def _operator_operand(x):
    """What Tensor's operators accept beside tensors and Python numbers: other numbers (NumPy scalars,
    Fractions), arrays and lists (as tensors)."""
    if isinstance(x, (TensorBase, bool, int, float)):
        return x
    if isinstance(x, numbers.Number):
        return float(x) if isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral) else int(x)
    if isinstance(x, (np.ndarray, list, tuple)):
        return as_tensor(x)
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _primitive(code, fn_cls, convert=False, a_is_tensor=False):
    """The function (a, b) of a binary kernel: C straight, or a graph node (the decision is
    autograd.function's binary_primitive). convert, a_is_tensor: for Tensor's operators (see there)."""
    return binary_primitive(fn_cls, _binary, code, record=_recorder(fn_cls, code) if code <= DIV else None,
                            convert=_operator_operand if convert else None, a_is_tensor=a_is_tensor,
                            scalar_cls={ADD: AddScalar, MUL: MulScalar}.get(code))


_ARITH = ((ADD, Add, "add"), (SUB, Sub, "sub"), (MUL, Mul, "mul"), (DIV, Div, "div"))
# the functions' dispatch
_add, _sub, _mul, _div = (_primitive(code, cls) for code, cls, _ in _ARITH)
# Tensor's operators (tensor.py: __add__ = OPERATORS["add"], ...), and the reflected ones called as
# REFLECTED["sub"](other, self), where the left operand is not the tensor
OPERATORS = {name: _primitive(code, cls, convert=True, a_is_tensor=True) for code, cls, name in _ARITH}
REFLECTED = {name: _primitive(code, cls, convert=True) for code, cls, name in _ARITH}


@op
def add(a, b, alpha=1):
    """a + alpha * b with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    return _add(a, b)


@op
def sub(a, b, alpha=1):
    """``a - alpha * b``, elementwise with broadcasting (also ``a - b``)."""
    if alpha != 1:
        b = mul(b, alpha)
    return _sub(a, b)


subtract = op(sub, name="subtract")


@op
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, elementwise with broadcasting (the three tensors promote
    to one dtype, as in PyTorch); the gradient flows to all three.

    Example:
        >>> ag.addcmul(ag.tensor([1.0, 1.0]), ag.tensor([2.0, 3.0]), ag.tensor([4.0, 5.0]), value=0.5)
        tensor([5.0000, 8.5000])
    """
    if isinstance(value, float) and all(isinstance(t, TensorBase) and 1 < t._dtype_code < _F16
                                        for t in (input, tensor1, tensor2)):
        raise TypeError(f"addcmul: for integer tensors ({input.dtype}, {tensor1.dtype}, {tensor2.dtype}) value "
                        f"must be an integer, got {value!r}")
    scaled = tensor1 if value == 1 else mul(tensor1, value)  # (value * tensor1 first: PyTorch's order)
    return add(input, mul(scaled, tensor2))


@op(method=False)
def rsub(a, b):
    """``b - a``, elementwise with broadcasting (the reflected ``-``)."""
    return sub(b, a)


@op
def mul(a, b):
    """``a * b``, elementwise with broadcasting; ``b`` may be a number.

    Example:
        >>> ag.mul(ag.tensor([[1.0], [2.0]]), ag.tensor([1.0, 10.0]))
        tensor([[ 1., 10.],
                [ 2., 20.]])
    """
    return _mul(a, b)


multiply = op(mul, name="multiply")


@op
def div(a, b, rounding_mode=None):
    """True division (int / int gives float32); rounding_mode 'floor' or 'trunc' rounds the result."""
    if rounding_mode is None:
        return _div(a, b)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        q = _div(a, b)
        r = q.trunc()
        code = _core.result_type(a, b)
        return r if not 1 < code < _F16 else r.to(code)
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


divide = op(div, name="divide")
true_divide = op(div, name="true_divide")


def _check_int_zero(b, op, a=None):
    if isinstance(a, TensorBase) and a.numel() == 0:  # nothing is divided
        return
    if isinstance(b, TensorBase):
        if 1 < b._dtype_code < _F16 and b.numel() and not bool(_core.reduce(_core.REDUCE_OPS["all"], b)):
            raise ZeroDivisionError(f"{op}: integer division by zero")
    elif isinstance(b, int) and b == 0:
        raise ZeroDivisionError(f"{op}: integer division by zero")


@op
def floor_divide(a, b):
    """floor(a / b) like Python's //; not differentiable (the gradient is zero almost everywhere)."""
    if 1 < _core.result_type(a, b) < _F16:
        _check_int_zero(b, "floor_divide", a)
    return _binary(FLOORDIV, a, b)


@op
def remainder(a, b):
    """a mod b with the sign of b, like Python's %."""
    if 1 < _core.result_type(a, b) < _F16:
        _check_int_zero(b, "remainder", a)
    return _mod(a, b)


@op
def fmod(a, b):
    """a mod b with the sign of a (C's fmod): fmod(-7, 4) is -3 where remainder gives 1."""
    if 1 < _core.result_type(a, b) < _F16:
        _check_int_zero(b, "fmod", a)
    return _fmod(a, b)


def _fmax_values(a, b, is_max):
    return _core.where(_fmax_take_a(a, b, is_max), a, b)


def _fmax_take_a(a, b, is_max):
    wins = _binary(_GE if is_max else _LE, a, b)
    if isinstance(b, TensorBase) and not 1 < b._dtype_code < _F16:
        wins = _binary(_LOGICAL_OR, wins, _core.unary(_ISNAN, b))
    return wins


class _FMaxMin(Function):
    """fmax/fmin: where one input is NaN the other is taken; on a tie a takes the whole gradient (PyTorch's
    choice)."""

    compute = staticmethod(_fmax_values)
    grad_args = (0, 1)

    @staticmethod
    def forward(ctx, a, b, is_max):
        take_a = _fmax_take_a(a, b, is_max)
        ctx.ma, ctx.mb = _meta(a), _meta(b)
        ctx.save_for_backward(take_a)
        return _core.where(take_a, a, b)

    @staticmethod
    def backward(ctx, g):
        (take_a,) = ctx.saved_tensors
        ga = _grad_to(g.where(take_a, 0.0), ctx.ma) if ctx.needs_input_grad[0] else None
        gb = _grad_to(g.masked_fill(take_a, 0.0), ctx.mb) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _fmaxmin(a, b, is_max):
    if _core.result_type(a, b) > 1:  # integers hold no NaN
        return (maximum if is_max else minimum)(a, b)
    return _FMaxMin.call(a, b, is_max)


@op
def fmax(a, b):
    """Elementwise maximum that ignores NaN: fmax(nan, 1) is 1 (maximum gives nan)."""
    return _fmaxmin(a, b, True)


@op
def fmin(a, b):
    """Elementwise minimum that ignores NaN."""
    return _fmaxmin(a, b, False)


def _require_float(op, a, b):
    """torch's rule for the float-only binary ops: integer or bool tensors are an error, not promoted."""
    for x in (a, b):
        if isinstance(x, TensorBase) and x._dtype_code > 1:
            raise TypeError(f"{op}: expected floating point tensors, got {_core.DTYPE_NAMES[x._dtype_code]}; "
                            f"convert with .float() first")


class _BinaryRow(Function):
    """A binary kernel whose gradients are da(g, a, b, y) and db(g, a, b, y), y the output (db None: a
    zero gradient): the rows of _binary_row set CODE, da, db and READS_Y. a and b are what the op was
    called with (a Python number stays one); each partial is called only when its gradient is wanted,
    and its result is unbroadcast here. The output is saved only when a wanted partial reads it
    (READS_Y names them, "a" and/or "b"): saving it costs a _SavedOutput alias per node."""
    CODE = da = db = None
    READS_Y = "ab"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.ma, ctx.mb = _meta(a), _meta(b)
        out = _binary(cls.CODE, a, b)
        ea, eb = ctx.next_edges
        reads = cls.READS_Y
        keep = (ea is not None and "a" in reads) or (eb is not None and "b" in reads)
        ctx.save_for_backward(a, b, out if keep else None)  # (a Python number is saved as it is)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        ga = _grad_to(cls.da(g, a, b, y), ctx.ma) if needs[0] else None
        gb = None
        if needs[1]:
            gb = _grad_to(cls.db(g, a, b, y) if cls.db else zeros_like(g), ctx.mb)
        return ga, gb


def _binary_row(name, da, db, doc=None, promote=False, cls_name=None, reads_y="ab"):
    """One binary op from its row: the agc.h op `name` (its C kernel) and the partial derivatives
    da(g, a, b, y), db(g, a, b, y) (the gradient for a and b given the output's g; db None: a zero
    gradient) make the Function (cls_name, by default the op's name) and the op's function; reads_y
    names the partials that read y ("a", "b", both or ""), so that y is saved only for them. With a
    docstring `doc` the op is public (ag.<name>, Tensor.<name>); without one the result is the
    function that public ones build on (remainder checks integer division by zero first).
    The dtypes are the kernel's (agc.h): a FLOAT op refuses integer and bool tensors, as in
    PyTorch, or with promote=True computes them in float32; the other ops keep integer dtypes."""
    info = _core.op_info("binary", name)
    fn_cls = type(cls_name or name.title().replace("_", ""), (_BinaryRow,),
                  {"CODE": info.code, "da": staticmethod(da), "db": staticmethod(db) if db else None,
                   "READS_Y": reads_y})
    primitive = _primitive(info.code, fn_cls)

    def checked(a, b):
        _require_float(name, a, b)
        return primitive(a, b)

    fn = checked if info.flags & _core.OP_FLOAT and not promote else primitive
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = doc
    fn.Function = fn_cls
    return op(fn) if doc is not None else fn


def _as_float(x, g):
    """A tensor operand of a promoting op in the gradient's dtype (a * a of a uint8 would wrap around)."""
    return x.to(g._dtype_code) if isinstance(x, TensorBase) and 1 < x._dtype_code < _F16 else x


def _pow_da(g, a, b, y):
    if not isinstance(b, TensorBase):
        return g * b * a ** (b - 1) if b != 0 else g * 0
    return g * (b * a ** (b - 1)).masked_fill(b == 0, 0.0)


def _pow_db(g, a, b, y):
    if not isinstance(a, TensorBase):
        return g * y * math.log(a) if a > 0 else g * 0
    # d/db a^b = a^b log a; taken as 0 where a == 0 and b >= 0 (the limit), like PyTorch
    return g * (y * a.log()).masked_fill((a == 0) & (b >= 0), 0.0)


def _max_min_grads(a_loses):
    """maximum/minimum's partials: ties split the gradient evenly; each input loses it only where the
    other one wins, so where a NaN makes the comparisons false both get it (PyTorch's rule).
    a_loses(a, b) is where a loses."""
    def da(g, a, b, y):
        return (g * 0.5).where(a == b, g.masked_fill(a_loses(a, b), 0.0))

    def db(g, a, b, y):
        return (g * 0.5).where(a == b, g.masked_fill(a_loses(b, a), 0.0))

    return da, db


def _atan2_recip(a, b, g):
    """1 / (a^2 + b^2), 0 where that is infinite (a = b = 0, or squares that underflow), as PyTorch."""
    a, b = _as_float(a, g), _as_float(b, g)
    recip = 1 / (a * a + b * b)  # (a tensor: a or b is one)
    return a, b, recip.masked_fill(recip == math.inf, 0.0)


def _atan2_da(g, a, b, y):
    a, b, recip = _atan2_recip(a, b, g)
    return g * (b * recip)  # (b * recip before g: for a huge b the squares overflow, recip is 0, g * b inf)


def _atan2_db(g, a, b, y):
    a, b, recip = _atan2_recip(a, b, g)
    return -g * (a * recip)


# ---------------------------------------------------------------------- the binary ops with a gradient: one row each
pow = _binary_row("pow", _pow_da, _pow_db, reads_y="b", doc="""\
``a ** b``, elementwise with broadcasting (either may be a number); the gradient with respect to ``b``
is ``a ** b * log(a)``.
""")
maximum = _binary_row("maximum", *_max_min_grads(lambda a, b: a < b), reads_y="", doc="""\
The larger of ``a`` and ``b``, elementwise with broadcasting; NaN propagates. The gradient goes to the
larger input (split evenly on ties). Unlike ``ag.fmax``, NaN is not ignored.
""")
minimum = _binary_row("minimum", *_max_min_grads(lambda a, b: a > b), reads_y="", doc="""\
The smaller of ``a`` and ``b``, elementwise with broadcasting; NaN propagates. Unlike ``ag.fmin``, NaN is
not ignored.
""")
atan2 = _binary_row("atan2", _atan2_da, _atan2_db, reads_y="", doc="""\
The angle of the point ``(b, a)``: ``atan(a / b)`` with the quadrant from the signs, in ``[-pi, pi]``.
Integer inputs give a float32 result.
""", promote=True)
# the modulo ops: a - q(a, b) * b for a quotient q rounded to an integer, so the gradient is 1 for a
# and -q for b (remainder: q rounded down, Python's %; fmod: truncated, C's fmod). Their public
# functions check integer division by zero first.
_mod = _binary_row("mod", lambda g, a, b, y: g, lambda g, a, b, y: -g * _binary(FLOORDIV, a, b),
                   cls_name="Remainder", reads_y="")
_fmod = _binary_row("fmod", lambda g, a, b, y: g,
                    lambda g, a, b, y: -g * div(a, b, rounding_mode="trunc").detach(), cls_name="Fmod",
                    reads_y="")
# hypot: a / y before g, as a / y is at most 1 and cannot overflow where g * a could. At a = b = 0 the
# gradient is 0 / 0 = NaN, as in PyTorch (the cone has no derivative at its tip).
hypot = _binary_row("hypot", lambda g, a, b, y: g * (a / y), lambda g, a, b, y: g * (b / y), """\
``sqrt(a**2 + b**2)``, elementwise with broadcasting, without overflow or underflow in the squares;
``b`` may be a number. Floating point tensors only, as in PyTorch.

Example:
    >>> ag.hypot(ag.tensor([3.0, 1e30]), ag.tensor([4.0, 1e30]))
    tensor([5.0000e+00, 1.4142e+30])
""")
# logaddexp: the gradients are the softmax weights of a and b; exp(a - y) <= 1 never overflows
logaddexp = _binary_row("logaddexp", lambda g, a, b, y: g * (a - y).exp(), lambda g, a, b, y: g * (b - y).exp(),
                       """\
``log(exp(a) + exp(b))``, elementwise with broadcasting, without overflow for large inputs; ``b``
may be a number. Floating point tensors only, as in PyTorch.

Example:
    >>> ag.logaddexp(ag.tensor([0.0, 100.0]), ag.tensor([0.0, 100.0]))  # exp(100) overflows float32
    tensor([  0.6931, 100.6931])
""")
# copysign: d/da is y / a = +-1, taken as 0 at a = 0 (PyTorch's value); b only lends its sign bit
copysign = _binary_row("copysign", lambda g, a, b, y: g * (y / a).masked_fill(a == 0, 0.0), None, reads_y="a",
                       doc="""\
``|a|`` with the sign of ``b``, elementwise with broadcasting (``-0.0`` counts as negative); ``b``
may be a number. Integer inputs give a float32 result, as in PyTorch. The gradient is ``+-1`` for
``a`` (0 where ``a`` is 0) and 0 for ``b``.

Example:
    >>> ag.copysign(ag.tensor([1.0, -2.0, 3.0]), ag.tensor([-1.0, 1.0, -0.0]))
    tensor([-1.,  2., -3.])
""", promote=True)
# logaddexp2: the gradients are 2^(a - y) and 2^(b - y), the weights of a and b (at most 1: no overflow)
logaddexp2 = _binary_row("logaddexp2", lambda g, a, b, y: g * (a - y).exp2(), lambda g, a, b, y: g * (b - y).exp2(),
                        """\
``log2(2**a + 2**b)``, elementwise with broadcasting, without overflow for large inputs; ``b`` may
be a number. Floating point tensors only, as in PyTorch.

Example:
    >>> ag.logaddexp2(ag.tensor([0.0, 200.0]), ag.tensor([0.0, 200.0]))  # 2**200 overflows float32
    tensor([  1., 201.])
""")


def _compare(code):
    def f(a, b):
        return _binary(code, a, _operand(b, "comparison"))

    return f


eq = op(_compare(_B["eq"]), name="eq")
eq.__doc__ = """A bool tensor: ``a == b`` elementwise, with broadcasting (``b`` may be a number)."""
ne = op(_compare(_B["ne"]), name="ne")
ne.__doc__ = """A bool tensor: ``a != b`` elementwise, with broadcasting."""
lt = op(_compare(_B["lt"]), name="lt")
lt.__doc__ = """A bool tensor: ``a < b`` elementwise, with broadcasting (also ``ag.less``)."""
le = op(_compare(_B["le"]), name="le")
le.__doc__ = """A bool tensor: ``a <= b`` elementwise, with broadcasting."""
gt = op(_compare(_B["gt"]), name="gt")
gt.__doc__ = """A bool tensor: ``a > b`` elementwise, with broadcasting (also ``ag.greater``)."""
ge = op(_compare(_B["ge"]), name="ge")
ge.__doc__ = """A bool tensor: ``a >= b`` elementwise, with broadcasting."""
greater = op(gt, name="greater")
less = op(lt, name="less")


@op
def equal(a, b):
    """True if a and b have the same shape and elements."""
    return tuple(a.shape) == tuple(b.shape) and bool(_core.reduce(_core.REDUCE_OPS["all"], eq(a, b)))


def _truth(x):
    """x as bool: a tensor that is not bool compared with 0 (NaN counts as true, as in PyTorch)."""
    if isinstance(x, TensorBase):
        return x if x._dtype_code == _core.BOOL else _binary(_B["ne"], x, 0)
    return bool(x)


def _logical(code):
    """logical_and/or/xor: on the truth of each element (x != 0), a bool result for every dtype (the
    kernels are bitwise on integers, which the & | ^ operators keep)."""
    def f(a, b):
        return _binary(code, _truth(a), _truth(_operand(b, "comparison")))

    return f


logical_and = op(_logical(_B["logical_and"]), name="logical_and")
logical_and.__doc__ = """A bool tensor: both ``a`` and ``b`` nonzero, elementwise with broadcasting."""
logical_or = op(_logical(_B["logical_or"]), name="logical_or")
logical_or.__doc__ = """A bool tensor: ``a`` or ``b`` nonzero, elementwise with broadcasting."""
logical_xor = op(_logical(_B["logical_xor"]), name="logical_xor")
logical_xor.__doc__ = """A bool tensor: exactly one of ``a`` and ``b`` nonzero, elementwise with broadcasting.
"""
