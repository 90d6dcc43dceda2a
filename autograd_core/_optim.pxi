# _optim.pxi: bindings for the fused optimizer steps in csrc/optim.c (included into _core.pyx).
#
# Each *_step function updates one parameter in place: it checks dtypes, shapes and state buffers
# (raising an error that names the optimizer and the shapes), then runs one kernel without the GIL.
# A non-contiguous parameter is updated through a contiguous copy written back afterwards; a
# non-contiguous gradient (or one sharing memory with the parameter) is copied first. State buffers
# are created contiguous by the optimizers and must stay so. Tests: tests/test_optim.py.

cdef extern from "agc.h" nogil:
    enum:
        AGC_OPTIM_MAXIMIZE
        AGC_OPTIM_NESTEROV
        AGC_OPTIM_FIRST_STEP
        AGC_OPTIM_AMSGRAD
        AGC_OPTIM_DECOUPLED
    int agc_sgd_step(int dt, int64_t n, void *p, const void *g, void *momentum_buffer, double lr,
                     double momentum, double dampening, double weight_decay, int flags, double l1)
    int agc_adam_step(int dt, int64_t n, void *p, const void *g, void *exp_avg, void *exp_avg_sq,
                      void *max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int64_t step, int flags, double l1)
    int agc_rmsprop_step(int dt, int64_t n, void *p, const void *g, void *square_avg, void *grad_avg,
                         void *momentum_buffer, double lr, double alpha, double eps, double weight_decay,
                         double momentum, int flags, double l1)
    int agc_adagrad_step(int dt, int64_t n, void *p, const void *g, void *sum, double clr, double eps,
                         double weight_decay, int flags, double l1)
    int agc_soft_threshold(int dt, int64_t n, void *p, double l1)


cdef int _optim_check_param(str op, TensorBase p) except -1:
    require_float(p._dtype, op, "parameters", f"a {DTYPE_NAMES[p._dtype]} parameter of shape {tuple(p.shape)}")
    check_writable(p, op)
    cdef int i
    for i in range(p._ndim):
        if p._strides[i] == 0 and p._shape[i] > 1:
            raise RuntimeError(f"{op}: cannot update a parameter of shape {tuple(p.shape)} with strides "
                               f"{p.stride()} in place: several elements share memory (an expanded view)")
    return 0


cdef TensorBase _optim_grad(str op, TensorBase p, TensorBase g):
    """g checked against p, contiguous and not sharing memory with p."""
    if g._dtype != p._dtype:
        raise TypeError(f"{op}: gradient dtype {DTYPE_NAMES[g._dtype]} does not match parameter dtype "
                        f"{DTYPE_NAMES[p._dtype]} (shape {tuple(p.shape)})")
    if g._ndim != p._ndim or any_diff(g._shape, p._shape, p._ndim):
        raise RuntimeError(f"{op}: gradient of shape {tuple(g.shape)} does not match parameter of shape "
                           f"{tuple(p.shape)}")
    if overlaps(g, p):
        return clone(g)
    return contiguous(g)


cdef void *_optim_state(str op, str name, TensorBase p, object s) except? NULL:
    """The data pointer of state buffer s (None gives NULL), after checking it fits p."""
    cdef TensorBase t = tensor_arg(s, op, f"state '{name}'", optional=True)
    if t is None:
        return NULL
    if t._dtype != p._dtype or t._numel != p._numel or not is_contiguous(t):
        raise RuntimeError(f"{op}: state '{name}' (shape {tuple(t.shape)}, {DTYPE_NAMES[t._dtype]}) must be "
                           f"a contiguous {DTYPE_NAMES[p._dtype]} tensor with the parameter's "
                           f"{p._numel} elements (parameter shape {tuple(p.shape)})")
    if overlaps(t, p):
        raise RuntimeError(f"{op}: state '{name}' shares memory with its parameter")
    check_writable(t, op)
    t._storage.version += 1
    return <void *>t._data


cdef TensorBase _optim_work(TensorBase p):
    """The buffer a kernel updates: p itself when contiguous, else a contiguous copy."""
    return contiguous(p)


cdef int _optim_finish(TensorBase p, TensorBase work) except -1:
    """Write a contiguous working copy back into a strided parameter, and bump p's version."""
    cdef int rc = 0
    if work is not p:
        with nogil:
            rc = agc_copy(p._ndim, p._shape, p._dtype, work._data, work._strides, p._dtype, p._data,
                          p._strides)
        check_rc(rc, "optimizer step")
    p._storage.version += 1
    return 0


def sgd_step(TensorBase p, TensorBase grad, momentum_buffer, double lr, double momentum,
             double dampening, double weight_decay, bint nesterov, bint maximize, bint first_step,
             double l1):
    """One SGD step on p in place (momentum_buffer None means no momentum)."""
    if half_of((p, grad)) >= 0:  # kernels update in float32; half parameters and state are rounded back
        return half_inplace(sgd_step, p, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                            nesterov, maximize, first_step, l1)
    _optim_check_param("SGD", p)
    cdef TensorBase g = _optim_grad("SGD", p, grad)
    cdef void *buf = _optim_state("SGD", "momentum_buffer", p, momentum_buffer)
    cdef int flags = ((AGC_OPTIM_MAXIMIZE if maximize else 0) | (AGC_OPTIM_NESTEROV if nesterov else 0)
                      | (AGC_OPTIM_FIRST_STEP if first_step else 0))
    cdef TensorBase w = _optim_work(p)
    cdef int rc
    with nogil:
        rc = agc_sgd_step(w._dtype, w._numel, w._data, g._data, buf, lr, momentum, dampening, weight_decay,
                          flags, l1)
    check_rc(rc, "SGD")
    return _optim_finish(p, w)


def adam_step(TensorBase p, TensorBase grad, exp_avg, exp_avg_sq, max_exp_avg_sq, double lr,
              double beta1, double beta2, double eps, double weight_decay, int64_t step,
              bint maximize, bint decoupled, double l1):
    """One Adam (decoupled=False) or AdamW (decoupled=True) step on p in place; step is t >= 1.
    max_exp_avg_sq not None turns on amsgrad."""
    if half_of((p, grad)) >= 0:  # kernels update in float32; half parameters and state are rounded back
        return half_inplace(adam_step, p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                            weight_decay, step, maximize, decoupled, l1)
    cdef str op = "AdamW" if decoupled else "Adam"
    _optim_check_param(op, p)
    if step < 1:
        raise ValueError(f"{op}: step count must be >= 1, got {step}")
    cdef TensorBase g = _optim_grad(op, p, grad)
    cdef void *m = _optim_state(op, "exp_avg", p, exp_avg)
    cdef void *v = _optim_state(op, "exp_avg_sq", p, exp_avg_sq)
    cdef void *vmax = _optim_state(op, "max_exp_avg_sq", p, max_exp_avg_sq)
    if m == NULL or v == NULL:
        raise TypeError(f"{op}: exp_avg and exp_avg_sq are required")
    cdef int flags = ((AGC_OPTIM_MAXIMIZE if maximize else 0) | (AGC_OPTIM_DECOUPLED if decoupled else 0)
                      | (AGC_OPTIM_AMSGRAD if vmax != NULL else 0))
    cdef TensorBase w = _optim_work(p)
    cdef int rc
    with nogil:
        rc = agc_adam_step(w._dtype, w._numel, w._data, g._data, m, v, vmax, lr, beta1, beta2, eps,
                           weight_decay, step, flags, l1)
    check_rc(rc, op)
    return _optim_finish(p, w)


def rmsprop_step(TensorBase p, TensorBase grad, square_avg, grad_avg, momentum_buffer, double lr,
                 double alpha, double eps, double weight_decay, double momentum, bint maximize,
                 double l1):
    """One RMSprop step on p in place; grad_avg not None means centered, momentum_buffer not None
    means momentum."""
    if half_of((p, grad)) >= 0:  # kernels update in float32; half parameters and state are rounded back
        return half_inplace(rmsprop_step, p, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                            weight_decay, momentum, maximize, l1)
    _optim_check_param("RMSprop", p)
    cdef TensorBase g = _optim_grad("RMSprop", p, grad)
    cdef void *sq = _optim_state("RMSprop", "square_avg", p, square_avg)
    cdef void *ga = _optim_state("RMSprop", "grad_avg", p, grad_avg)
    cdef void *buf = _optim_state("RMSprop", "momentum_buffer", p, momentum_buffer)
    if sq == NULL:
        raise TypeError("RMSprop: square_avg is required")
    cdef int flags = AGC_OPTIM_MAXIMIZE if maximize else 0
    cdef TensorBase w = _optim_work(p)
    cdef int rc
    with nogil:
        rc = agc_rmsprop_step(w._dtype, w._numel, w._data, g._data, sq, ga, buf, lr, alpha, eps,
                              weight_decay, momentum, flags, l1)
    check_rc(rc, "RMSprop")
    return _optim_finish(p, w)


def adagrad_step(TensorBase p, TensorBase grad, state_sum, double clr, double eps, double weight_decay,
                 bint maximize, double l1):
    """One Adagrad step on p in place with the decayed learning rate clr."""
    if half_of((p, grad)) >= 0:  # kernels update in float32; half parameters and state are rounded back
        return half_inplace(adagrad_step, p, grad, state_sum, clr, eps, weight_decay, maximize, l1)
    _optim_check_param("Adagrad", p)
    cdef TensorBase g = _optim_grad("Adagrad", p, grad)
    cdef void *s = _optim_state("Adagrad", "sum", p, state_sum)
    if s == NULL:
        raise TypeError("Adagrad: sum is required")
    cdef int flags = AGC_OPTIM_MAXIMIZE if maximize else 0
    cdef TensorBase w = _optim_work(p)
    cdef int rc
    with nogil:
        rc = agc_adagrad_step(w._dtype, w._numel, w._data, g._data, s, clr, eps, weight_decay, flags, l1)
    check_rc(rc, "Adagrad")
    return _optim_finish(p, w)


def soft_threshold_(TensorBase p, double threshold):
    """p <- sign(p) * max(|p| - threshold, 0) in place (the proximal step of threshold * |p|_1)."""
    if half_of((p,)) >= 0:  # kernels update in float32; half parameters and state are rounded back
        return half_inplace(soft_threshold_, p, threshold)
    _optim_check_param("soft_threshold_", p)
    if not (threshold >= 0):
        raise ValueError(f"soft_threshold_: threshold must be >= 0, got {threshold}")
    cdef TensorBase w = _optim_work(p)
    cdef int rc
    with nogil:
        rc = agc_soft_threshold(w._dtype, w._numel, w._data, threshold)
    check_rc(rc, "soft_threshold_")
    return _optim_finish(p, w)
