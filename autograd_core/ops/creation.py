"""Tensor creation: tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye, random."""
import builtins
import math
import numbers

import numpy as np

from .. import _core
from .._core import TensorBase
from ..device import check_device
from ..dtypes import default_float_code, from_code, to_code
from ._registry import op


def _shape_args(args, op):
    for a in args:
        if type(a) is not int:
            break
    else:
        return args
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        shape = args[0]
        if isinstance(shape, TensorBase):
            shape = shape.tolist()
        try:
            return tuple(int(s) for s in shape)
        except TypeError:
            raise TypeError(f"{op}: expected a shape (ints or a sequence of ints), got {args[0]!r}") from None
    for a in args:
        if not isinstance(a, numbers.Integral):
            raise TypeError(f"{op}: expected a shape (ints or a sequence of ints), got {args!r}")
    return tuple(int(a) for a in args)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad = True
    return t


def _infer_code(a, data):
    if a.dtype == np.bool_:
        return _core.BOOL
    if np.issubdtype(a.dtype, np.integer):
        # int32 / uint8 only come from numpy data (arrays, numpy scalars, lists of them): kept, like
        # torch.tensor; Python ints give int64, other integer widths widen to int64
        if a.dtype == np.int32:
            return _core.I32
        if a.dtype == np.uint8:
            return _core.U8
        return _core.I64
    if np.issubdtype(a.dtype, np.floating):
        # a numpy array or numpy scalar (np.float64(1.0)) keeps its precision, as in torch.tensor
        if isinstance(data, (np.ndarray, np.floating)) and a.dtype in (np.float16, np.float32, np.float64):
            return to_code(a.dtype)
        return default_float_code()
    raise TypeError(f"tensor: cannot make a tensor from data of type {a.dtype}")


def _leaves(data):
    if isinstance(data, (list, tuple)):
        for d in data:
            yield from _leaves(d)
    else:
        yield data


def _check_int64_range(a, data):
    """Ints beyond int64 (NumPy makes them uint64, or float64 next to negative ints) must not wrap silently."""
    if a.dtype == np.uint64:
        big = a.size and int(a.max()) >= 2**63
    elif a.dtype.kind == "f" and a.size and not isinstance(data, np.ndarray) \
            and np.fmax.reduce(np.abs(a), axis=None) >= 2.0**63:
        leaves = list(_leaves(data))  # an int list stays int: only then is a huge int an overflow
        big = builtins.all(isinstance(v, numbers.Integral) for v in leaves) \
            and builtins.any(not -2**63 <= int(v) < 2**63 for v in leaves)
    else:
        big = False
    if big:
        raise OverflowError("tensor: an integer in data is out of the int64 range [-2**63, 2**63 - 1]")


# the values an integer dtype takes from Python numbers, as PyTorch checks them: floats within the
# type's range (they truncate toward zero), ints too, except that uint8 also takes -255..-1 (wrapped)
# (2**63 itself does not fit int64; 2**31 - 1 and 255 are exact doubles, so they are inclusive bounds)
_FLOAT_RANGE = {_core.I64: (-2.0**63, 2.0**63, False), _core.I32: (-2.0**31, 2.0**31 - 1, True),
                _core.U8: (0.0, 255.0, True)}
_INT_RANGE = {_core.I32: (-2**31, 2**31 - 1), _core.U8: (-255, 255)}


def _check_numbers_fit(a, code, op="tensor"):
    """Python numbers (a, as NumPy made them) stored as dtype `code`: RuntimeError, as PyTorch raises,
    for NaN, infinities and values out of an integer type's range, instead of wrapping silently."""
    if code not in _FLOAT_RANGE or a.size == 0:
        return
    if a.dtype.kind == "f":
        lo, hi, inclusive = _FLOAT_RANGE[code]
        bad = ~((a >= lo) & ((a <= hi) if inclusive else (a < hi)))  # NaN too
    elif a.dtype.kind in "iu" and code in _INT_RANGE:
        lo, hi = _INT_RANGE[code]
        bad = (a < lo) | (a > hi)
    else:
        return
    if bad.any():
        value = a[bad].flat[0]
        raise RuntimeError(f"{op}: value {value} cannot be converted to type {from_code(code).name} "
                           f"without overflow")


def _nested_tensors(data):
    """Lists containing tensors: stack them via numpy (detached)."""
    if isinstance(data, (list, tuple)):
        return [_nested_tensors(d) for d in data]
    if isinstance(data, TensorBase):
        return data.detach().numpy()
    return data


@op(method=False)
def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of data (nested lists, scalars, numpy arrays or tensors).

    Python floats give float32, ints int64, bools bool; a numpy array keeps its dtype."""
    check_device(device, "tensor")
    if isinstance(data, TensorBase):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(dtype)
        return _finish(t, requires_grad)
    if isinstance(data, (list, tuple)):
        data = _nested_tensors(data)
    try:
        a = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"tensor: data is not a regular nested sequence: {e}") from None
    if a.dtype == object:
        raise TypeError(f"tensor: could not infer a dtype from data of type {type(data).__name__}: expected "
                        "numbers (bool, int within int64, float) in a regular nested sequence")
    if dtype is None:
        _check_int64_range(a, data)
    code = to_code(dtype, "tensor") if dtype is not None else _infer_code(a, data)
    if isinstance(data, np.ndarray) and dtype is None and a.dtype.name not in _core._NP_NAMES:
        code = _infer_code(a, None)
    if not isinstance(data, np.ndarray):
        _check_numbers_fit(a, code)
    return _finish(_copy_from_numpy(a, code), requires_grad)


def _copy_from_numpy(a, code):
    """A new tensor of dtype `code` holding a copy of numpy array a."""
    src = a if a.flags.c_contiguous else np.ascontiguousarray(a)  # (ascontiguousarray makes 0-d 1-d)
    if src.dtype.name not in _core._NP_NAMES or src.dtype.byteorder == ">":
        src = src.astype(from_code(code).numpy)
    base = _core.from_buffer(src)
    return _core.clone(base) if base._dtype_code == code else _core.cast(base, code)


@op(method=False)
def as_tensor(data, dtype=None, device=None):
    """data itself if it is already a tensor of that dtype, else tensor(data, dtype)."""
    check_device(device, "as_tensor")
    if isinstance(data, TensorBase):
        if dtype is None or data._dtype_code == to_code(dtype):
            return data
        return data.to(dtype)
    if isinstance(data, np.ndarray) and dtype is None and data.dtype.name in _core._NP_NAMES:
        return from_numpy(data)
    return tensor(data, dtype=dtype)


@op(method=False)
def from_numpy(a):
    """A tensor sharing memory with the numpy array a (writes show through both ways)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.name not in _core._NP_NAMES:
        raise TypeError(f"from_numpy: unsupported dtype {a.dtype}; supported are float32, float64, int64, "
                        "int32, uint8 and bool")
    if a.dtype.byteorder == ">":
        raise TypeError("from_numpy: big-endian arrays are not supported")
    return _core.from_buffer(a)


def _code(dtype, default, op):
    if dtype is None:
        # float32 stands for "the default floating dtype" (set_default_dtype)
        return default_float_code() if default == _core.F32 else default
    if type(dtype) is int:
        return dtype
    return to_code(dtype, op)


@op(method=False)
def empty(*shape, size=None, dtype=None, requires_grad=False, device=None):
    """A new tensor of the given shape whose elements are not initialised.

    The memory is allocated but not written, so the values are whatever it held; write every element
    before reading it. Use it for buffers that an op fills completely.

    Args:
        *shape (int or sequence of ints): the shape, as separate ints or one tuple/list.
        size (sequence of ints, optional): the shape as a keyword, instead of ``*shape``.
        dtype (dtype, optional): element type; the default floating dtype (``float32`` unless
            changed with :func:`set_default_dtype`) when omitted.
        requires_grad (bool): whether autograd records operations on the result.
        device (str or device, optional): only ``"cpu"`` is accepted.

    Example:
        >>> ag.empty(2, 3).shape
        Size([2, 3])
    """
    check_device(device, "empty")
    if size is not None:
        if shape:
            raise TypeError("empty: give the shape either positionally or as size=, not both")
        shape = (size,)
    return _finish(_core.empty(_shape_args(shape, "empty"), _code(dtype, _core.F32, "empty")), requires_grad)


@op(method=False)
def zeros(*shape, size=None, dtype=None, requires_grad=False, device=None):
    """A new tensor of the given shape filled with 0.

    Args:
        *shape (int or sequence of ints): the shape, as separate ints or one tuple/list.
        size (sequence of ints, optional): the shape as a keyword, instead of ``*shape``.
        dtype (dtype, optional): element type; the default floating dtype when omitted.
        requires_grad (bool): whether autograd records operations on the result.
        device (str or device, optional): only ``"cpu"`` is accepted.

    Example:
        >>> ag.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """
    check_device(device, "zeros")
    if size is not None:
        if shape:
            raise TypeError("zeros: give the shape either positionally or as size=, not both")
        shape = (size,)
    return _finish(_core.full(_shape_args(shape, "zeros"), 0, _code(dtype, _core.F32, "zeros")), requires_grad)


@op(method=False)
def ones(*shape, size=None, dtype=None, requires_grad=False, device=None):
    """A new tensor of the given shape filled with 1.

    Args:
        *shape (int or sequence of ints): the shape, as separate ints or one tuple/list.
        size (sequence of ints, optional): the shape as a keyword, instead of ``*shape``.
        dtype (dtype, optional): element type; the default floating dtype when omitted.
        requires_grad (bool): whether autograd records operations on the result.
        device (str or device, optional): only ``"cpu"`` is accepted.

    Example:
        >>> ag.ones(2, dtype=ag.int64)
        tensor([1, 1])
    """
    check_device(device, "ones")
    if size is not None:
        if shape:
            raise TypeError("ones: give the shape either positionally or as size=, not both")
        shape = (size,)
    return _finish(_core.full(_shape_args(shape, "ones"), 1, _code(dtype, _core.F32, "ones")), requires_grad)


def _scalar_code(value):
    if isinstance(value, bool):
        return _core.BOOL
    if isinstance(value, numbers.Integral):
        return _core.I64
    return default_float_code()


@op(method=False)
def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of shape ``shape`` filled with ``fill_value``; the dtype defaults to float32 for a float
    value, int64 for an int, bool for a bool.
    """
    check_device(device, "full")
    if isinstance(fill_value, TensorBase):
        fill_value = fill_value.item()
    code = _code(dtype, _scalar_code(fill_value), "full")
    return _finish(_core.full(_shape_args((shape,), "full"), fill_value, code), requires_grad)


@op(method=False)
def zeros_like(t, dtype=None, requires_grad=False, device=None):
    """Zeros with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "zeros_like")
    return zeros(t.shape, dtype=t._dtype_code if dtype is None else dtype, requires_grad=requires_grad)


@op(method=False)
def ones_like(t, dtype=None, requires_grad=False, device=None):
    """Ones with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "ones_like")
    return ones(t.shape, dtype=t._dtype_code if dtype is None else dtype, requires_grad=requires_grad)


@op(method=False)
def empty_like(t, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "empty_like")
    return empty(t.shape, dtype=t._dtype_code if dtype is None else dtype, requires_grad=requires_grad)


@op(method=False)
def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    """``fill_value`` everywhere, with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "full_like")
    return full(t.shape, fill_value, dtype=t._dtype_code if dtype is None else dtype,
                requires_grad=requires_grad)


@op(method=False)
def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from start (inclusive) to end (exclusive) spaced by step."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, TensorBase) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) / step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    all_int = all(isinstance(v, numbers.Integral) for v in vals)
    code = _code(dtype, _core.I64 if all_int else _core.F32, "arange")
    _check_numbers_fit(np.array([start, end]), code, "arange")
    n = max(0, math.ceil((end - start) / step))
    if all_int and code == _core.I64:
        a = np.arange(start, end, step, dtype=np.int64)
    else:
        a = start + step * np.arange(n, dtype=np.float64)
    return _finish(_copy_from_numpy(a, code), requires_grad)


@op(method=False)
def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    Example:
        >>> ag.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    check_device(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    code = _code(dtype, _core.F32, "linspace")
    _check_numbers_fit(np.array([float(start), float(end)]), code, "linspace")
    a = np.linspace(float(start), float(end), int(steps), dtype=np.float64)
    return _finish(_copy_from_numpy(a, code), requires_grad)


@op(method=False)
def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """``steps`` values ``base ** e`` for ``e`` evenly spaced from ``start`` to ``end``.

    Example:
        >>> ag.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    check_device(device, "logspace")
    a = np.logspace(float(start), float(end), int(steps), base=base, dtype=np.float64)
    return _finish(_copy_from_numpy(a, _code(dtype, _core.F32, "logspace")), requires_grad)


@op(method=False)
def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``): ones on the diagonal."""
    check_device(device, "eye")
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    t = _core.full((n, m), 0, _code(dtype, _core.F32, "eye"))
    k = min(n, m)
    if k:
        _core.fill_(_core.as_strided(t, (k,), (m + 1,), 0), 1)
    return _finish(t, requires_grad)


# ------------------------------------------------------------------------------ random
@op(method=False)
def manual_seed(s):
    """Seed the global generator; every random op after this is reproducible."""
    _core.manual_seed(int(s))


@op(method=False)
def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    s = int.from_bytes(np.random.default_rng().bytes(8), "little")
    _core.manual_seed(s)
    return s


@op(method=False)
def initial_seed():
    """The seed the global generator was last seeded with."""
    return _core.initial_seed()


@op(method=False)
def get_rng_state():
    """The global generator's state, to restore later with :func:`set_rng_state`."""
    return _core.get_rng_state()


@op(method=False)
def set_rng_state(state):
    """Restore the global generator's state saved by :func:`get_rng_state`."""
    _core.set_rng_state(state)


@op(method=False)
def rand(*shape, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform on [0, 1)."""
    check_device(device, "rand")
    t = _core.empty(_shape_args(shape, "rand"), _code(dtype, _core.F32, "rand"))
    return _finish(_core.uniform_(t, 0.0, 1.0, generator), requires_grad)


@op(method=False)
def randn(*shape, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal."""
    check_device(device, "randn")
    t = _core.empty(_shape_args(shape, "randn"), _code(dtype, _core.F32, "randn"))
    return _finish(_core.normal_(t, 0.0, 1.0, generator), requires_grad)


@op(method=False)
def randint(low, high=None, size=None, dtype=None, requires_grad=False, generator=None, device=None):
    """Integers uniform on [low, high). Called as randint(high, size) or randint(low, high, size)."""
    check_device(device, "randint")
    if size is None:
        if high is None or isinstance(high, numbers.Integral):
            raise TypeError("randint: missing the size argument")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    t = _core.empty(_shape_args((size,), "randint"), _code(dtype, _core.I64, "randint"))
    return _finish(_core.randint_(t, int(low), int(high), generator), requires_grad)


@op(method=False)
def randperm(n, dtype=None, requires_grad=False, generator=None, device=None):
    """A random permutation of 0..n-1 from the seeded generator."""
    check_device(device, "randperm")
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    keys = _core.empty((n,), _core.F64)
    _core.uniform_(keys, 0.0, 1.0, generator)
    perm = np.argsort(np.asarray(keys), kind="stable").astype(np.int64)
    return _finish(_copy_from_numpy(perm, _code(dtype, _core.I64, "randperm")), requires_grad)


@op(method=False)
def rand_like(t, dtype=None, requires_grad=False, device=None):
    """Uniform samples on [0, 1) with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "rand_like")
    return rand(t.shape, dtype=t._dtype_code if dtype is None else dtype, requires_grad=requires_grad)


@op(method=False)
def randn_like(t, dtype=None, requires_grad=False, device=None):
    """Standard normal samples with ``t``'s shape and, unless ``dtype`` is given, its dtype."""
    check_device(device, "randn_like")
    return randn(t.shape, dtype=t._dtype_code if dtype is None else dtype, requires_grad=requires_grad)


@op(method=False)
def randint_like(t, low, high=None, dtype=None, device=None):
    """Integers drawn uniformly from [low, high) (``randint_like(t, high)``: [0, high)) with ``t``'s shape
    and, unless ``dtype`` is given, its dtype.
    """
    check_device(device, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, dtype=t._dtype_code if dtype is None else dtype)


@op(method=False)
def bernoulli(p, generator=None):
    """Each element 1 with probability p (a tensor of probabilities or a float with a shape from p)."""
    if isinstance(p, TensorBase):
        u = rand(p.shape, dtype=p._dtype_code, generator=generator)
        return (u < p).to(p._dtype_code)
    raise TypeError("bernoulli: expected a tensor of probabilities")


@op(method=False)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False, device=None):
    """Normal samples with the given mean and std (tensors broadcast together, or floats and a size)."""
    check_device(device, "normal")
    if isinstance(mean, TensorBase) or isinstance(std, TensorBase):
        shape = _core.broadcast_shape(tuple(mean.shape) if isinstance(mean, TensorBase) else (),
                                      tuple(std.shape) if isinstance(std, TensorBase) else ())
        ref = mean if isinstance(mean, TensorBase) else std
        code = ref._dtype_code if dtype is None else _code(dtype, _core.F32, "normal")
        return randn(shape, dtype=code, generator=generator) * std + mean
    if size is None:
        raise TypeError("normal: with float mean and std, give a size")
    t = _core.empty(_shape_args((size,), "normal"), _code(dtype, _core.F32, "normal"))
    return _finish(_core.normal_(t, float(mean), float(std), generator), requires_grad)


@op(method=False)
def multinomial(probs, num_samples, replacement=False, *, generator=None):
    """Sample indices from each row of probs (unnormalised weights). Without replacement, every row needs
    at least num_samples classes of positive weight; a class of weight 0 is never drawn."""
    p = np.asarray(probs.detach(), dtype=np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: probs must be 1-d or 2-d, got shape {p.shape}")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if (p < 0).any() or not np.isfinite(p).all():
        raise RuntimeError("multinomial: probabilities must be finite and non-negative")
    if not replacement and num_samples > p.shape[1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement from "
                           f"{p.shape[1]} classes")
    if p.shape[0] == 0:
        return _copy_from_numpy(np.zeros((0, num_samples), np.int64), _core.I64)
    if not (p.sum(axis=1) > 0).all():
        raise RuntimeError("multinomial: each row needs a positive total weight")
    if not replacement:
        have = int((p > 0).sum(axis=1).min())
        if num_samples > have:
            raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement from "
                               f"{have} classes of non-zero probability")
    out = np.empty((p.shape[0], num_samples), dtype=np.int64)
    u = np.asarray(rand(p.shape[0], num_samples, dtype=_core.F64, generator=generator))
    for r in range(p.shape[0]):
        w = p[r].copy()
        # only classes of positive weight can be picked, whatever the rounding of the sums
        live = np.flatnonzero(w > 0)
        if replacement:
            c = np.cumsum(w[live])
            j = np.minimum(np.searchsorted(c, u[r] * c[-1], side="right"), len(live) - 1)
            out[r] = live[j]
            continue
        for s in range(num_samples):
            c = np.cumsum(w[live])
            j = min(int(np.searchsorted(c, u[r, s] * c[-1], side="right")), len(live) - 1)
            out[r, s] = live[j]
            live = np.delete(live, j)
    res = out[0] if single else out
    return _copy_from_numpy(res, _core.I64)
