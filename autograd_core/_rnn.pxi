# _rnn.pxi: bindings of csrc/rnn.c, one recurrent layer and direction over a whole (packed) sequence.
# Included textually into _core.pyx. The wrappers check shapes and dtypes, make operands contiguous
# and call C without the GIL. The autodiff wrapper (one graph node per layer and direction) lives in
# autograd_core/nn/rnn.py.

cdef extern from "agc.h" nogil:
    ctypedef struct agc_rnn_geom:
        int mode
        int reverse
        int64_t T, B, I, H, P
        const int64_t *batch_sizes
    int64_t agc_rnn_workspace_numel(const agc_rnn_geom *g, int training)
    int agc_rnn_forward(int dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                        const void *b_ih, const void *b_hh, const void *w_hr, const void *h0, const void *c0,
                        void *out, void *h_n, void *c_n, void *ws, int training)
    int agc_rnn_backward(int dt, const agc_rnn_geom *g, const void *x, const void *w_ih, const void *w_hh,
                         const void *w_hr, const void *ws, const void *g_out, const void *g_hn, const void *g_cn,
                         void *dx, void *dh0, void *dc0, void *dw_ih, void *dw_hh, void *db_ih, void *db_hh,
                         void *dw_hr)

RNN_MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
_RNN_GATES = (1, 1, 4, 3)


cdef TensorBase _rnn_operand(object v, int dt, tuple shape, str what, bint optional=False):
    """A contiguous tensor of dtype dt and the given shape (None passes when optional)."""
    cdef TensorBase t = tensor_arg(v, "rnn", what, optional)
    if t is None:
        return None
    require_dtype(t, dt, "rnn", what)
    require_shape(t, shape, "rnn", what)
    return contiguous(t)


cdef class _RNNGeom:
    """The geometry of one call, owning its batch_sizes array."""
    cdef agc_rnn_geom g
    cdef int64_t *sizes
    cdef int64_t n

    def __dealloc__(self):
        free(self.sizes)


cdef _RNNGeom _rnn_geom(int mode, bint reverse, int64_t n, int64_t batch, object batch_sizes, int64_t inp,
                        int64_t hidden, int64_t proj):
    cdef _RNNGeom geo = _RNNGeom.__new__(_RNNGeom)
    cdef int64_t steps, t, total = 0, prev
    if batch_sizes is None:
        steps = n // batch if batch > 0 else 0
        if steps * batch != n:
            raise ValueError(f"rnn: {n} input rows are not a whole number of steps of batch {batch}")
        sizes = None
    else:
        sizes = [int(v) for v in batch_sizes]
        steps = len(sizes)
    geo.sizes = <int64_t *>malloc(sizeof(int64_t) * (steps if steps > 0 else 1))
    if geo.sizes == NULL:
        raise MemoryError()
    prev = batch
    for t in range(steps):
        geo.sizes[t] = batch if sizes is None else sizes[t]
        if geo.sizes[t] < 0 or geo.sizes[t] > prev:
            raise ValueError(f"rnn: batch_sizes must be non-increasing and at most the batch size {batch}, got "
                             f"{sizes}")
        prev = geo.sizes[t]
        total += geo.sizes[t]
    if total != n:
        raise ValueError(f"rnn: batch_sizes sum to {total}, but the input has {n} rows")
    geo.n = n
    geo.g.mode = mode
    geo.g.reverse = reverse
    geo.g.T = steps
    geo.g.B = batch
    geo.g.I = inp
    geo.g.H = hidden
    geo.g.P = proj
    geo.g.batch_sizes = geo.sizes
    return geo


cdef inline void *_rnn_ptr(TensorBase t) noexcept:
    return NULL if t is None else <void *>t._data


def rnn_forward(int mode, bint reverse, TensorBase x, TensorBase w_ih, TensorBase w_hh, b_ih, b_hh, w_hr,
                TensorBase h0, c0, batch_sizes=None, bint training=False):
    """One layer and direction over a sequence packed by time step: x (N, I) -> (out (N, P),
    h_n (B, P), c_n (B, H) or None, workspace or None). batch_sizes None means a padded
    (T, B) layout with B = h0.shape[0]; with training the workspace keeps what rnn_backward needs."""
    cdef int hdt = half_of((x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0, batch_sizes,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(rnn_forward, hdt, mode, reverse, x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0,
                         batch_sizes, training)
    if mode < 0 or mode > 3:
        raise ValueError(f"rnn: unknown mode {mode}")
    require_float(x._dtype, "rnn", "an input")
    if x._ndim != 2:
        raise ValueError(f"rnn: expected a 2-D (rows, features) input, got shape {tuple(x.shape)}")
    if w_hh._ndim != 2 or h0._ndim != 2:
        raise ValueError(f"rnn: expected 2-D w_hh and h0, got shapes {tuple(w_hh.shape)} and {tuple(h0.shape)}")
    cdef int dt = x._dtype
    cdef int64_t gates = _RNN_GATES[mode]
    cdef int64_t n = x._shape[0], inp = x._shape[1], batch = h0._shape[0]
    cdef int64_t proj = w_hh._shape[1], hidden = w_hh._shape[0] // gates
    if hidden * gates != w_hh._shape[0] or hidden == 0:
        raise ValueError(f"rnn: w_hh of shape {tuple(w_hh.shape)} does not hold {gates} gates")
    if w_hr is None and proj != hidden:
        raise ValueError(f"rnn: w_hh of shape {tuple(w_hh.shape)} needs a projection w_hr")
    if w_hr is not None and (mode != 2 or proj >= hidden):
        raise ValueError("rnn: a projection w_hr needs an LSTM with proj_size < hidden_size")
    x = contiguous(x)
    w_ih = _rnn_operand(w_ih, dt, (gates * hidden, inp), "w_ih")
    w_hh = _rnn_operand(w_hh, dt, (gates * hidden, proj), "w_hh")
    cdef TensorBase bi = _rnn_operand(b_ih, dt, (gates * hidden,), "b_ih", True)
    cdef TensorBase bh = _rnn_operand(b_hh, dt, (gates * hidden,), "b_hh", True)
    cdef TensorBase wr = _rnn_operand(w_hr, dt, (proj, hidden), "w_hr", True)
    h0 = _rnn_operand(h0, dt, (batch, proj), "h0")
    cdef TensorBase c = _rnn_operand(c0, dt, (batch, hidden), "c0") if mode == 2 else None
    cdef _RNNGeom geo = _rnn_geom(mode, reverse, n, batch, batch_sizes, inp, hidden, proj)
    cdef int64_t shape[2]
    shape[0] = n
    shape[1] = proj
    cdef TensorBase out = new_tensor(dt, 2, shape)
    shape[0] = batch
    cdef TensorBase hn = new_tensor(dt, 2, shape)
    shape[1] = hidden
    cdef TensorBase cn = new_tensor(dt, 2, shape) if mode == 2 else None
    shape[0] = agc_rnn_workspace_numel(&geo.g, training)
    cdef TensorBase ws = new_tensor(dt, 1, shape)
    cdef const void *pbi = _rnn_ptr(bi)
    cdef const void *pbh = _rnn_ptr(bh)
    cdef const void *pwr = _rnn_ptr(wr)
    cdef const void *pc = _rnn_ptr(c)
    cdef void *pcn = <void *>_rnn_ptr(cn)
    cdef int rc
    with nogil:
        rc = agc_rnn_forward(dt, &geo.g, x._data, w_ih._data, w_hh._data, pbi, pbh, pwr, h0._data, pc,
                             out._data, hn._data, pcn, ws._data, training)
    check_rc(rc, "rnn")
    return out, hn, cn, (ws if training else None)


def rnn_backward(int mode, bint reverse, TensorBase x, TensorBase w_ih, TensorBase w_hh, w_hr,
                 TensorBase ws, int64_t batch, batch_sizes, g_out, g_hn, g_cn, tuple needs):
    """Gradients of rnn_forward(training=True): (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr),
    each computed only where needs (8 bools, the same order) says so, else None. The incoming
    gradients g_out (N, P), g_hn (B, P), g_cn (B, H) may be None (zero)."""
    cdef int hdt = half_of((x, w_ih, w_hh, w_hr, ws, batch_sizes, g_out, g_hn, g_cn,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(rnn_backward, hdt, mode, reverse, x, w_ih, w_hh, w_hr, ws, batch, batch_sizes, g_out,
                         g_hn, g_cn, needs)
    cdef int dt = x._dtype
    cdef int64_t gates = _RNN_GATES[mode]
    cdef int64_t n = x._shape[0], inp = x._shape[1]
    cdef int64_t proj = w_hh._shape[1], hidden = w_hh._shape[0] // gates
    x = contiguous(x)
    w_ih = contiguous(w_ih)
    w_hh = contiguous(w_hh)
    cdef TensorBase wr = _rnn_operand(w_hr, dt, (proj, hidden), "w_hr", True)
    cdef _RNNGeom geo = _rnn_geom(mode, reverse, n, batch, batch_sizes, inp, hidden, proj)
    if ws._numel != agc_rnn_workspace_numel(&geo.g, 1):
        raise ValueError("rnn_backward: the workspace does not belong to this geometry")
    cdef TensorBase go = _rnn_operand(g_out, dt, (n, proj), "grad of the output", True)
    cdef TensorBase gh = _rnn_operand(g_hn, dt, (batch, proj), "grad of h_n", True)
    cdef TensorBase gc = _rnn_operand(g_cn, dt, (batch, hidden), "grad of c_n", True) if mode == 2 else None
    shapes = ((n, inp), (batch, proj), (batch, hidden), (gates * hidden, inp), (gates * hidden, proj),
              (gates * hidden,), (gates * hidden,), (proj, hidden))
    outs = [empty(shapes[k], dt) if needs[k] and (k != 2 or mode == 2) and (k != 7 or wr is not None) else None
            for k in range(8)]
    cdef void *p[8]
    cdef int k
    for k in range(8):
        p[k] = <void *>_rnn_ptr(outs[k])
    cdef const void *pwr = _rnn_ptr(wr)
    cdef const void *pgo = _rnn_ptr(go)
    cdef const void *pgh = _rnn_ptr(gh)
    cdef const void *pgc = _rnn_ptr(gc)
    cdef int rc
    with nogil:
        rc = agc_rnn_backward(dt, &geo.g, x._data, w_ih._data, w_hh._data, pwr, ws._data, pgo, pgh, pgc,
                              p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
    check_rc(rc, "rnn_backward")
    return tuple(outs)
