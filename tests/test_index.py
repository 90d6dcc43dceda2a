"""Indexing ops (csrc/index.c, autograd_core/_index.pxi, autograd_core/ops/index.py): forward against
NumPy for every key kind and op on several layouts and dtypes, gradients against finite differences,
__setitem__ semantics, errors, and thread-count independence of the accumulating kernels."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core.ops import index as I  # noqa: F401  (installs the Tensor methods)

gradcheck = ag.autograd.gradcheck
gradgradcheck = ag.autograd.gradgradcheck

DTYPES = [np.float32, np.float64, np.int64]
LAYOUTS = ["contiguous", "transposed", "sliced"]


def make(shape, dtype=np.float64, layout="contiguous", seed=0):
    """A numpy array of `shape` and the tensor holding the same values in the given memory layout."""
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    if layout == "contiguous":
        t = ag.tensor(a)
    elif layout == "transposed":
        t = ag.tensor(np.ascontiguousarray(a.T)).permute(*range(a.ndim - 1, -1, -1))
    else:  # every other element along each dim of a bigger buffer
        big = np.zeros(tuple(2 * s for s in shape), dtype)
        big[tuple(slice(None, None, 2) for _ in shape)] = a
        t = ag.tensor(big)[tuple(slice(None, None, 2) for _ in shape)]
    assert np.array_equal(np.asarray(t), a)
    if layout != "contiguous" and a.ndim > 1 and min(shape) > 1:
        assert not t.is_contiguous()
    return a, t


def check(got, want):
    got = np.asarray(got.detach() if isinstance(got, ag.Tensor) else got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_array_equal(got, want)


X_SHAPE = (4, 5, 6)
_M2 = np.random.default_rng(1).random((5, 6)) > 0.5
_M1 = np.array([True, False, True, True])

# (id, key) pairs where PyTorch and NumPy agree: NumPy's x[key] is the reference
KEYS = [
    ("int", 1),
    ("neg_int", -1),
    ("slice_step", (slice(1, None, 2),)),
    ("ellipsis_int", (Ellipsis, 2)),
    ("none", (None, 1, Ellipsis, None)),
    ("list", [0, 2, -1]),
    ("list_dup", [3, 3, 0]),
    ("array_2d", np.array([[0, 1], [3, 2]])),
    ("slice_list", (slice(None), [1, -2])),
    ("separated", ([0, 1], slice(None), [2, 3])),
    ("broadcast", ([[0], [1]], [1, 2])),
    ("broadcast_3", ([[0], [3]], [[1, 2, 4]], slice(2, 5))),
    ("ellipsis_list", (Ellipsis, [0, 0, 5])),
    ("slice_then_adv", (slice(1, 3), [[0, 1]], [[2], [3]])),
    ("none_between", ([0], None, [1])),
    ("none_after", ([1, 2], None)),
    ("int_adjacent", (1, [0, 2])),
    ("mask_full", "MASK_FULL"),
    ("mask_dim0", _M1),
    ("mask_inner", (slice(None), _M2)),
    ("mask_and_list", (_M1, [0, 1, 2])),
    ("mask_none_true", np.zeros(4, bool)),
    ("empty_list", []),
    ("empty_array", (slice(None), np.zeros(0, np.int64))),
    ("bool_true", True),
    ("bool_false", (False,)),
]


def _resolve(key, a):
    if isinstance(key, str) and key == "MASK_FULL":
        return a > 0
    return key


def _np_key(key):
    if isinstance(key, list) and not key:
        return np.zeros(0, np.int64)
    return key


def _ag_key(key, kind):
    """The same key with its arrays given as lists, numpy arrays or tensors."""
    def conv(k):
        if isinstance(k, np.ndarray) and kind == "tensor":
            return ag.tensor(k)
        if isinstance(k, np.ndarray) and kind == "int32" and k.dtype.kind == "i":
            return ag.tensor(k.astype(np.int32))
        if isinstance(k, list) and kind in ("tensor", "int32") and k:
            return ag.tensor(np.array(k), dtype=ag.int32 if kind == "int32" else None)
        return k

    if isinstance(key, tuple):
        return tuple(conv(k) for k in key)
    return conv(key)


def _getitem_case(key, dtype, layout, kind):
    a, t = make(X_SHAPE, dtype, layout)
    key = _resolve(key, a)
    ak = _ag_key(ag.tensor(key) if isinstance(key, np.ndarray) and key.dtype == bool and kind == "tensor" else key,
                 kind)
    check(t[ak], a[_np_key(key)])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("key_id,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_forward(key_id, key, dtype, layout):
    _getitem_case(key, dtype, layout, "tensor")


@pytest.mark.parametrize("kind", ["list", "int32"])
@pytest.mark.parametrize("key_id,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_key_kinds(key_id, key, kind):
    """The same keys given as Python lists / numpy arrays, or int32 tensors."""
    _getitem_case(key, np.float64, "transposed", kind)


def test_getitem_int_with_separated_advanced_follows_pytorch():
    # PyTorch applies ints first: x[0, :, [1, 2]] == x[0][:, [1, 2]], shape (5, 2); NumPy gives (2, 5)
    a, t = make(X_SHAPE)
    check(t[0, :, [1, 2]], a[0][:, [1, 2]])
    check(t[[1, 2], :, 0], a[:, :, 0][[1, 2]])


def test_getitem_basic_is_view_advanced_is_copy():
    _, t = make(X_SHAPE)
    v = t[1, ::2]
    v[0, 0] = 100.0
    assert t[1, 0, 0].item() == 100.0
    c = t[[1]]
    c[0, 0, 0] = -5.0
    assert t[1, 0, 0].item() == 100.0


def test_getitem_zero_dim_and_index_tensor():
    t = ag.tensor([1.0, 2.0, 3.0])
    check(t[ag.tensor(2)], np.float32(3.0))
    check(ag.tensor(7.0)[None], np.array([7.0], np.float32))
    check(ag.tensor(7.0)[True], np.array([7.0], np.float32))
    check(ag.tensor(7.0)[ag.tensor(False)], np.zeros(0, np.float32))


@pytest.mark.parametrize("key,exc,pattern", [
    (5, IndexError, r"index 5 is out of bounds for dimension 0 with size 4"),
    ((0, 7), IndexError, r"index 7 is out of bounds for dimension 1 with size 5"),
    ([1, 4], IndexError, r"index 4 is out of bounds for dimension 0 with size 4"),
    ((slice(None), [0, -6]), IndexError, r"index -6 is out of bounds for dimension 1 with size 5"),
    ((Ellipsis, np.array([6])), IndexError, r"index 6 is out of bounds for dimension 2 with size 6"),
    (np.zeros(5, bool), IndexError, r"shape of the mask \[5\] at index 0 does not match"),
    ((0, 0, 0, 0), IndexError, r"too many indices"),
    ((Ellipsis, [0], Ellipsis), IndexError, r"single ellipsis"),
    ("float", IndexError, r"must be long, int, byte or bool"),
    ("str", IndexError, r"only integers, slices"),
    (([0, 1], [0, 1, 2]), IndexError, r"could not be broadcast together with shapes \[2\], \[3\]"),
    ([[0], [1, 2]], IndexError, r"regular"),
])
def test_getitem_errors(key, exc, pattern):
    _, t = make(X_SHAPE)
    if isinstance(key, str):
        key = ag.tensor([0.5]) if key == "float" else "a"
    with pytest.raises(exc, match=pattern):
        t[key]


# ---------------------------------------------------------------------------------------- setitem
SET_KEYS = [k for k in KEYS if k[0] not in ("list_dup", "array_2d", "bool_true", "bool_false")]


@pytest.mark.parametrize("value_kind", ["scalar", "tensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("key_id,key", SET_KEYS, ids=[k[0] for k in SET_KEYS])
def test_setitem_forward(key_id, key, dtype, layout, value_kind):
    a, t = make(X_SHAPE, dtype, layout)
    key = _resolve(key, a)
    npkey = _np_key(key)
    rshape = a[npkey].shape
    if value_kind == "scalar":
        value = 3
        av = value
    else:
        # broadcast along the first result dim when there is one
        vshape = (1,) + rshape[1:] if rshape else ()
        av = (np.arange(int(np.prod(vshape))).reshape(vshape) + 100).astype(dtype)
        value = ag.tensor(av)
    want = a.copy()
    want[npkey] = av
    t[key] = value
    check(t, want)


def test_setitem_duplicates_last_wins():
    t = ag.zeros(3)
    t[[0, 0, 2, 0]] = ag.tensor([1.0, 2.0, 3.0, 4.0])
    check(t, np.array([4.0, 0.0, 3.0], np.float32))


def test_setitem_casts_and_strips_leading_ones():
    t = ag.zeros(2, 3, dtype=ag.int64)
    t[0] = ag.tensor([[1.7, 2.2, -3.9]])  # shape (1, 3) into a (3,) slot; float cast to int64
    check(t, np.array([[1, 2, -3], [0, 0, 0]]))
    t[:, [0]] = [[5], [6]]
    check(t, np.array([[5, 2, -3], [6, 0, 0]]))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[[0, 1]] = ag.ones(4)


def test_setitem_views_see_write_and_version_bumps():
    base = ag.zeros(4, 5)
    view = base[1:3]
    v0 = base._version
    base[2, [1, 3]] = 7.0
    assert base._version > v0
    check(view, np.array([[0, 0, 0, 0, 0], [0, 7, 0, 7, 0]], np.float32))
    v1 = base._version
    view[0, base[2] > 0] = -1.0  # mask indexing through a view writes into base
    assert base._version > v1
    check(base[1], np.array([0, -1, 0, -1, 0], np.float32))


def test_setitem_saved_tensor_modified_raises():
    a = ag.randn(3, dtype=ag.float64, requires_grad=True)
    y = a * 1
    z = y.exp()  # saves y's output
    z[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        z.sum().backward()


def test_setitem_leaf_requires_grad_raises():
    a = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        a[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        a[[0, 1]] = ag.ones(2)
    with ag.no_grad():
        a[[0, 2]] = 5.0
    check(a, np.array([5, 0, 5], np.float32))
    assert a.is_leaf and a.requires_grad


def test_setitem_autograd_gradients():
    rng = np.random.default_rng(3)
    a = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    v = ag.tensor(rng.standard_normal((1, 2)), requires_grad=True)
    w = rng.standard_normal((4, 5))
    y = a * 1
    y[[0, 2], 1:3] = v  # v broadcast over the two rows
    assert y.grad_fn is not None and not y.is_leaf
    (y * ag.tensor(w)).sum().backward()
    ga = w.copy()
    ga[[0, 2], 1:3] = 0
    check(a.grad, ga)
    np.testing.assert_allclose(np.asarray(v.grad), w[[0, 2], 1:3].sum(0, keepdims=True))


def test_setitem_into_tensor_without_grad_records_value():
    v = ag.tensor([2.0, 3.0], dtype=ag.float64, requires_grad=True)
    h = ag.zeros(3, 2, dtype=ag.float64)
    h[1] = v * v
    assert h.requires_grad
    h.sum().backward()
    check(v.grad, np.array([4.0, 6.0]))


@pytest.mark.parametrize("key", [(1,), ([0, 2],), (slice(None), [1, 3]), (np.array([[True, False, True, False, True]] * 4),)],
                         ids=["int", "list", "slice_list", "mask"])
def test_setitem_gradcheck(key):
    rng = np.random.default_rng(4)
    a = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    rshape = np.zeros((4, 5))[key].shape
    v = ag.tensor(rng.standard_normal(rshape), requires_grad=True)

    def fn(a, v):
        y = a * 2
        y[key] = v * 3
        return y * y

    assert gradcheck(fn, [a, v])
    assert gradgradcheck(fn, [a, v])


# ---------------------------------------------------------------------------------------- getitem gradients
GRAD_KEYS = [("basic", (1, slice(None, None, 2))), ("list_dup", [3, 3, 0]), ("broadcast", ([[0], [1]], [1, 2])),
             ("separated", ([0, 1], slice(None), [2, 3])), ("mask", "MASK_FULL"), ("int_adv", (0, slice(None), [1, 1]))]


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("key_id,key", GRAD_KEYS, ids=[k[0] for k in GRAD_KEYS])
def test_getitem_gradcheck(key_id, key, layout):
    a, t = make(X_SHAPE, np.float64, layout)
    key = _resolve(key, a)
    t.requires_grad_()
    assert gradcheck(lambda x: x[key], [t])
    assert gradgradcheck(lambda x: x[key] ** 2, [t])


def test_getitem_backward_accumulates_duplicates():
    t = ag.ones(3, requires_grad=True)
    t[[0, 0, 2, 0]].sum().backward()
    check(t.grad, np.array([3.0, 0.0, 1.0], np.float32))


# ---------------------------------------------------------------------------------------- gather / scatter
def _gather_ref(a, dim, idx):
    part = tuple(slice(None) if i == dim % a.ndim else slice(0, s) for i, s in enumerate(idx.shape))
    return np.take_along_axis(a[part], idx, dim)


def _scatter_ref(a, dim, idx, src, add):
    out = a.copy()
    for pos in np.ndindex(*idx.shape):
        d = list(pos)
        d[dim] = idx[pos]
        val = src[pos] if isinstance(src, np.ndarray) else src
        if add:
            out[tuple(d)] += val
        else:
            out[tuple(d)] = val
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_forward(dim, dtype, layout):
    a, t = make(X_SHAPE, dtype, layout)
    rng = np.random.default_rng(5)
    ishape = [3, 4, 5]
    ishape[dim] = 7
    idx = rng.integers(0, X_SHAPE[dim], ishape)
    check(t.gather(dim, ag.tensor(idx)), _gather_ref(a, dim, idx))
    # the index itself non-contiguous
    it = ag.tensor(np.ascontiguousarray(idx.T)).permute(2, 1, 0)
    check(ag.gather(t, dim, it), np.asarray(t.gather(dim, ag.tensor(idx))))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 2])
def test_scatter_and_scatter_add_forward(dim, dtype, layout):
    a, t = make(X_SHAPE, dtype, layout)
    rng = np.random.default_rng(6)
    ishape = [3, 4, 5]
    idx = rng.integers(0, X_SHAPE[dim], ishape)
    src_np = (rng.standard_normal((4, 5, 6)) * 5).astype(dtype)  # bigger than index: only its start is used
    src = ag.tensor(src_np)
    check(t.scatter_add(dim, ag.tensor(idx), src), _scatter_ref(a, dim, idx, src_np, True))
    check(ag.scatter(t, dim, ag.tensor(idx), src), _scatter_ref(a, dim, idx, src_np, False))
    check(t.scatter(dim, ag.tensor(idx), 2), _scatter_ref(a, dim, idx, 2, False))
    check(t, a)  # out-of-place left t alone
    t.scatter_add_(dim, ag.tensor(idx), src)
    check(t, _scatter_ref(a, dim, idx, src_np, True))
    t2 = ag.tensor(a)
    t2.scatter_(dim, ag.tensor(idx), value=-1)
    check(t2, _scatter_ref(a, dim, idx, -1, False))
    check(ag.tensor(a).scatter(dim, ag.tensor(idx), src, reduce="add"), _scatter_ref(a, dim, idx, src_np, True))
    with pytest.raises(ValueError, match="reduce must be None or 'add'"):
        t2.scatter_(dim, ag.tensor(idx), src, reduce="multiply")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_select_and_index_add_forward(dim, dtype, layout):
    a, t = make(X_SHAPE, dtype, layout)
    idx = np.array([1, 0, 1, X_SHAPE[dim] - 1])
    check(t.index_select(dim, ag.tensor(idx)), np.take(a, idx, dim))
    sshape = list(X_SHAPE)
    sshape[dim] = len(idx)
    src_np = np.arange(np.prod(sshape)).reshape(sshape).astype(dtype)
    want = a.copy()
    np.add.at(want, (slice(None),) * dim + (idx,), src_np)
    check(t.index_add(dim, ag.tensor(idx), ag.tensor(src_np)), want)
    want2 = a.copy()
    np.add.at(want2, (slice(None),) * dim + (idx,), 2 * src_np)
    check(ag.index_add(t, dim, ag.tensor(idx), ag.tensor(src_np), alpha=2), want2)
    t.index_add_(dim, ag.tensor(idx), ag.tensor(src_np))
    check(t, want)


def test_index_select_empty_and_zero_dim_index():
    a, t = make((3, 4))
    check(t.index_select(1, ag.tensor(np.zeros(0, np.int64))), a[:, :0])
    check(t.index_select(0, ag.tensor(2)), a[[2]])


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_put_forward(dtype, accumulate):
    a, t = make(X_SHAPE, dtype, "transposed")
    i0, i2 = np.array([0, 3, 0]), np.array([5, 1, 5])
    vals = np.array([1, 2, 3], dtype)[:, None]  # broadcast over dim 1
    want = a.copy()
    if accumulate:
        np.add.at(want, (i0, slice(None), i2), np.broadcast_to(vals, (3, 5)))
    else:
        want[i0, :, i2] = np.broadcast_to(vals, (3, 5))  # duplicates: the last one wins, as in NumPy
    got = t.index_put((ag.tensor(i0), slice(None), ag.tensor(i2)), ag.tensor(vals), accumulate=accumulate)
    check(got, want)
    check(t, a)
    t.index_put_((ag.tensor(i0), slice(None), ag.tensor(i2)), ag.tensor(vals), accumulate)
    check(t, want)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_ops_forward(dtype, layout):
    a, t = make(X_SHAPE, dtype, layout)
    m = np.random.default_rng(7).random((5, 1)) > 0.4  # broadcast over dims 0 and 2
    check(t.masked_fill(ag.tensor(m), 9), np.where(m, dtype(9), a))
    check(ag.masked_select(t, ag.tensor(m)), a[np.broadcast_to(m, X_SHAPE)])
    big = np.random.default_rng(8).random((2, 4, 5, 6)) > 0.5  # the mask broadcasts x
    check(t.masked_fill(ag.tensor(big), -1), np.where(big, dtype(-1), a))
    check(t.masked_select(ag.tensor(big)), np.broadcast_to(a, big.shape)[big])


def test_masked_fill_keeps_dtype_and_accepts_tensor_value():
    t = ag.arange(5)
    out = t.masked_fill(ag.tensor([True, False, False, False, True]), 2.7)
    assert out.dtype == ag.int64
    check(out, np.array([2, 1, 2, 3, 2]))
    f = ag.zeros(3).masked_fill(ag.tensor([False, True, False]), ag.tensor(4.0, dtype=ag.float64))
    check(f, np.array([0, 4, 0], np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_along_dim_and_nonzero(dtype):
    a, t = make((3, 4), dtype, "transposed")
    idx = np.argsort(a, axis=1)
    check(ag.take_along_dim(t, ag.tensor(idx), 1), np.take_along_axis(a, idx, 1))
    check(t.take_along_dim(ag.tensor(idx[:1]), dim=1), np.take_along_axis(a, np.broadcast_to(idx[:1], (3, 4)), 1))
    check(ag.take_along_dim(t, ag.tensor([0, 11, 5])), a.reshape(-1)[[0, 11, 5]])
    x = a * (a > 0)
    check(ag.nonzero(ag.tensor(x)), np.argwhere(x))
    check(ag.tensor(x).T.nonzero(), np.argwhere(x.T))
    for got, want in zip(ag.nonzero(ag.tensor(x), as_tuple=True), np.nonzero(x)):
        check(got, want)
    check(ag.nonzero(ag.zeros(0, 3)), np.zeros((0, 2), np.int64))
    check(ag.argwhere(ag.tensor(np.array([0.0, np.nan, -0.0, 2.0]))), np.array([[1], [3]]))


def test_bool_and_int32_data():
    m = np.array([[True, False], [False, True]])
    t = ag.tensor(m)
    check(t[[1, 0]], m[[1, 0]])
    check(t.gather(1, ag.tensor([[1], [0]])), np.array([[False], [False]]))
    u = ag.tensor(np.arange(6, dtype=np.int32))
    check(u[[5, 0]], np.array([5, 0], np.int32))
    check(u.scatter_add(0, ag.tensor([0, 0]), ag.tensor(np.array([10, 20], np.int32))),
          np.array([30, 1, 2, 3, 4, 5], np.int32))


# ---------------------------------------------------------------------------------------- op gradients
def _rt(shape, seed):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_gather_gradcheck():
    x = _rt((3, 4, 5), 10)
    idx = ag.tensor(np.random.default_rng(11).integers(0, 4, (3, 6, 2)))
    assert gradcheck(lambda x: ag.gather(x, 1, idx), [x])
    assert gradgradcheck(lambda x: ag.gather(x, 1, idx) ** 2, [x])


def test_scatter_add_gradcheck():
    x, src = _rt((3, 4), 12), _rt((5, 4), 13)
    idx = ag.tensor(np.random.default_rng(14).integers(0, 3, (5, 3)))  # duplicates, smaller than src
    assert gradcheck(lambda x, s: ag.scatter_add(x, 0, idx, s), [x, src])
    assert gradgradcheck(lambda x, s: ag.scatter_add(x * x, 0, idx, s * s), [x, src])

    def inplace(x, s):
        y = x * 1
        y.scatter_add_(0, idx, s)
        return y

    assert gradcheck(inplace, [x, src])


def test_scatter_gradcheck():
    x, src = _rt((3, 4), 15), _rt((2, 4), 16)
    idx = ag.tensor(np.array([[0, 2, 1, 0], [1, 0, 2, 2]]))  # unique per column: differentiable
    assert gradcheck(lambda x, s: ag.scatter(x, 0, idx, s), [x, src])
    assert gradcheck(lambda x: ag.scatter(x, 0, idx, 1.5), [x])

    def inplace(x, s):
        y = x * 1
        y.scatter_(0, idx, s)
        return y

    assert gradcheck(inplace, [x, src])


def test_zero_dim_index_on_a_1d_input_is_one_element():
    """As in PyTorch: a 0-d index (and a 0-d src) on a 1-d input stand for one element."""
    assert ag.zeros(5).scatter_(0, ag.tensor(3), value=1).tolist() == [0, 0, 0, 1, 0]
    assert ag.zeros(5).scatter_(-1, ag.tensor(1), ag.tensor(2.5)).tolist() == [0, 2.5, 0, 0, 0]
    assert ag.zeros(5).scatter(0, ag.tensor(4), ag.tensor([7.0, 8.0])).tolist() == [0, 0, 0, 0, 7]
    assert ag.ones(3).scatter_add(0, ag.tensor(0), ag.tensor(2.0)).tolist() == [3, 1, 1]
    assert ag.zeros(3, dtype=ag.int64).scatter_add_(0, ag.tensor(2), ag.tensor([5])).tolist() == [0, 0, 5]
    assert ag.zeros(4).scatter_(0, ag.tensor([2]), ag.tensor(6.0)).tolist() == [0, 0, 6, 0]
    g = ag.tensor([1.0, 2.0, 3.0]).gather(0, ag.tensor(1))
    assert g.shape == () and g.item() == 2.0
    x, s = _rt((4,), 30), _rt((), 31)
    assert gradcheck(lambda x, s: ag.scatter(x, 0, ag.tensor(2), s), [x, s])
    assert gradcheck(lambda x, s: ag.scatter_add(x, 0, ag.tensor(1), s), [x, s])
    assert gradcheck(lambda x: x.gather(0, ag.tensor(3)), [x])
    with pytest.raises(IndexError, match="out of bounds"):
        ag.zeros(5).scatter_(0, ag.tensor(7), value=1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ag.zeros(2, 3).scatter_(0, ag.tensor(1), value=1.0)


def test_index_select_and_index_add_gradcheck():
    x, src = _rt((4, 3), 17), _rt((4, 5), 18)
    idx = ag.tensor([2, 0, 2])
    assert gradcheck(lambda x: ag.index_select(x, 0, idx), [x])
    assert gradgradcheck(lambda x: ag.index_select(x, 1, idx) ** 2, [x])
    idx5 = ag.tensor([1, 1, 0, 2, 1])
    assert gradcheck(lambda x, s: ag.index_add(x, 1, idx5, s, alpha=0.5), [x, src])
    assert gradgradcheck(lambda x, s: ag.index_add(x, 1, idx5, s * s), [x, src])


def test_index_put_gradcheck():
    x, v = _rt((4, 3), 19), _rt((3,), 20)
    idx = (ag.tensor([0, 3, 0]),)
    assert gradcheck(lambda x, v: ag.index_put(x, idx, v, accumulate=True), [x, v])
    uniq = (ag.tensor([0, 3, 1]),)
    assert gradcheck(lambda x, v: ag.index_put(x, uniq, v), [x, v])
    assert gradgradcheck(lambda x, v: ag.index_put(x * x, idx, v * v, accumulate=True), [x, v])


def test_masked_gradcheck():
    x = _rt((3, 4), 21)
    val = ag.tensor(0.7, dtype=ag.float64, requires_grad=True)
    m = ag.tensor(np.random.default_rng(22).random((2, 1, 4)) > 0.5)  # broadcasts x
    assert gradcheck(lambda x, v: ag.masked_fill(x, m, v), [x, val])
    assert gradgradcheck(lambda x, v: ag.masked_fill(x * x, m, v * v), [x, val])
    assert gradcheck(lambda x: ag.masked_select(x, m), [x])
    assert gradcheck(lambda x: ag.take_along_dim(x, ag.tensor([[2, 0, 0, 1]]), 0), [x])


# ---------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,exc,pattern", [
    (lambda t: t.gather(1, ag.zeros(4, 5, 6)), TypeError, r"gather\(\): expected index of dtype int64, got float32"),
    (lambda t: t.gather(1, ag.zeros(5, 1, 1, dtype=ag.int64)), RuntimeError,
     r"gather\(\): size of index \(5, 1, 1\) must not exceed the size of input \(4, 5, 6\) at dimension 0"),
    (lambda t: t.gather(1, ag.zeros(4, 5, dtype=ag.int64)), RuntimeError, r"same number of dimensions"),
    (lambda t: t.gather(1, ag.full((1, 1, 1), 5, dtype=ag.int64)), IndexError,
     r"gather: index 5 is out of bounds for dimension 1 with size 5"),
    (lambda t: t.gather(1, ag.full((1, 1, 1), -1, dtype=ag.int64)), IndexError, r"index -1 is out of bounds"),
    (lambda t: t.gather(3, ag.zeros(1, 1, 1, dtype=ag.int64)), IndexError, r"dimension out of range"),
    (lambda t: t.scatter_add(0, ag.zeros(1, 1, 1, dtype=ag.int64), ag.zeros(1, 1, 1, dtype=ag.int64)),
     RuntimeError, r"self.dtype to be equal to src.dtype"),
    (lambda t: t.scatter(0, ag.full((2, 1, 1), 4, dtype=ag.int64), 1.0), IndexError,
     r"index 4 is out of bounds for dimension 0 with size 4"),
    (lambda t: t.scatter_add(0, ag.zeros(2, 1, 1, dtype=ag.int64), ag.zeros(1, 1, 1)), RuntimeError,
     r"must not exceed the size of src"),
    (lambda t: t.index_select(0, ag.zeros(2, 2, dtype=ag.int64)), IndexError, r"index must be 0-D or 1-D"),
    (lambda t: t.index_select(2, ag.tensor([6])), IndexError, r"index 6 is out of bounds for dimension 2"),
    (lambda t: t.index_add(0, ag.tensor([0]), ag.zeros(2, 5, 6)), RuntimeError, r"source of shape \(2, 5, 6\)"),
    (lambda t: t.masked_fill(ag.zeros(4, 5, 6), 1.0), TypeError, r"masked_fill: only boolean masks"),
    (lambda t: t.masked_fill(ag.zeros(3, 1, 1, dtype=ag.bool), 1.0), RuntimeError, r"cannot be broadcast"),
    (lambda t: t.masked_fill(ag.zeros(6, dtype=ag.bool), ag.zeros(2)), RuntimeError, r"0-dimensional value"),
    (lambda t: t.index_put((ag.tensor([0, 1]),), ag.ones(3)), RuntimeError, r"shape mismatch"),
    (lambda t: t.expand(2, 4, 5, 6).index_put_((ag.tensor([0]),), ag.tensor(1.0)), RuntimeError,
     r"more than one element of the written-to tensor"),
    (lambda t: ag.take_along_dim(t, ag.zeros(2, 2, dtype=ag.int64), 0), RuntimeError, r"same number of dimensions"),
])
def test_op_errors(call, exc, pattern):
    _, t = make(X_SHAPE, np.float32)
    with pytest.raises(exc, match=pattern):
        call(t)


# ---------------------------------------------------------------------------------------- threads
# (the `threads` fixture comes from tests/conftest.py)
def test_accumulation_independent_of_thread_count(threads):
    rng = np.random.default_rng(23)
    src = ag.tensor(rng.standard_normal((400, 300)).astype(np.float32))  # above the threading threshold
    idx0 = ag.tensor(rng.integers(0, 7, (400, 300)))
    idx1 = ag.tensor(rng.integers(0, 9, (400, 300)))
    rows = ag.tensor(rng.integers(0, 50, 400))
    results = []
    for n in (1, 2):
        ag.set_num_threads(n)
        results.append([ag.zeros(7, 300).scatter_add(0, idx0, src), ag.zeros(400, 9).scatter_add(1, idx1, src),
                        ag.zeros(50, 300).index_add(0, rows, src),
                        ag.zeros(50, 300).index_put((rows,), src, accumulate=True),
                        ag.zeros(50, 300).index_put((rows,), src)])
    for a, b in zip(*results):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    want = np.zeros((7, 300))
    np.add.at(want, (np.asarray(idx0), np.arange(300)[None, :]), np.asarray(src).astype(np.float64))
    np.testing.assert_allclose(np.asarray(results[0][0]), want, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------- PyTorch cross-check
def test_getitem_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    a, t = make(X_SHAPE)
    keys = [(0, slice(None), [1, 2]), ([[0], [2]], 1, [3, 4]), (slice(None), 0, [1, 1]), ([0], None, [1]),
            (1, [0, 2], slice(None)), (Ellipsis, [0, 1], 2), (a[:, 0, 0] > 0, 2)]
    ta = torch.from_numpy(a)
    for key in keys:
        tk = tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k for k in key)
        check(t[key], ta[tk].numpy())


def test_mask_fast_path_strided_mask_and_trailing_dims():
    a, t = make(X_SHAPE, np.float32, "sliced")
    m = np.random.default_rng(24).random((6, 5)) > 0.3
    mt = ag.tensor(m).T  # a non-contiguous (5, 6) mask over the trailing dims of t[1]
    check(t[1][mt], a[1][m.T])
    m0 = np.random.default_rng(25).random((4, 5)) > 0.5
    check(t[ag.tensor(m0)], a[m0])  # leading (4, 5) mask: rows of 6 kept
    check(t[ag.zeros(4, 5, dtype=ag.bool)], a[np.zeros((4, 5), bool)])


def test_setitem_through_view_records_on_base():
    rng = np.random.default_rng(26)
    a = ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    v = ag.tensor(2.5, dtype=ag.float64, requires_grad=True)
    w = rng.standard_normal((3, 4))
    y = a * 1
    y[0][1] = v  # chained: the write goes through the view y[0]
    (y * ag.tensor(w)).sum().backward()
    ga = w.copy()
    ga[0, 1] = 0
    check(a.grad, ga)
    np.testing.assert_allclose(v.grad.item(), w[0, 1])

    h = ag.zeros(3, 2, dtype=ag.float64)
    h.T[1][[0, 2]] = v * v  # a view of a tensor that needs no grad
    assert h.requires_grad
    h.sum().backward()
    np.testing.assert_allclose(v.grad.item(), w[0, 1] + 2 * 2 * 2.5)
    check(h, np.array([[0, 6.25], [0, 0], [0, 6.25]]))


def test_setitem_view_of_leaf_raises():
    a = ag.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0][1] = 5.0


def test_setitem_through_view_gradcheck():
    x, v = _rt((3, 4), 27), _rt((2,), 28)

    def fn(x, v):
        y = x * 2
        row = y.T[1]
        row[[0, 2]] = v * 3
        return y * y + row.sum()

    assert gradcheck(fn, [x, v])
    assert gradgradcheck(fn, [x, v])


# ---------------------------------------------------------------------------------------- property tests


@st.composite
def _adv_case(draw):
    """A random array (any of the layouts), and a key of slices and 1-2 broadcastable int arrays."""
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    layout = draw(st.sampled_from(LAYOUTS))
    dims = sorted(draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=min(2, nd), unique=True)))
    bshape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=2)))
    key, seed = [], draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    for d in range(nd):
        if d in dims:
            key.append(rng.integers(-shape[d], shape[d], bshape))
        else:
            start = draw(st.integers(0, shape[d] - 1))
            key.append(slice(start, None, draw(st.integers(1, 2))))
    return shape, layout, tuple(key), seed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_adv_case())
def test_advanced_index_property(case):
    shape, layout, key, seed = case
    a, t = make(shape, np.float64, layout, seed)
    tkey = tuple(ag.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
    check(t[tkey], a[key])
    # the put direction: accumulate into a copy, against np.add.at
    v = np.arange(a[key].size, dtype=np.float64).reshape(a[key].shape)
    want = a.copy()
    np.add.at(want, key, v)
    got = t.index_put(tkey, ag.tensor(v), accumulate=True)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_fill_copy_take_forward(dim, dtype):
    a, t = make(X_SHAPE, dtype, "transposed")
    idx = np.array([2, 0])
    sl = (slice(None),) * (dim % 3) + (idx,)
    want = a.copy()
    want[sl] = 7
    check(t.index_fill(dim, ag.tensor(idx), 7), want)
    sshape = list(X_SHAPE)
    sshape[dim] = 2
    src = np.arange(np.prod(sshape)).reshape(sshape).astype(dtype)
    want = a.copy()
    want[sl] = src
    check(ag.index_copy(t, dim, ag.tensor(idx), ag.tensor(src)), want)
    check(t, a)
    t.index_copy_(dim, ag.tensor(idx), ag.tensor(src))
    t.index_fill_(dim, ag.tensor([1]), -2)
    want[(slice(None),) * (dim % 3) + ([1],)] = -2
    check(t, want)
    check(ag.take(t, ag.tensor([[0, -1], [17, 5]])), want.reshape(-1)[[[0, -1], [17, 5]]])


def test_index_fill_copy_take_gradcheck():
    x, s = _rt((3, 4), 29), _rt((3, 2), 30)
    val = ag.tensor(0.3, dtype=ag.float64, requires_grad=True)
    idx = ag.tensor([3, 1])
    assert gradcheck(lambda x, v: ag.index_fill(x, 1, idx, v), [x, val])
    assert gradcheck(lambda x, s: ag.index_copy(x, 1, idx, s), [x, s])
    assert gradcheck(lambda x: ag.take(x, ag.tensor([[0, -1], [5, 5]])), [x])
    with pytest.raises(RuntimeError, match=r"index_copy: source of shape \(3, 3\)"):
        ag.index_copy(x, 1, idx, ag.zeros(3, 3, dtype=ag.float64))
    with pytest.raises(IndexError, match=r"index_fill: index 4 is out of bounds for dimension 1 with size 4"):
        ag.index_fill(x, 1, ag.tensor([4]), 0.0)


def test_index_modified_in_place_before_backward_raises():
    x = ag.randn(5, requires_grad=True)
    idx = ag.tensor([0, 2])
    y = x[idx]
    idx[0] = 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
