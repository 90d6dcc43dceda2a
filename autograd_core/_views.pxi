# _views.pxi: views that share storage: view, reshape, permute, transpose, expand, squeeze,
# unsqueeze, basic indexing (included by _core.pyx).

# ------------------------------------------------------------------------------------------ views
def view(TensorBase x, shape):
    """A view with a new shape; raises if the strides cannot express it (like torch.view)."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = infer_shape(x, shape, sh, "view")
    if not view_strides(x, n, sh, st):
        raise RuntimeError(f"view: view size {shape_tuple(n, sh)} is not compatible with input tensor's size "
                           f"{tuple(x.shape)} and stride {x.stride()} (at least one dimension spans across "
                           f"two contiguous subspaces). Use .reshape(...) instead.")
    return make_view(x, n, sh, st, x._offset)


def reshape(TensorBase x, shape):
    """A view when the strides allow it, else a contiguous copy."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = infer_shape(x, shape, sh, "reshape")
    if view_strides(x, n, sh, st):
        return make_view(x, n, sh, st, x._offset)
    cdef TensorBase c = contiguous(x)
    set_strides_for(n, sh, st)
    return make_view(c, n, sh, st, c._offset)


cdef void set_strides_for(int n, const int64_t *sh, int64_t *st) noexcept:
    cdef int64_t s = 1
    cdef int i
    for i in range(n - 1, -1, -1):
        st[i] = s
        s *= sh[i]


cdef int infer_shape(TensorBase x, object shape, int64_t *sh, str op) except -1:
    cdef int n = read_shape(shape, sh, op), i, infer = -1
    cdef int64_t prod = 1
    cdef bint overflow = False
    for i in range(n):
        if sh[i] == -1:
            if infer >= 0:
                raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {tuple(shape)}")
            infer = i
        elif sh[i] < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {sh[i]} in {tuple(shape)}")
        elif sh[i] == 0:
            prod = 0
        elif prod != 0:
            if prod > INT64_MAX // sh[i]:
                overflow = True  # unless a later 0 makes the shape empty
            else:
                prod *= sh[i]
    if overflow and prod != 0:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel} "
                           f"(input shape {tuple(x.shape)})")
    if infer >= 0:
        if prod == 0 or x._numel % prod != 0:
            raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel}")
        sh[infer] = x._numel // prod
        prod *= sh[infer]
    if prod != x._numel:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {x._numel} "
                           f"(input shape {tuple(x.shape)})")
    return n


cdef bint view_strides(TensorBase x, int n, const int64_t *sh, int64_t *st) noexcept:
    """Strides for viewing x as shape sh without copying, if possible: walk the old dims from the
    innermost out in chunks that are contiguous with each other, and give each chunk's elements to
    new dims."""
    cdef int od = x._ndim
    if x._numel == 0 or od == 0:
        set_strides_for(n, sh, st)
        return True
    cdef int view_d = n - 1, td
    cdef int64_t chunk_base = x._strides[od - 1]
    cdef int64_t tensor_numel = 1, view_numel = 1
    for td in range(od - 1, -1, -1):
        tensor_numel *= x._shape[td]
        if td == 0 or (x._shape[td - 1] != 1 and x._strides[td - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or sh[view_d] == 1):
                st[view_d] = view_numel * chunk_base
                view_numel *= sh[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if td > 0:
                chunk_base = x._strides[td - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


def permute(TensorBase x, dims):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef bint seen[16]
    cdef int n = x._ndim, i, d
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {n} dimensions "
                           f"(shape {tuple(x.shape)})")
    for i in range(n):
        seen[i] = False
    for i in range(n):
        d = wrap_dim(dims[i], n, "permute")
        if seen[d]:
            raise RuntimeError(f"permute: repeated dim {d} in {tuple(dims)}")
        seen[d] = True
        sh[i] = x._shape[d]
        st[i] = x._strides[d]
    return make_view(x, n, sh, st, x._offset)


def transpose(TensorBase x, d0, d1):
    cdef int a = wrap_dim(d0, x._ndim, "transpose"), b = wrap_dim(d1, x._ndim, "transpose")
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int i
    for i in range(x._ndim):
        sh[i] = x._shape[i]
        st[i] = x._strides[i]
    if x._ndim >= 2 or a != b:
        sh[a], sh[b] = x._shape[b], x._shape[a]
        st[a], st[b] = x._strides[b], x._strides[a]
    return make_view(x, x._ndim, sh, st, x._offset)


def expand(TensorBase x, shape):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = len(shape), i, j
    if n < x._ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({n}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({x._ndim})")
    if n > AGC_MAX_DIMS:
        raise ValueError(f"expand: at most {AGC_MAX_DIMS} dimensions")
    for i in range(n):
        j = i - (n - x._ndim)
        s = shape[i]
        if j < 0:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension "
                                   f"(shape {tuple(shape)})")
            sh[i] = s
            st[i] = 0
        else:
            if s == -1 or s == x._shape[j]:
                sh[i] = x._shape[j]
                st[i] = x._strides[j]
            elif x._shape[j] == 1:
                if s < 0:
                    raise RuntimeError(f"expand: invalid size {s} in {tuple(shape)}")
                sh[i] = s
                st[i] = 0
            else:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing "
                                   f"size ({x._shape[j]}) at non-singleton dimension {i}. Target sizes: "
                                   f"{tuple(shape)}. Tensor sizes: {tuple(x.shape)}")
    return make_view(x, n, sh, st, x._offset)


def squeeze(TensorBase x, dims=None):
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef bint mask[16]
    cdef int i, n = 0
    if dims is None:
        for i in range(x._ndim):
            mask[i] = True
    else:
        parse_dims(dims, x._ndim, mask, "squeeze")
    for i in range(x._ndim):
        if mask[i] and x._shape[i] == 1:
            continue
        sh[n] = x._shape[i]
        st[n] = x._strides[i]
        n += 1
    return make_view(x, n, sh, st, x._offset)


def unsqueeze(TensorBase x, dim):
    cdef int d = wrap_dim(dim, x._ndim + 1, "unsqueeze")
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int i, j = 0
    if x._ndim + 1 > AGC_MAX_DIMS:
        raise ValueError(f"unsqueeze: at most {AGC_MAX_DIMS} dimensions")
    for i in range(x._ndim + 1):
        if i == d:
            sh[i] = 1
            st[i] = (x._strides[j] * x._shape[j]) if j < x._ndim else 1
        else:
            sh[i] = x._shape[j]
            st[i] = x._strides[j]
            j += 1
    return make_view(x, x._ndim + 1, sh, st, x._offset)


def basic_index(TensorBase x, tuple key):
    """x[key] for a key of ints, slices, None and at most one Ellipsis: always a view."""
    cdef int64_t sh[16]
    cdef int64_t st[16]
    cdef int n = 0, d = 0, i, nspec = 0
    cdef int64_t off = x._offset, size, start, stop, step, idx, length
    cdef bint seen_ellipsis = False
    cdef int nnew = 0, nslice = 0
    for k in key:
        if k is None:
            nnew += 1
        elif k is not Ellipsis:
            nspec += 1
            if isinstance(k, slice):
                nslice += 1
    if nspec > x._ndim:
        raise IndexError(f"too many indices for tensor of dimension {x._ndim} (shape {tuple(x.shape)})")
    # the result keeps every dimension not indexed by an int and adds one per None
    if nnew + nslice + (x._ndim - nspec) > AGC_MAX_DIMS:
        raise IndexError(f"indexing: the result would have {nnew + nslice + x._ndim - nspec} dimensions "
                         f"(tensor of shape {tuple(x.shape)} indexed with {len(key)} indices), more than the "
                         f"{AGC_MAX_DIMS} a tensor can have")
    for k in key:
        if k is None:
            sh[n] = 1
            st[n] = 1
            n += 1
        elif k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            for i in range(x._ndim - nspec):
                sh[n] = x._shape[d]
                st[n] = x._strides[d]
                n += 1
                d += 1
            nspec = x._ndim  # a second Ellipsis expands to nothing
        elif isinstance(k, slice):
            size = x._shape[d]
            start, stop, step = k.indices(size)
            if step <= 0:
                raise ValueError(f"step must be greater than zero, got {step}")
            length = (stop - start + step - 1) // step if stop > start else 0
            sh[n] = length
            st[n] = x._strides[d] * step
            if length > 0:
                off += start * x._strides[d]
            n += 1
            d += 1
        else:
            try:
                idx = k.__index__()
            except (AttributeError, TypeError):
                raise IndexError(f"only integers, slices, None, Ellipsis, integer and bool tensors are valid "
                                 f"indices, got {type(k).__name__}")
            size = x._shape[d]
            if idx < -size or idx >= size:
                raise IndexError(f"index {idx} is out of bounds for dimension {d} with size {size}")
            if idx < 0:
                idx += size
            off += idx * x._strides[d]
            d += 1
    while d < x._ndim:
        sh[n] = x._shape[d]
        st[n] = x._strides[d]
        n += 1
        d += 1
    return make_view(x, n, sh, st, off)
