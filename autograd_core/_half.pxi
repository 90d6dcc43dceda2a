# _half.pxi (included by _core.pyx after _copy.pxi): float16 and bfloat16 are storage types. An op on them computes in float32 and rounds its result to
# the half dtype, as PyTorch's CPU kernels accumulate half in float32: each compute entry of the
# binding starts with a one-line check that sends half operands here. Autograd needs nothing more:
# a Function's forward and backward call these same entries.
cdef object widen(object t):
    if isinstance(t, TensorBase) and is_half((<TensorBase>t)._dtype):
        return cast(t, AGC_F32)
    if isinstance(t, (tuple, list)):
        return type(t)([widen(e) for e in t])
    return t


cdef object narrow(object r, int dt):
    """Round float32 results (a tensor or a tuple of them) to half dtype dt; others pass."""
    if isinstance(r, TensorBase):
        return cast(r, dt) if (<TensorBase>r)._dtype == AGC_F32 else r
    if isinstance(r, tuple):
        return tuple([narrow(e, dt) for e in r])
    return r


cdef int half_of(tuple args) noexcept:
    """The first half dtype among args (tensors, or sequences of tensors), else -1."""
    cdef int dt
    for a in args:
        if isinstance(a, TensorBase):
            if is_half((<TensorBase>a)._dtype):
                return (<TensorBase>a)._dtype
        elif isinstance(a, (tuple, list)):
            dt = half_of(tuple(a))
            if dt >= 0:
                return dt
    return -1


def half_call(fn, int dt, *args, **kwargs):
    """fn(*args, **kwargs) with its half tensors widened to float32 and its float32 results rounded
    to dt."""
    return narrow(fn(*widen(args), **{k: widen(v) for k, v in kwargs.items()}), dt)


def half_inplace(fn, *args, **kwargs):
    """fn(*args, **kwargs) for a kernel that updates its tensor arguments in place (an optimizer step,
    an accumulating scatter): half tensors are widened, and written back rounded afterwards."""
    wide = widen(args)
    result = fn(*wide, **kwargs)
    for a, w in zip(args, wide):
        if w is not a and isinstance(a, TensorBase):
            copy_(a, w)
    return result


cdef object write_into(TensorBase to, TensorBase r, str name):
    """Copy a result computed in float32 into out=, with binary's category rule."""
    if CATEGORY[r._dtype] > CATEGORY[to._dtype]:
        raise RuntimeError(f"{name}: result type {DTYPE_NAMES[r._dtype]} can't be cast to the desired output type "
                           f"{DTYPE_NAMES[to._dtype]}")
    copy_(to, r)
    return to
