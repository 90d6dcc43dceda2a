"""Sparse COO tensors, as far as PyTorch programs for graphs use them (GCN, GAT): build one
(ag.sparse_coo_tensor, Tensor.to_sparse), multiply it with a dense matrix (ag.sparse.mm, ag.spmm,
`sparse @ dense`), and read it back (to_dense, _indices, _values, coalesce).

A SparseCOOTensor holds indices (int64, sparse_dim x nnz), values (nnz, *dense dims) and a size.
It is not a Tensor subclass: elementwise arithmetic on it is not provided (convert with to_dense).
Products are differentiable with respect to the dense operand and to the values (values may
require grad, as attention weights do), written with index_select and index_add: no dense copy of
the sparse matrix is ever made. Gradients to the sparse operand are a dense gradient of the
values, never a sparse gradient tensor.
"""
import numpy as np

from ._core import Size, TensorBase
from .ops._registry import tensor_method
from .ops.creation import tensor, zeros
from .tensor import Tensor

__all__ = ["SparseCOOTensor", "addmm", "mm", "sparse_coo_tensor", "spmm", "sum"]


class SparseCOOTensor:
    """indices (sparse_dim, nnz), values (nnz, *dense_shape), size; see the module docstring."""

    is_sparse = True
    layout = "sparse_coo"

    def __init__(self, indices, values, size, coalesced=False):
        self._indices_t = indices
        self._values_t = values
        self._size = tuple(int(s) for s in size)
        self._coalesced = coalesced

    # -------------------------------------------------------------- metadata
    @property
    def shape(self):
        return Size(self._size)

    def size(self, dim=None):
        return self.shape if dim is None else self._size[dim]

    def dim(self):
        return len(self._size)

    @property
    def ndim(self):
        return len(self._size)

    @property
    def dtype(self):
        return self._values_t.dtype

    @property
    def device(self):
        return self._values_t.device

    @property
    def requires_grad(self):
        return self._values_t.requires_grad

    def requires_grad_(self, requires_grad=True):
        self._values_t.requires_grad_(requires_grad)
        return self

    def sparse_dim(self):
        return self._indices_t.shape[0]

    def dense_dim(self):
        return self._values_t.ndim - 1

    def _nnz(self):
        return self._values_t.shape[0]

    def _indices(self):
        return self._indices_t

    def _values(self):
        return self._values_t

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices_t

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values_t

    def is_coalesced(self):
        return self._coalesced

    # -------------------------------------------------------------- conversions
    def coalesce(self):
        """Indices sorted (row-major) and unique; values of repeated indices summed (differentiably)."""
        if self._coalesced:
            return self
        idx = np.asarray(self._indices_t.detach())
        nnz = idx.shape[1]
        if nnz == 0:
            return SparseCOOTensor(self._indices_t, self._values_t, self._size, True)
        linear = np.ravel_multi_index(tuple(idx), self._size[:idx.shape[0]])
        unique, inverse = np.unique(linear, return_inverse=True)
        new_idx = np.array(np.unravel_index(unique, self._size[:idx.shape[0]]), dtype=np.int64).reshape(idx.shape[0], -1)
        dense_shape = tuple(self._values_t.shape[1:])
        values = zeros(len(unique), *dense_shape, dtype=self.dtype).index_add(0, tensor(inverse.astype(np.int64)),
                                                                              self._values_t)
        return SparseCOOTensor(tensor(new_idx), values, self._size, True)

    def to_dense(self):
        """The dense tensor (repeated indices summed); differentiable with respect to the values."""
        sparse_dims = self.sparse_dim()
        flat_size = int(np.prod(self._size[:sparse_dims], dtype=np.int64))
        dense_shape = tuple(self._values_t.shape[1:])
        idx = np.asarray(self._indices_t.detach())
        linear = np.ravel_multi_index(tuple(idx), self._size[:sparse_dims]) if idx.shape[1] else np.zeros(0, np.int64)
        out = zeros(flat_size, *dense_shape, dtype=self.dtype).index_add(0, tensor(linear.astype(np.int64)),
                                                                         self._values_t)
        return out.reshape(self._size)

    def to_sparse(self):
        return self

    def detach(self):
        return SparseCOOTensor(self._indices_t, self._values_t.detach(), self._size, self._coalesced)

    def t(self):
        if self.sparse_dim() != 2 or self.dense_dim() != 0:
            raise RuntimeError(f"t() expects a 2-D sparse matrix, got size {self._size}")
        return SparseCOOTensor(self._indices_t.flip(0), self._values_t, (self._size[1], self._size[0]))

    def float(self):
        return SparseCOOTensor(self._indices_t, self._values_t.float(), self._size, self._coalesced)

    def double(self):
        return SparseCOOTensor(self._indices_t, self._values_t.double(), self._size, self._coalesced)

    def to(self, *args, **kwargs):
        return SparseCOOTensor(self._indices_t, self._values_t.to(*args, **kwargs), self._size, self._coalesced)

    def cpu(self):
        return self

    # -------------------------------------------------------------- products
    def __matmul__(self, other):
        return mm(self, other)

    def mm(self, other):
        return mm(self, other)

    def __mul__(self, other):
        if isinstance(other, (int, float)) or (isinstance(other, TensorBase) and other.ndim == 0):
            return SparseCOOTensor(self._indices_t, self._values_t * other, self._size, self._coalesced)
        raise TypeError("SparseCOOTensor: only multiplication by a scalar is provided; use to_dense() for the rest")

    __rmul__ = __mul__

    def __repr__(self):
        return (f"tensor(indices={self._indices_t!r},\n       values={self._values_t!r},\n       size={self._size}, "
                f"nnz={self._nnz()}, layout=sparse_coo)")


def sparse_coo_tensor(indices, values, size=None, dtype=None, device=None, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """A sparse COO tensor from indices (sparse_dim x nnz integers) and values (nnz, *dense dims);
    size defaults to the smallest that holds every index."""
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"sparse_coo_tensor: device {device!r} is not available; autograd_core runs on the CPU")
    idx = indices if isinstance(indices, TensorBase) else tensor(np.asarray(indices, dtype=np.int64))
    if idx.is_floating_point() or idx.ndim != 2:
        raise ValueError(f"sparse_coo_tensor: indices must be a 2-D integer tensor (sparse_dim x nnz), got shape "
                         f"{tuple(idx.shape)} and dtype {idx.dtype}")
    idx = idx.long()
    vals = values if isinstance(values, TensorBase) else tensor(values, dtype=dtype)
    if dtype is not None and vals.dtype != dtype:
        vals = vals.to(dtype)
    if vals.ndim == 0 or vals.shape[0] != idx.shape[1]:
        raise ValueError(f"sparse_coo_tensor: values of shape {tuple(vals.shape)} must have one row per index column "
                         f"(nnz = {idx.shape[1]})")
    a = np.asarray(idx.detach())
    if a.size and a.min() < 0:
        raise ValueError("sparse_coo_tensor: found a negative index")
    if size is None:
        size = tuple((a.max(1) + 1).tolist() if a.shape[1] else [0] * a.shape[0]) + tuple(vals.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != idx.shape[0] + vals.ndim - 1:
        raise ValueError(f"sparse_coo_tensor: size {size} has {len(size)} dims, expected sparse_dim + dense_dim = "
                         f"{idx.shape[0]} + {vals.ndim - 1}")
    if a.size and (a.max(1) >= np.array(size[:idx.shape[0]])).any():
        raise ValueError(f"sparse_coo_tensor: an index is out of bounds for size {size}")
    if requires_grad:
        vals.requires_grad_(True)
    return SparseCOOTensor(idx, vals, size, bool(is_coalesced))


def _to_sparse(self, sparse_dim=None):
    """This tensor as a SparseCOOTensor holding its non-zero entries (of the first sparse_dim dims)."""
    sparse_dim = self.ndim if sparse_dim is None else sparse_dim
    a = np.asarray(self.detach())
    lead = a.reshape(a.shape[:sparse_dim] + (-1,)) if sparse_dim < a.ndim else a
    nonzero = lead != 0 if sparse_dim == a.ndim else (lead != 0).any(-1)
    where = np.nonzero(nonzero)
    idx = np.array(where, dtype=np.int64).reshape(sparse_dim, -1)
    flat = np.ravel_multi_index(where, a.shape[:sparse_dim]) if idx.shape[1] else np.zeros(0, np.int64)
    values = self.reshape(-1, *self.shape[sparse_dim:]).index_select(0, tensor(flat.astype(np.int64)))
    return SparseCOOTensor(tensor(idx), values, tuple(self.shape), True)


tensor_method(_to_sparse, name="to_sparse")


def _dense_to_dense(self):
    """A dense tensor is already dense: returns ``self`` itself (the sparse type's ``to_dense``
    converts), so code written for either kind can call it."""
    return self


tensor_method(_dense_to_dense, name="to_dense")
Tensor.is_sparse = property(lambda self: False, doc="False: a dense tensor (see ag.sparse)")


def mm(sparse, dense):
    """sparse (n, k) @ dense (k, m) (or a dense vector): differentiable in dense and in the values."""
    if not isinstance(sparse, SparseCOOTensor):
        if isinstance(sparse, TensorBase):
            return sparse @ dense
        raise TypeError(f"sparse.mm: expected a sparse tensor, got {type(sparse).__name__}")
    if isinstance(dense, SparseCOOTensor):
        dense = dense.to_dense()
    if sparse.sparse_dim() != 2 or sparse.dense_dim() != 0:
        raise ValueError(f"sparse.mm: expected a 2-D sparse matrix, got size {sparse._size}")
    n, k = sparse._size
    vector = dense.ndim == 1
    d = dense.unsqueeze(1) if vector else dense
    if d.ndim != 2 or d.shape[0] != k:
        raise ValueError(f"sparse.mm: shapes {sparse._size} and {tuple(dense.shape)} cannot be multiplied "
                         f"({n}x{k} and {'x'.join(map(str, dense.shape))})")
    rows, cols = sparse._indices_t[0], sparse._indices_t[1]
    values = sparse._values_t
    if values.dtype != d.dtype:
        values = values.to(d.dtype) if d.is_floating_point() else values
        d = d if d.is_floating_point() else d.to(values.dtype)
    picked = d.index_select(0, cols) * values.unsqueeze(1)
    out = zeros(n, d.shape[1], dtype=picked.dtype).index_add(0, rows, picked)
    return out.squeeze(1) if vector else out


def spmm(sparse, dense):
    """sparse @ dense (torch.spmm)."""
    return mm(sparse, dense)


def addmm(input, sparse, dense, *, beta=1, alpha=1):
    """beta * input + alpha * (sparse @ dense)."""
    return input * beta + mm(sparse, dense) * alpha


def sum(input, dim=None):
    """The sum of the stored values (all of them, or over dim, giving a dense tensor)."""
    if not isinstance(input, SparseCOOTensor):
        return input.sum() if dim is None else input.sum(dim)
    if dim is None:
        return input._values_t.sum()
    return input.to_dense().sum(dim)
