# _conv.pxi: binding for csrc/conv*.c and csrc/pool.c (included into _core.pyx).
# The user-facing checks (channel counts, kernel vs padded input, option ranges) happen in
# autograd_core/ops/conv.py with messages naming the op; these wrappers re-check everything the C
# kernels rely on (dtype, ndim, shapes agreeing with the geometry, positive sizes), make the
# inputs contiguous, then call C without the GIL.

cdef extern from "agc.h" nogil:
    ctypedef struct agc_conv2d_geom:
        int64_t n, c, h, w
        int64_t o, kh, kw
        int64_t oh, ow
        int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups
    ctypedef struct agc_pool2d_geom:
        int64_t nc, h, w, oh, ow
        int64_t kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w

    int agc_conv2d(int dt, const agc_conv2d_geom *g, const void *x, const void *weight, const void *bias,
                   void *out)
    int agc_conv2d_backward_data(int dt, const agc_conv2d_geom *g, const void *grad_out, const void *weight,
                                 const void *bias, void *out)
    int agc_conv2d_backward_weight(int dt, const agc_conv2d_geom *g, const void *x, const void *grad_out,
                                   void *out)
    int64_t agc_conv2d_workspace_bytes(int dt, const agc_conv2d_geom *g)
    int64_t agc_conv_set_workspace_limit(int64_t nbytes)
    int agc_conv_set_direct(int mode)
    int agc_conv_set_winograd(int mode)
    int agc_gemm_tile_mr(int dt)
    int agc_gemm_tile_nr(int dt)
    int agc_gemm_pack_a_panels(int dt, int64_t M, int64_t K, const void *A, int64_t rs_a, int64_t cs_a, void *out)
    int agc_gemm_prepacked(int dt, int64_t M, int64_t N, int64_t K, double alpha, const void *Ap, const void *Bp,
                           double beta, void *C, int64_t rs_c, int64_t cs_c)

    int agc_max_pool2d(int dt, const agc_pool2d_geom *g, const void *x, void *out, int64_t *idx)
    int agc_avg_pool2d(int dt, const agc_pool2d_geom *g, int count_include_pad, int64_t divisor_override,
                       const void *x, void *out)
    int agc_avg_pool2d_backward(int dt, const agc_pool2d_geom *g, int count_include_pad,
                                int64_t divisor_override, const void *grad_out, void *out)
    int agc_adaptive_avg_pool2d(int dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                const void *x, void *out)
    int agc_adaptive_avg_pool2d_backward(int dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                         const void *grad_out, void *out)
    int agc_adaptive_max_pool2d(int dt, int64_t nc, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                const void *x, void *out, int64_t *idx)
    int agc_pool_scatter_add(int dt, int64_t nc, int64_t in_size, int64_t out_size, const void *grad_out,
                             const int64_t *idx, void *out)
    int agc_pool_gather(int dt, int64_t nc, int64_t in_size, int64_t out_size, const void *x,
                        const int64_t *idx, void *out)


cdef int conv_fill_geom(agc_conv2d_geom *g, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh,
                        int64_t kw, int64_t oh, int64_t ow, tuple stride, tuple padding, tuple dilation,
                        int64_t groups, str op) except -1:
    g.n = n
    g.c = c
    g.h = h
    g.w = w
    g.o = o
    g.kh = kh
    g.kw = kw
    g.oh = oh
    g.ow = ow
    g.stride_h, g.stride_w = stride
    g.pad_h, g.pad_w = padding
    g.dil_h, g.dil_w = dilation
    g.groups = groups
    if n < 0 or c < 1 or h < 1 or w < 1 or o < 1 or kh < 1 or kw < 1 or oh < 1 or ow < 1:
        raise ValueError(f"{op}: sizes must be positive: input ({n}, {c}, {h}, {w}), weight ({o}, {kh}, {kw}), "
                         f"output ({oh}, {ow})")
    if g.stride_h < 1 or g.stride_w < 1 or g.dil_h < 1 or g.dil_w < 1 or g.pad_h < 0 or g.pad_w < 0:
        raise ValueError(f"{op}: stride and dilation must be >= 1 and padding >= 0, got stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    if groups < 1 or c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide both {c} input and {o} output channels")
    return 0


def conv2d_forward(TensorBase x, TensorBase weight, bias, tuple stride, tuple padding, tuple dilation,
                   int64_t groups, int64_t oh, int64_t ow):
    """out (n, o, oh, ow) = conv2d(x (n, c, h, w), weight (o, c / groups, kh, kw)) + bias; padding is the
    top / left padding, the bottom / right padding follows from oh / ow."""
    cdef int hdt = half_of((x, weight, bias,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(conv2d_forward, hdt, x, weight, bias, stride, padding, dilation, groups, oh, ow)
    cdef str op = "conv2d"
    cdef int dt = x._dtype
    require_float(dt, op, "an input")
    require_dtype_ndim(x, dt, 4, op, "input")
    require_dtype_ndim(weight, dt, 4, op, "weight")
    cdef agc_conv2d_geom g
    conv_fill_geom(&g, x._shape[0], x._shape[1], x._shape[2], x._shape[3], weight._shape[0], weight._shape[2],
                   weight._shape[3], oh, ow, stride, padding, dilation, groups, op)
    require_shape(weight, (g.o, g.c // groups, g.kh, g.kw), op, "weight")
    cdef TensorBase b = None
    cdef const char *bp = NULL
    if bias is not None:
        b = <TensorBase?>bias
        require_dtype_ndim(b, dt, 1, op, "bias")
        require_shape(b, (g.o,), op, "bias")
        b = contiguous(b)
        bp = b._data
    x = contiguous(x)
    weight = contiguous(weight)
    cdef int64_t shape[4]
    shape[0] = g.n
    shape[1] = g.o
    shape[2] = oh
    shape[3] = ow
    cdef TensorBase out = new_tensor(dt, 4, shape)
    cdef int rc
    with nogil:
        rc = agc_conv2d(dt, &g, x._data, weight._data, bp, out._data)
    check_rc(rc, op)
    return out


def conv2d_backward_data(TensorBase grad_out, TensorBase weight, bias, int64_t h, int64_t w, tuple stride,
                         tuple padding, tuple dilation, int64_t groups):
    """The gradient of conv2d with respect to its input, shape (n, c, h, w) with c = weight.shape[1] * groups,
    plus bias[c] when given (this is conv_transpose2d's forward)."""
    cdef int hdt = half_of((grad_out, weight, bias,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(conv2d_backward_data, hdt, grad_out, weight, bias, h, w, stride, padding, dilation,
                         groups)
    cdef str op = "conv2d_backward_data"
    cdef int dt = grad_out._dtype
    require_float(dt, op, "an input")
    require_dtype_ndim(grad_out, dt, 4, op, "grad_output")
    require_dtype_ndim(weight, dt, 4, op, "weight")
    cdef agc_conv2d_geom g
    conv_fill_geom(&g, grad_out._shape[0], weight._shape[1] * groups, h, w, weight._shape[0], weight._shape[2],
                   weight._shape[3], grad_out._shape[2], grad_out._shape[3], stride, padding, dilation, groups,
                   op)
    require_shape(grad_out, (g.n, g.o, g.oh, g.ow), op, "grad_output")
    cdef TensorBase b = None
    cdef const char *bp = NULL
    if bias is not None:
        b = <TensorBase?>bias
        require_dtype_ndim(b, dt, 1, op, "bias")
        require_shape(b, (g.c,), op, "bias")
        b = contiguous(b)
        bp = b._data
    grad_out = contiguous(grad_out)
    weight = contiguous(weight)
    cdef int64_t shape[4]
    shape[0] = g.n
    shape[1] = g.c
    shape[2] = h
    shape[3] = w
    cdef TensorBase out = new_tensor(dt, 4, shape)
    cdef int rc
    with nogil:
        rc = agc_conv2d_backward_data(dt, &g, grad_out._data, weight._data, bp, out._data)
    check_rc(rc, op)
    return out


def conv2d_backward_weight(TensorBase x, TensorBase grad_out, int64_t kh, int64_t kw, tuple stride,
                           tuple padding, tuple dilation, int64_t groups):
    """The gradient of conv2d with respect to its weight: shape (o, c / groups, kh, kw)."""
    cdef int hdt = half_of((x, grad_out,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(conv2d_backward_weight, hdt, x, grad_out, kh, kw, stride, padding, dilation, groups)
    cdef str op = "conv2d_backward_weight"
    cdef int dt = x._dtype
    require_float(dt, op, "an input")
    require_dtype_ndim(x, dt, 4, op, "input")
    require_dtype_ndim(grad_out, dt, 4, op, "grad_output")
    cdef agc_conv2d_geom g
    conv_fill_geom(&g, x._shape[0], x._shape[1], x._shape[2], x._shape[3], grad_out._shape[1], kh, kw,
                   grad_out._shape[2], grad_out._shape[3], stride, padding, dilation, groups, op)
    require_shape(grad_out, (g.n, g.o, g.oh, g.ow), op, "grad_output")
    x = contiguous(x)
    grad_out = contiguous(grad_out)
    cdef int64_t shape[4]
    shape[0] = g.o
    shape[1] = g.c // groups
    shape[2] = kh
    shape[3] = kw
    cdef TensorBase out = new_tensor(dt, 4, shape)
    cdef int rc
    with nogil:
        rc = agc_conv2d_backward_weight(dt, &g, x._data, grad_out._data, out._data)
    check_rc(rc, op)
    return out


def conv2d_workspace_bytes(int dt, tuple input_shape, tuple weight_shape, tuple output_hw, tuple stride,
                           tuple padding, tuple dilation, int64_t groups):
    """Bytes of column buffer a conv2d call with this geometry allocates (0 for the 1x1 GEMM path)."""
    require_float(dt, "conv2d_workspace_bytes", None)
    cdef agc_conv2d_geom g
    conv_fill_geom(&g, input_shape[0], input_shape[1], input_shape[2], input_shape[3], weight_shape[0],
                   weight_shape[2], weight_shape[3], output_hw[0], output_hw[1], stride, padding, dilation,
                   groups, "conv2d_workspace_bytes")
    return agc_conv2d_workspace_bytes(dt, &g)


def conv_set_workspace_limit(int64_t nbytes):
    """Set the conv column-buffer cap in bytes (<= 0 restores the 64 MiB default); returns the old cap."""
    return agc_conv_set_workspace_limit(nbytes)


def conv_set_direct(int mode):
    """Forward algorithm for tests and benchmarks: 0 automatic, 1 im2col + GEMM everywhere (neither the
    direct-packed path nor the direct depthwise loops, and the weight gradient through im2col + GEMM
    too), 2 the direct-packed path wherever it applies, 3 the float32 output-channels-in-lanes kernels
    wherever they apply (AVX2 / AVX-512, column stride <= 2; the weight gradient's also needs column
    dilation 1 and a kernel 3 or 5 wide; elsewhere as 0). Returns the previous mode."""
    return agc_conv_set_direct(mode)


def conv_set_winograd(int mode):
    """Winograd F(2x2, 3x3) for 3x3 stride-1 undilated ungrouped convolutions (forward and the stride-1
    data gradient): 0 automatic (>= 196 output pixels; float32 >= 64 input and >= 32 output channels,
    float64 >= 16 of each), 1 never, 2 wherever the geometry
    allows. Takes precedence over conv_set_direct where it applies. Returns the previous mode."""
    return agc_conv_set_winograd(mode)


def gemm_tile(int dt):
    """(MR, NR): the register tile of the GEMM micro-kernel the run-time dispatch uses for dt."""
    require_float(dt, "gemm_tile", None)
    return agc_gemm_tile_mr(dt), agc_gemm_tile_nr(dt)


def gemm_prepacked(TensorBase a, TensorBase b_panels, int64_t n, double alpha, double beta, TensorBase c):
    """c (m, n) = alpha * a (m, k) @ b + beta * c in place, through agc_gemm_prepacked: a is packed here
    with agc_gemm_pack_a_panels; b_panels holds b already packed (ceil(n / NR) full-K panels of NR columns,
    b[k * NR + j]), flat. For the tests of the pre-packed GEMM entry points."""
    cdef str op = "gemm_prepacked"
    cdef int dt = a._dtype
    require_float(dt, op, "tensors")
    require_dtype_ndim(a, dt, 2, op, "a")
    require_dtype_ndim(b_panels, dt, 1, op, "b_panels")
    require_dtype_ndim(c, dt, 2, op, "c")
    cdef int64_t m = a._shape[0], k = a._shape[1], mr = agc_gemm_tile_mr(dt), nr = agc_gemm_tile_nr(dt)
    require_shape(c, (m, n), op, "c")
    require_shape(b_panels, (((n + nr - 1) // nr) * nr * k,), op, "b_panels")
    if not is_contiguous(c):
        raise ValueError(f"{op}: c must be contiguous")
    a = contiguous(a)
    b_panels = contiguous(b_panels)
    cdef int64_t a_elems = max(1, ((m + mr - 1) // mr) * mr * k)
    cdef TensorBase apt = new_tensor(dt, 1, &a_elems)
    cdef int rc
    with nogil:
        rc = agc_gemm_pack_a_panels(dt, m, k, a._data, k, 1, apt._data)
        if rc == 0:
            rc = agc_gemm_prepacked(dt, m, n, k, alpha, apt._data, b_panels._data, beta, c._data, n, 1)
    check_rc(rc, op)


# ------------------------------------------------------------------------------------------ pooling
# Pools take (..., h, w) tensors: every leading dimension is a plane (batch * channels).

cdef int64_t pool_planes(TensorBase x, str op) except -1:
    require_float(x._dtype, op, "an input")
    if x._ndim < 2:
        raise ValueError(f"{op}: expected at least 2 dimensions, got shape {tuple(x.shape)}")
    cdef int64_t nc = 1
    cdef int i
    for i in range(x._ndim - 2):
        nc *= x._shape[i]
    return nc


cdef TensorBase pool_new(TensorBase x, int64_t oh, int64_t ow, int dt):
    cdef int64_t shape[16]
    cdef int i
    for i in range(x._ndim - 2):
        shape[i] = x._shape[i]
    shape[x._ndim - 2] = oh
    shape[x._ndim - 1] = ow
    return new_tensor(dt, x._ndim, shape)


cdef int pool_fill_geom(agc_pool2d_geom *g, TensorBase x, int64_t nc, int64_t oh, int64_t ow, tuple kernel,
                        tuple stride, tuple padding, tuple dilation, str op) except -1:
    g.nc = nc
    g.h = x._shape[x._ndim - 2]
    g.w = x._shape[x._ndim - 1]
    g.oh = oh
    g.ow = ow
    g.kh, g.kw = kernel
    g.stride_h, g.stride_w = stride
    g.pad_h, g.pad_w = padding
    g.dil_h, g.dil_w = dilation
    if g.h < 1 or g.w < 1 or oh < 1 or ow < 1 or g.kh < 1 or g.kw < 1:
        raise ValueError(f"{op}: sizes must be positive: input {tuple(x.shape)}, kernel {kernel}, "
                         f"output ({oh}, {ow})")
    if g.stride_h < 1 or g.stride_w < 1 or g.dil_h < 1 or g.dil_w < 1 or g.pad_h < 0 or g.pad_w < 0:
        raise ValueError(f"{op}: stride and dilation must be >= 1 and padding >= 0, got stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    return 0


def max_pool2d(TensorBase x, tuple kernel, tuple stride, tuple padding, tuple dilation, int64_t oh, int64_t ow):
    """(values, int64 indices) of a max pool over the last two dims; indices are flat within each plane."""
    cdef int hdt = half_of((x,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(max_pool2d, hdt, x, kernel, stride, padding, dilation, oh, ow)
    cdef str op = "max_pool2d"
    cdef int64_t nc = pool_planes(x, op)
    cdef agc_pool2d_geom g
    pool_fill_geom(&g, x, nc, oh, ow, kernel, stride, padding, dilation, op)
    x = contiguous(x)
    cdef TensorBase out = pool_new(x, oh, ow, x._dtype)
    cdef TensorBase idx = pool_new(x, oh, ow, AGC_I64)
    cdef int rc
    with nogil:
        rc = agc_max_pool2d(x._dtype, &g, x._data, out._data, <int64_t *>idx._data)
    check_rc(rc, op)
    return out, idx


def avg_pool2d(TensorBase x, tuple kernel, tuple stride, tuple padding, bint count_include_pad,
               int64_t divisor_override, int64_t oh, int64_t ow):
    cdef int hdt = half_of((x,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(avg_pool2d, hdt, x, kernel, stride, padding, count_include_pad, divisor_override, oh,
                         ow)
    cdef str op = "avg_pool2d"
    cdef int64_t nc = pool_planes(x, op)
    cdef agc_pool2d_geom g
    pool_fill_geom(&g, x, nc, oh, ow, kernel, stride, padding, (1, 1), op)
    x = contiguous(x)
    cdef TensorBase out = pool_new(x, oh, ow, x._dtype)
    cdef int rc
    with nogil:
        rc = agc_avg_pool2d(x._dtype, &g, count_include_pad, divisor_override, x._data, out._data)
    check_rc(rc, op)
    return out


def avg_pool2d_backward(TensorBase grad_out, int64_t h, int64_t w, tuple kernel, tuple stride, tuple padding,
                        bint count_include_pad, int64_t divisor_override):
    """The adjoint of avg_pool2d: grad_out (..., oh, ow) -> (..., h, w)."""
    cdef int hdt = half_of((grad_out,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(avg_pool2d_backward, hdt, grad_out, h, w, kernel, stride, padding, count_include_pad,
                         divisor_override)
    cdef str op = "avg_pool2d_backward"
    cdef int64_t nc = pool_planes(grad_out, op)
    cdef int64_t oh = grad_out._shape[grad_out._ndim - 2], ow = grad_out._shape[grad_out._ndim - 1]
    grad_out = contiguous(grad_out)
    cdef TensorBase out = pool_new(grad_out, h, w, grad_out._dtype)
    cdef agc_pool2d_geom g
    pool_fill_geom(&g, out, nc, oh, ow, kernel, stride, padding, (1, 1), op)
    cdef int rc
    with nogil:
        rc = agc_avg_pool2d_backward(grad_out._dtype, &g, count_include_pad, divisor_override, grad_out._data,
                                     out._data)
    check_rc(rc, op)
    return out


cdef int adaptive_check(TensorBase x, int64_t oh, int64_t ow, str op) except -1:
    if oh < 1 or ow < 1 or x._shape[x._ndim - 2] < 1 or x._shape[x._ndim - 1] < 1:
        raise ValueError(f"{op}: input {tuple(x.shape)} and output size ({oh}, {ow}) must be positive")
    return 0


def adaptive_avg_pool2d(TensorBase x, int64_t oh, int64_t ow):
    cdef int hdt = half_of((x,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(adaptive_avg_pool2d, hdt, x, oh, ow)
    cdef str op = "adaptive_avg_pool2d"
    cdef int64_t nc = pool_planes(x, op)
    adaptive_check(x, oh, ow, op)
    x = contiguous(x)
    cdef TensorBase out = pool_new(x, oh, ow, x._dtype)
    cdef int rc
    with nogil:
        rc = agc_adaptive_avg_pool2d(x._dtype, nc, x._shape[x._ndim - 2], x._shape[x._ndim - 1], oh, ow,
                                     x._data, out._data)
    check_rc(rc, op)
    return out


def adaptive_avg_pool2d_backward(TensorBase grad_out, int64_t h, int64_t w):
    cdef int hdt = half_of((grad_out,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(adaptive_avg_pool2d_backward, hdt, grad_out, h, w)
    cdef str op = "adaptive_avg_pool2d_backward"
    cdef int64_t nc = pool_planes(grad_out, op)
    cdef int64_t oh = grad_out._shape[grad_out._ndim - 2], ow = grad_out._shape[grad_out._ndim - 1]
    grad_out = contiguous(grad_out)
    cdef TensorBase out = pool_new(grad_out, h, w, grad_out._dtype)
    adaptive_check(out, oh, ow, op)
    cdef int rc
    with nogil:
        rc = agc_adaptive_avg_pool2d_backward(grad_out._dtype, nc, h, w, oh, ow, grad_out._data, out._data)
    check_rc(rc, op)
    return out


def adaptive_max_pool2d(TensorBase x, int64_t oh, int64_t ow):
    cdef int hdt = half_of((x,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(adaptive_max_pool2d, hdt, x, oh, ow)
    cdef str op = "adaptive_max_pool2d"
    cdef int64_t nc = pool_planes(x, op)
    adaptive_check(x, oh, ow, op)
    x = contiguous(x)
    cdef TensorBase out = pool_new(x, oh, ow, x._dtype)
    cdef TensorBase idx = pool_new(x, oh, ow, AGC_I64)
    cdef int rc
    with nogil:
        rc = agc_adaptive_max_pool2d(x._dtype, nc, x._shape[x._ndim - 2], x._shape[x._ndim - 1], oh, ow,
                                     x._data, out._data, <int64_t *>idx._data)
    check_rc(rc, op)
    return out, idx


cdef int pool_check_indices(TensorBase idx, TensorBase values, str op) except -1:
    cdef int i
    require_dtype(idx, AGC_I64, op, "indices")
    if idx._ndim != values._ndim:
        raise ValueError(f"{op}: indices {tuple(idx.shape)} and values {tuple(values.shape)} differ in shape")
    for i in range(idx._ndim):
        if idx._shape[i] != values._shape[i]:
            raise ValueError(f"{op}: indices {tuple(idx.shape)} and values {tuple(values.shape)} differ in "
                             f"shape")
    return 0


def pool_scatter_add(TensorBase grad_out, TensorBase idx, int64_t h, int64_t w):
    """Max-pool backward: (..., h, w) zeros with grad_out[..., k] added at the flat in-plane index idx[..., k]."""
    cdef int hdt = half_of((grad_out, idx,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(pool_scatter_add, hdt, grad_out, idx, h, w)
    cdef str op = "max_pool2d_backward"
    cdef int64_t nc = pool_planes(grad_out, op)
    pool_check_indices(idx, grad_out, op)
    if h < 1 or w < 1:
        raise ValueError(f"{op}: input size ({h}, {w}) must be positive")
    grad_out = contiguous(grad_out)
    idx = contiguous(idx)
    cdef int64_t out_size = grad_out._shape[grad_out._ndim - 2] * grad_out._shape[grad_out._ndim - 1]
    cdef TensorBase out = pool_new(grad_out, h, w, grad_out._dtype)
    cdef int rc
    with nogil:
        rc = agc_pool_scatter_add(grad_out._dtype, nc, h * w, out_size, grad_out._data,
                                  <const int64_t *>idx._data, out._data)
    check_rc(rc, op)
    return out


def pool_gather(TensorBase x, TensorBase idx):
    """out[..., k] = x[..., flat in-plane index idx[..., k]]: the adjoint of pool_scatter_add."""
    cdef int hdt = half_of((x, idx,))
    if hdt >= 0:  # half operands compute in float32 (_half.pxi)
        return half_call(pool_gather, hdt, x, idx)
    cdef str op = "max_pool2d_gather"
    cdef int64_t nc = pool_planes(x, op)
    if not (idx._dtype == AGC_I64 and idx._ndim == x._ndim):
        raise ValueError(f"{op}: indices {tuple(idx.shape)} must be int64 with the input's ndim "
                         f"({tuple(x.shape)})")
    cdef int i
    for i in range(x._ndim - 2):
        if idx._shape[i] != x._shape[i]:
            raise ValueError(f"{op}: indices {tuple(idx.shape)} and input {tuple(x.shape)} differ in the "
                             f"leading dimensions")
    x = contiguous(x)
    idx = contiguous(idx)
    cdef int64_t in_size = x._shape[x._ndim - 2] * x._shape[x._ndim - 1]
    cdef int64_t out_size = idx._shape[idx._ndim - 2] * idx._shape[idx._ndim - 1]
    cdef TensorBase out = pool_new(idx, idx._shape[idx._ndim - 2], idx._shape[idx._ndim - 1], x._dtype)
    cdef int rc
    with nogil:
        rc = agc_pool_gather(x._dtype, nc, in_size, out_size, x._data, <const int64_t *>idx._data, out._data)
    check_rc(rc, op)
    return out
