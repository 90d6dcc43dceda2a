"""The ``out=`` keyword of the torch-level functions (``ag.matmul(a, b, out=c)``), with PyTorch's rules.

The op is computed as usual and the result written into ``out``, which is returned:
- dtype: ops whose result keeps the input's dtype (matmul, abs, clamp, where, ...) need ``out`` of
  exactly that dtype; the others accept any dtype the result can be cast to without changing kind
  (no floating result into an integer ``out``, nothing but bool into a bool ``out``). ``sum``
  computes in ``out``'s dtype when no ``dtype`` is given, as PyTorch does.
- shape: an ``out`` with zero elements is resized to the result's shape; one with elements and
  another shape is resized with a UserWarning (PyTorch deprecates that). The resized ``out`` gets
  new storage, so a view stops aliasing its base (PyTorch may reuse the base's memory there).
- autograd: ``out=`` records no graph, so it raises when grad mode is on and an input or ``out``
  requires grad, as PyTorch does; under ``no_grad`` it writes.

Ops returning a tuple (``max``/``min`` with ``dim``, ``sort``, ``topk``, ``kthvalue``, ``median``, ``mode``,
``cummax``, ...) take ``out=(values, indices)``: a tuple or list of as many tensors, each checked and
resized as above (values of exactly the result's dtype, indices int64), and return a tuple of the
same kind (field names kept) holding the out tensors.

Only the torch-level names take ``out=`` (Tensor methods do not, as in PyTorch): ``install`` wraps
them in the package namespace. ``einsum`` has no ``out=`` because PyTorch's has none.
"""
import functools
import inspect
import warnings

from .. import _core
from .._core import TensorBase
from ..autograd import no_grad
from ..autograd.grad_mode import state

# op -> how out's dtype is checked: "exact" (same dtype as the result), "cast" (a safe cast), or
# "reduce" (sum: computed in out's dtype unless dtype= is given)
OUT_OPS = {
    "matmul": "exact", "mm": "exact", "bmm": "exact", "addmm": "exact",
    "add": "cast", "sub": "cast", "mul": "cast", "div": "cast", "subtract": "cast", "multiply": "cast",
    "divide": "cast", "true_divide": "cast", "pow": "cast", "maximum": "cast", "minimum": "cast",
    "remainder": "cast", "fmod": "cast", "atan2": "cast", "outer": "cast",
    "cat": "cast", "concat": "cast", "concatenate": "cast", "stack": "cast", "hstack": "cast", "vstack": "cast",
    "exp": "cast", "exp2": "cast", "expm1": "cast", "log": "cast", "log2": "cast", "log10": "cast",
    "log1p": "cast", "sqrt": "cast", "rsqrt": "cast", "tanh": "cast", "sigmoid": "cast", "sin": "cast",
    "cos": "cast", "tan": "cast", "sinh": "cast", "cosh": "cast", "asin": "cast", "acos": "cast",
    "atan": "cast", "erf": "cast", "reciprocal": "cast", "square": "cast",
    "abs": "exact", "neg": "exact", "floor": "exact", "ceil": "exact", "trunc": "exact", "round": "exact",
    "sign": "exact", "clamp": "exact", "clip": "exact", "where": "exact",
    "sum": "reduce", "mean": "cast", "prod": "reduce", "nansum": "cast", "cumsum": "reduce", "cumprod": "reduce",
    "std": "cast", "var": "cast", "logsumexp": "cast", "kron": "cast", "lerp": "cast",
    "max": "cast", "min": "cast",  # the full reductions and max(a, b); with dim they return a tuple
    "softmax": "exact", "log_softmax": "exact", "dot": "exact", "vdot": "exact", "mv": "exact", "addmv": "exact",
    "baddbmm": "exact", "tensordot": "exact", "cross": "exact", "amax": "exact", "amin": "exact",
    "argmax": "exact", "argmin": "exact", "gather": "exact", "index_select": "exact", "masked_select": "exact",
    "take": "exact", "tril": "exact", "triu": "exact", "diag": "exact", "norm": "exact", "clamp_min": "exact",
    "histc": "exact", "searchsorted": "exact", "bucketize": "exact",
}

# ops whose result is a tuple of tensors: the rule for each element (indices are always int64, so
# "exact" checks them too)
TUPLE_OUT_OPS = {
    "max": ("exact", "exact"), "min": ("exact", "exact"), "sort": ("exact", "exact"), "topk": ("exact", "exact"),
    "kthvalue": ("exact", "exact"), "median": ("exact", "exact"), "nanmedian": ("exact", "exact"),
    "mode": ("exact", "exact"), "cummax": ("exact", "exact"), "cummin": ("exact", "exact"),
    "aminmax": ("exact", "exact"),
}


def _kind(dtype):
    if dtype.name == "bool":
        return 0
    return 2 if dtype.is_floating_point else 1


def _check_dtype(out, result, op, rule):
    if rule == "exact":
        if out.dtype != result.dtype:
            raise RuntimeError(f"{op}: expected the out tensor to have dtype {result.dtype.name}, but got "
                               f"{out.dtype.name} instead")
    elif _kind(result.dtype) > _kind(out.dtype):
        raise RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the desired output type "
                           f"{out.dtype.name}")


def _requires_grad(value):
    if isinstance(value, TensorBase):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(_requires_grad(v) for v in value)
    return False


def write_out(out, result, op, rule="cast"):
    """Write ``result`` into ``out`` under PyTorch's out= rules (dtype, resize) and return ``out``."""
    if not isinstance(result, TensorBase):
        raise TypeError(f"{op}: out= needs a tensor result, got {type(result).__name__}")
    _check_dtype(out, result, op, rule)
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        if out.numel() != 0:
            warnings.warn(f"{op}: an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(shape)}. "
                          f"PyTorch deprecates this: pass an out tensor with zero elements (or the right shape).",
                          UserWarning, stacklevel=3)
        _core.assign_meta(out, _core.empty(shape, out._dtype_code))
    with no_grad():
        out.copy_(result)
    return out


def _check_out_argument(out, op):
    if isinstance(out, (tuple, list)):
        if op not in TUPLE_OUT_OPS:
            raise TypeError(f"{op}: out must be a Tensor, got {type(out).__name__}")
        for o in out:
            if not isinstance(o, TensorBase):
                raise TypeError(f"{op}: out must be a tuple of Tensors, got an element of type {type(o).__name__}")
    elif not isinstance(out, TensorBase):
        expected = "a Tensor or a tuple of Tensors" if op in TUPLE_OUT_OPS else "a Tensor"
        raise TypeError(f"{op}: out must be {expected}, got {type(out).__name__}")


def _write_outs(out, result, op, rule):
    """Write a single or tuple result into out, which must have the same structure."""
    if not isinstance(result, tuple):
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{op}: this call returns one tensor, so out must be a Tensor, got a "
                            f"{type(out).__name__} of {len(out)}")
        return write_out(out, result, op, rule)
    rules = TUPLE_OUT_OPS[op]
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{op}: this call returns a tuple of {len(result)} tensors, so out must be a tuple of "
                        f"{len(result)} Tensors, got {type(out).__name__}")
    if len(out) != len(result):
        raise TypeError(f"{op}: expected out to be a tuple of {len(result)} Tensors but got {len(out)}")
    for o, r, element_rule in zip(out, result, rules):  # every dtype before any write, so a failure writes nothing
        _check_dtype(o, r, op, element_rule)
    written = [write_out(o, r, op, element_rule) for o, r, element_rule in zip(out, result, rules)]
    return type(result)(*written) if hasattr(result, "_fields") else tuple(written)


def with_out(fn, op):
    """``fn`` with a keyword-only ``out=None``: the torch-level spelling of an op."""
    rule = OUT_OPS.get(op)
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        _check_out_argument(out, op)
        if state.enabled and (_requires_grad(out) or _requires_grad(args) or
                              _requires_grad(tuple(kwargs.values()))):
            raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                               "but one of the arguments requires grad (compute without out=, or inside "
                               "`with ag.no_grad():`)")
        explicit_dtype = rule == "reduce" and sig.bind_partial(*args, **kwargs).arguments.get("dtype") is not None
        if rule == "reduce" and not explicit_dtype and isinstance(out, TensorBase):
            kwargs["dtype"] = out.dtype
        with no_grad():
            result = fn(*args, **kwargs)
        # a dtype= given with out= must be out's dtype, as in PyTorch
        return _write_outs(out, result, op, "exact" if explicit_dtype else rule)

    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params.append(inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
    wrapper.__signature__ = sig.replace(parameters=params)
    return wrapper


def install(namespace):
    """Give the torch-level functions in ``namespace`` (the package's globals) their ``out=`` keyword.
    Every name bound to one of them gets the same wrapper, so aliases stay one object
    (``ag.arcsin is ag.asin``, ``ag.clip is ag.clamp``)."""
    wrapped = {}
    for op in {**OUT_OPS, **TUPLE_OUT_OPS}:
        fn = namespace[op]
        if id(fn) not in wrapped:
            wrapped[id(fn)] = (fn, with_out(fn, op))
    for name, value in list(namespace.items()):
        if not name.startswith("_") and id(value) in wrapped and wrapped[id(value)][0] is value:
            namespace[name] = wrapped[id(value)][1]
