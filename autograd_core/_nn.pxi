# _nn.pxi: bindings of the fused nn kernels in csrc/nn.c (batch norm, softmax cross-entropy) and
# csrc/layernorm.c (layer norm).
# Included textually into _core.pyx. Each wrapper checks shapes and dtypes, makes inputs contiguous,
# then calls C without the GIL. The autodiff wrappers live in autograd_core/nn/functional.py.

cdef extern from "agc.h" nogil:
    int agc_batch_norm_forward(int dt, int64_t n, int64_t c, int64_t s, const void *x, const void *weight,
                               const void *bias, double eps, void *out, void *mean, void *var, void *invstd)
    int agc_batch_norm_backward(int dt, int64_t n, int64_t c, int64_t s, const void *x, const void *g,
                                const void *mean, const void *invstd, const void *weight, void *gx, void *gw,
                                void *gb)
    int agc_layer_norm_forward(int dt, int64_t rows, int64_t d, const void *x, const void *weight,
                               const void *bias, double eps, void *out, double *mean, double *rstd)
    int agc_layer_norm_backward(int dt, int64_t rows, int64_t d, const void *x, const void *g, const double *mean,
                                const double *rstd, const void *weight, void *gx, void *gw, void *gb)
    int agc_softmax_xent_forward(int dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                                 const void *weight, int64_t ignore_index, double smoothing, void *loss,
                                 void *lse)
    int agc_softmax_xent_backward(int dt, int64_t n, int64_t c, const void *x, const int64_t *target,
                                  const void *weight, int64_t ignore_index, double smoothing, const void *lse,
                                  const void *g, int64_t sg, void *out)


cdef TensorBase _nn_channel_vector(object v, int dt, int64_t c, str what, str op):
    """None, or a contiguous 1-D tensor of c elements of dtype dt."""
    cdef TensorBase t = tensor_arg(v, op, what, optional=True)
    if t is None:
        return None
    require_shape(t, (c,), op, what, RuntimeError)
    if t._dtype != dt:
        t = cast(t, dt)
    return contiguous(t)


cdef inline void *_nn_ptr(TensorBase t) noexcept:
    if t is None:
        return NULL
    return <void *>t._data


cdef void _nn_bn_geometry(TensorBase x, int64_t *n, int64_t *c, int64_t *s) noexcept:
    cdef int i
    n[0] = x._shape[0]
    c[0] = x._shape[1]
    s[0] = 1
    for i in range(2, x._ndim):
        s[0] *= x._shape[i]


def batch_norm_forward(TensorBase x, weight, bias, double eps):
    if half_of((x, weight, bias)) >= 0:
        return half_call(batch_norm_forward, half_of((x, weight, bias)), x, weight, bias, eps)
    """Training-mode batch norm over x (N, C, *): returns (out, mean, var_biased, invstd)."""
    if x._ndim < 2:
        raise ValueError(f"batch_norm: expected input with at least 2 dimensions (N, C, ...), got shape "
                         f"{tuple(x.shape)}")
    require_float(x._dtype, "batch_norm", "an input")
    if eps < 0:
        raise ValueError(f"batch_norm: eps must be >= 0, got {eps}")
    x = contiguous(x)
    cdef int64_t n, c, s
    _nn_bn_geometry(x, &n, &c, &s)
    cdef TensorBase w = _nn_channel_vector(weight, x._dtype, c, "weight", "batch_norm")
    cdef TensorBase b = _nn_channel_vector(bias, x._dtype, c, "bias", "batch_norm")
    cdef TensorBase out = new_tensor(x._dtype, x._ndim, x._shape)
    cdef TensorBase mean = new_tensor(x._dtype, 1, &c)
    cdef TensorBase var = new_tensor(x._dtype, 1, &c)
    cdef TensorBase invstd = new_tensor(x._dtype, 1, &c)
    cdef const void *wp = _nn_ptr(w)
    cdef const void *bp = _nn_ptr(b)
    cdef int rc
    with nogil:
        rc = agc_batch_norm_forward(x._dtype, n, c, s, x._data, wp, bp, eps, out._data, mean._data, var._data,
                                    invstd._data)
    check_rc(rc, "batch_norm")
    return out, mean, var, invstd


def batch_norm_backward(TensorBase x, TensorBase g, TensorBase mean, TensorBase invstd, weight,
                        bint need_input=True, bint need_weight=True, bint need_bias=True):
    """Gradients (grad_input, grad_weight, grad_bias) of the training-mode batch norm; entries not
    requested are None."""
    cdef int hdt = half_of((x, g, weight))
    if hdt >= 0:
        return half_call(batch_norm_backward, hdt, x, g, mean, invstd, weight, need_input, need_weight, need_bias)
    if g._ndim != x._ndim or any_diff(g._shape, x._shape, x._ndim):
        raise RuntimeError(f"batch_norm_backward: gradient shape {tuple(g.shape)} does not match input "
                           f"shape {tuple(x.shape)}")
    x = contiguous(x)
    if g._dtype != x._dtype:
        g = cast(g, x._dtype)
    g = contiguous(g)
    cdef int64_t n, c, s
    _nn_bn_geometry(x, &n, &c, &s)
    mean = _nn_channel_vector(mean, x._dtype, c, "mean", "batch_norm_backward")
    invstd = _nn_channel_vector(invstd, x._dtype, c, "invstd", "batch_norm_backward")
    cdef TensorBase w = _nn_channel_vector(weight, x._dtype, c, "weight", "batch_norm_backward")
    cdef TensorBase gx = new_tensor(x._dtype, x._ndim, x._shape) if need_input else None
    cdef TensorBase gw = new_tensor(x._dtype, 1, &c) if need_weight else None
    cdef TensorBase gb = new_tensor(x._dtype, 1, &c) if need_bias else None
    cdef const void *wp = _nn_ptr(w)
    cdef void *gxp = _nn_ptr(gx)
    cdef void *gwp = _nn_ptr(gw)
    cdef void *gbp = _nn_ptr(gb)
    cdef int rc
    with nogil:
        rc = agc_batch_norm_backward(x._dtype, n, c, s, x._data, g._data, mean._data, invstd._data, wp,
                                     gxp, gwp, gbp)
    check_rc(rc, "batch_norm_backward")
    return gx, gw, gb


cdef tuple _ln_geometry(TensorBase x, int k, str op):
    """(rows, d, normalized_shape) of layer norm over x's last k dims"""
    if k < 1 or k > x._ndim:
        raise ValueError(f"{op}: cannot normalize the last {k} dimensions of an input of shape {tuple(x.shape)}")
    cdef int64_t rows = 1, d = 1
    cdef int i
    for i in range(x._ndim - k):
        rows *= x._shape[i]
    for i in range(x._ndim - k, x._ndim):
        d *= x._shape[i]
    return rows, d, tuple(x.shape)[x._ndim - k:]


cdef TensorBase _ln_param(object v, int dt, tuple nshape, str what, str op):
    """None, or v as a contiguous tensor of shape nshape and dtype dt"""
    cdef TensorBase t = tensor_arg(v, op, what, optional=True)
    if t is None:
        return None
    require_shape(t, nshape, op, what)
    if t._dtype != dt:
        t = cast(t, dt)
    return contiguous(t)


cdef TensorBase _ln_stats(object v, int64_t rows, str what, str op):
    cdef TensorBase t = tensor_arg(v, op, what)
    if t._dtype != AGC_F64 or t.numel() != rows:
        raise ValueError(f"{op}: expected {what} as {rows} float64 values (the forward's), got "
                         f"{DTYPE_NAMES[t._dtype]} of shape {tuple(t.shape)}")
    return contiguous(t)


def layer_norm_forward(TensorBase x, int k, weight, bias, double eps):
    """Layer norm of x over its last k dimensions: (out, mean, rstd), mean and rstd float64 of one
    value per row (the product of the leading dimensions)."""
    if half_of((x, weight, bias)) >= 0:
        return half_call(layer_norm_forward, half_of((x, weight, bias)), x, k, weight, bias, eps)
    require_float(x._dtype, "layer_norm", "an input")
    if not eps >= 0:
        raise ValueError(f"layer_norm: eps must be >= 0, got {eps}")
    rows, d, nshape = _ln_geometry(x, k, "layer_norm")
    x = contiguous(x)
    cdef TensorBase w = _ln_param(weight, x._dtype, nshape, "weight", "layer_norm")
    cdef TensorBase b = _ln_param(bias, x._dtype, nshape, "bias", "layer_norm")
    cdef int64_t r = rows, dd = d
    cdef TensorBase out = new_tensor(x._dtype, x._ndim, x._shape)
    cdef TensorBase mean = new_tensor(AGC_F64, 1, &r)
    cdef TensorBase rstd = new_tensor(AGC_F64, 1, &r)
    cdef const void *wp = _nn_ptr(w)
    cdef const void *bp = _nn_ptr(b)
    cdef int rc
    with nogil:
        rc = agc_layer_norm_forward(x._dtype, r, dd, x._data, wp, bp, eps, out._data, <double *>mean._data,
                                    <double *>rstd._data)
    check_rc(rc, "layer_norm")
    return out, mean, rstd


def layer_norm_backward(TensorBase x, TensorBase g, mean, rstd, weight, int k, bint need_input=True,
                        bint need_weight=True, bint need_bias=True):
    """Gradients (grad_input, grad_weight, grad_bias) of layer_norm_forward over the last k dims, given
    its mean and rstd; entries not requested (or without a weight) are None."""
    cdef int hdt = half_of((x, g, weight))
    if hdt >= 0:
        return half_call(layer_norm_backward, hdt, x, g, mean, rstd, weight, k, need_input, need_weight, need_bias)
    require_float(x._dtype, "layer_norm_backward", "an input")
    if g._ndim != x._ndim or any_diff(g._shape, x._shape, x._ndim):
        raise RuntimeError(f"layer_norm_backward: gradient shape {tuple(g.shape)} does not match input "
                           f"shape {tuple(x.shape)}")
    rows, d, nshape = _ln_geometry(x, k, "layer_norm_backward")
    x = contiguous(x)
    if g._dtype != x._dtype:
        g = cast(g, x._dtype)
    g = contiguous(g)
    cdef TensorBase m = _ln_stats(mean, rows, "mean", "layer_norm_backward")
    cdef TensorBase rs = _ln_stats(rstd, rows, "rstd", "layer_norm_backward")
    cdef TensorBase w = _ln_param(weight, x._dtype, nshape, "weight", "layer_norm_backward")
    cdef int64_t r = rows, dd = d
    cdef TensorBase gx = new_tensor(x._dtype, x._ndim, x._shape) if need_input else None
    cdef TensorBase gw = new_tensor(x._dtype, k, &x._shape[x._ndim - k]) if need_weight and w is not None else None
    cdef TensorBase gb = new_tensor(x._dtype, k, &x._shape[x._ndim - k]) if need_bias else None
    cdef const void *wp = _nn_ptr(w)
    cdef void *gxp = _nn_ptr(gx)
    cdef void *gwp = _nn_ptr(gw)
    cdef void *gbp = _nn_ptr(gb)
    cdef int rc
    with nogil:
        rc = agc_layer_norm_backward(x._dtype, r, dd, x._data, g._data, <const double *>m._data,
                                     <const double *>rs._data, wp, gxp, gwp, gbp)
    check_rc(rc, "layer_norm_backward")
    return gx, gw, gb


cdef int _nn_check_xent(TensorBase x, TensorBase target, str op) except -1:
    if x._ndim != 2:
        raise ValueError(f"{op}: expected logits of shape (N, C), got {tuple(x.shape)}")
    require_float(x._dtype, op, "logits")
    if target._dtype != AGC_I64:
        raise TypeError(f"{op}: expected int64 class indices as target, got {DTYPE_NAMES[target._dtype]}")
    if target._ndim != 1 or target._shape[0] != x._shape[0]:
        raise ValueError(f"{op}: expected target of shape ({x._shape[0]},) for input of shape "
                         f"{tuple(x.shape)}, got {tuple(target.shape)}")
    if x._shape[1] < 1:
        raise ValueError(f"{op}: expected at least one class, got input of shape {tuple(x.shape)}")
    return 0


def softmax_xent_forward(TensorBase x, TensorBase target, weight, int64_t ignore_index, double smoothing):
    """Per-row softmax cross-entropy for logits (N, C) and int64 targets (N,): returns (loss, lse, denom)
    with denom = sum of weight[target] over the rows not ignored (their count without weights): the
    divisor of the 'mean' reduction."""
    if half_of((x, weight)) >= 0:
        return half_call(softmax_xent_forward, half_of((x, weight)), x, target, weight, ignore_index, smoothing)
    _nn_check_xent(x, target, "cross_entropy")
    x = contiguous(x)
    target = contiguous(target)
    cdef int64_t n = x._shape[0], c = x._shape[1], i, t
    cdef const int64_t *tp = <const int64_t *>target._data
    cdef TensorBase w = _nn_channel_vector(weight, x._dtype, c, "weight", "cross_entropy")
    cdef double denom = 0.0
    for i in range(n):
        t = tp[i]
        if t == ignore_index:
            continue
        if t < 0 or t >= c:
            raise IndexError(f"cross_entropy: target {t} is out of bounds for {c} classes (at index {i})")
        if w is None:
            denom += 1.0
        elif w._dtype == AGC_F64:
            denom += (<const double *>w._data)[t]
        else:
            denom += (<const float *>w._data)[t]
    cdef TensorBase loss = new_tensor(x._dtype, 1, &n)
    cdef TensorBase lse = new_tensor(x._dtype, 1, &n)
    cdef const void *wp = _nn_ptr(w)
    cdef int rc
    with nogil:
        rc = agc_softmax_xent_forward(x._dtype, n, c, x._data, tp, wp, ignore_index, smoothing, loss._data,
                                      lse._data)
    check_rc(rc, "cross_entropy")
    return loss, lse, denom


def softmax_xent_backward(TensorBase x, TensorBase target, weight, int64_t ignore_index, double smoothing,
                          TensorBase lse, TensorBase g):
    """Gradient of sum_i g_i * loss_i with respect to the logits; g is 0-d (shared) or (N,)."""
    if half_of((x, weight, lse, g)) >= 0:
        return half_call(softmax_xent_backward, half_of((x, weight, lse, g)), x, target, weight, ignore_index,
                         smoothing, lse, g)
    _nn_check_xent(x, target, "cross_entropy_backward")
    x = contiguous(x)
    target = contiguous(target)
    cdef int64_t n = x._shape[0], c = x._shape[1]
    if lse._ndim != 1 or lse._shape[0] != n:
        raise ValueError(f"cross_entropy_backward: lse of shape {tuple(lse.shape)} does not match ({n},)")
    if lse._dtype != x._dtype:
        lse = cast(lse, x._dtype)
    lse = contiguous(lse)
    cdef int64_t sg
    if g._numel == 1 and g._ndim <= 1:
        sg = 0
    elif g._ndim == 1 and g._shape[0] == n:
        sg = 1
    else:
        raise ValueError(f"cross_entropy_backward: gradient of shape {tuple(g.shape)}, expected () or ({n},)")
    if g._dtype != x._dtype:
        g = cast(g, x._dtype)
    g = contiguous(g)
    cdef TensorBase w = _nn_channel_vector(weight, x._dtype, c, "weight", "cross_entropy_backward")
    cdef TensorBase out = new_tensor(x._dtype, 2, x._shape)
    cdef const void *wp = _nn_ptr(w)
    cdef int rc
    with nogil:
        rc = agc_softmax_xent_backward(x._dtype, n, c, x._data, <const int64_t *>target._data, wp, ignore_index,
                                       smoothing, lse._data, g._data, sg, out._data)
    check_rc(rc, "cross_entropy_backward")
    return out
