"""ag.linalg, as torch.linalg: decompositions, solvers and norms on matrices and batches of
matrices (the last two dims).

The factorisations run in NumPy's LAPACK (float32 and float64 kept); their vector-Jacobian products
are written with Tensor ops (so create_graph=True differentiates them again):

    inv       dA = -X^T G X^T                        (X = A^-1)
    det       dA = G det(A) A^-T                     (singular A: not differentiable here)
    slogdet   dA = G_logabsdet A^-T
    solve     dB = A^-T G,  dA = -dB X^T
    cholesky  dA = sym(L^-T Phi(L^T G) L^-1)         (Phi: lower triangle, half diagonal)
    qr        dA = (G_Q + Q copyltu(M)) R^-T,  M = R G_R^T - G_Q^T Q   (reduced, m >= n)
    eigh      dA = V (diag(G_w) + skew(V^T G_V) / (w_j - w_i)) V^T
    svd       Townsend's formula (reduced SVD; distinct singular values)

As in PyTorch, eigenvectors and singular vectors are defined up to sign, so only losses that do not
depend on that choice have meaningful gradients, and repeated eigen/singular values make those
gradients infinite. Complex matrices are not supported (no complex dtype).
"""
import collections
import math

import numpy as np

from . import _core
from ._core import TensorBase
from .autograd.function import Function
from .ops._registry import tensor_method
from .ops.arrange import cross as _cross
from .ops.creation import from_numpy, tensor
from .ops.shape import diag_embed

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]


_RESULTS = {}


def _return_types(*values, names):
    """A named tuple of values (as torch.return_types: r.Q, r.R, or unpacked)."""
    cls = _RESULTS.get(names)
    if cls is None:
        cls = _RESULTS[names] = collections.namedtuple("_".join(names), names)
    return cls(*values)


class LinAlgError(RuntimeError):
    """A matrix was singular, not positive-definite, or an algorithm did not converge."""


def _float_input(A, op, min_ndim=2, square=True):
    if not isinstance(A, TensorBase):
        raise TypeError(f"linalg.{op}: expected a tensor, got {type(A).__name__}")
    if not A.is_floating_point():
        raise TypeError(f"linalg.{op}: expected a float32 or float64 tensor, got {A.dtype}")
    if A.ndim < min_ndim:
        raise ValueError(f"linalg.{op}: the input tensor A must have at least {min_ndim} dimensions, got shape "
                         f"{tuple(A.shape)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"linalg.{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                         f"{A.shape[-1]} matrices (shape {tuple(A.shape)})")


def _np(t):
    return np.asarray(t.detach())


def _out(a, like):
    # np.array, not ascontiguousarray: the latter turns 0-d results into shape (1,)
    return from_numpy(np.array(a, dtype=np.asarray(like.detach()).dtype, order="C"))


def _lapack(op, fn, *args):
    try:
        return fn(*args)
    except np.linalg.LinAlgError as err:
        raise LinAlgError(f"linalg.{op}: {err} (input shapes {[tuple(np.shape(a)) for a in args]})") from None


def _sym(x):
    return (x + x.mT) * 0.5


# ------------------------------------------------------------------------------ inverse, det, solve
class Inv(Function):
    @staticmethod
    def forward(ctx, A):
        X = _out(_lapack("inv", np.linalg.inv, _np(A)), A)
        ctx.save_for_backward(X)
        return X

    @staticmethod
    def backward(ctx, g):
        (X,) = ctx.saved_tensors
        return -(X.mT @ g @ X.mT)


def inv(A):
    """The inverse of each square matrix; LinAlgError when one is singular."""
    _float_input(A, "inv")
    return Inv.apply(A)


class SlogDet(Function):
    @staticmethod
    def forward(ctx, A):
        sign, logabs = _lapack("slogdet", np.linalg.slogdet, _np(A))
        ctx.save_for_backward(A)
        ctx.mark_non_differentiable_sign = True
        return _out(sign, A), _out(logabs, A)

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (A,) = ctx.saved_tensors
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * inv(A).mT


def slogdet(A):
    """(sign, logabsdet) of each square matrix: det = sign * exp(logabsdet), without overflow."""
    _float_input(A, "slogdet")
    sign, logabs = SlogDet.apply(A)
    return _return_types(sign.detach(), logabs, names=("sign", "logabsdet"))


def det(A):
    """The determinant of each square matrix (differentiable where A is invertible)."""
    _float_input(A, "det")
    sign, logabs = slogdet(A)
    if not A.requires_grad:
        return _out(np.linalg.det(_np(A)), A)
    return sign * logabs.exp()


def logdet(A):
    """log(det(A)): NaN for a negative determinant, -inf for a singular matrix."""
    sign, logabs = slogdet(A)
    nan = _out(np.where(_np(sign) < 0, np.nan, np.where(_np(sign) == 0, -np.inf, 0.0)), A)
    return logabs + nan


class Solve(Function):
    @staticmethod
    def forward(ctx, A, B):
        X = _out(_lapack("solve", np.linalg.solve, _np(A), _np(B)), A)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        gB = solve(A.mT, g)
        gA = -(gB @ X.mT)
        return gA, gB


def solve(A, B, *, left=True):
    """X with A X = B (left=True) or X A = B; B is a matrix (..., n, k) or a vector (..., n)."""
    _float_input(A, "solve")
    if not isinstance(B, TensorBase):
        raise TypeError(f"linalg.solve: expected B to be a tensor, got {type(B).__name__}")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-1]:
        raise ValueError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)} "
                         f"(A is n by n with n = {A.shape[-1]}, B must have n rows)")
    batch = _core.broadcast_shape(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]), "linalg.solve")
    A = A.expand(*batch, *A.shape[-2:])
    Bm = Bm.expand(*batch, *Bm.shape[-2:])
    if Bm._dtype_code != A._dtype_code:
        common = A._dtype_code if A._dtype_code == _core.F64 else Bm._dtype_code
        A, Bm = A.to(common), Bm.to(common)
    X = Solve.apply(A, Bm)
    return X.squeeze(-1) if vector else X


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse: singular values at or below max(atol, rtol * s_max) count as
    zero (default rtol = eps * max(m, n)). Differentiable through the SVD."""
    _float_input(A, "pinv", square=False)
    U, S, Vh = svd(A, full_matrices=False)
    cutoff = _cutoff(S, A, atol, rtol)
    keep = (S > cutoff).to(S.dtype)
    safe = S + (1 - keep)
    s_inv = keep / safe
    return (Vh.mT * s_inv.unsqueeze(-2)) @ U.mT


def _cutoff(S, A, atol, rtol):
    smax = S.detach().amax(-1, keepdim=True) if S.shape[-1] else S.detach().sum(-1, keepdim=True)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(_np(A).dtype).eps * max(A.shape[-2:])
    return (smax * rtol).clamp(min=atol or 0.0)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """The number of singular values above max(atol, rtol * s_max) (default rtol = eps * max(m, n))."""
    _float_input(A, "matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    S = svdvals(A.detach())
    return (S > _cutoff(S, A, atol, rtol)).sum(-1)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X minimising ||A X - B|| as (solution, residuals, rank,
    singular_values). residuals (squared, per column) are given when m > n and A has full rank,
    rank always, singular_values for the 'gelsd' and 'gelss' drivers (else empty), as in
    PyTorch's CPU drivers. The solution is differentiable (through pinv)."""
    _float_input(A, "lstsq", square=False)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise ValueError(f"linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got {driver!r}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-2]:
        raise ValueError(f"linalg.lstsq: A {tuple(A.shape)} and B {tuple(B.shape)} must have the same number of rows")
    eps = np.finfo(_np(A).dtype).eps
    cutoff = rcond if rcond is not None else eps * max(A.shape[-2:])
    pseudo = pinv(A, rtol=cutoff)
    X = pseudo @ Bm
    S = svdvals(A.detach())
    rank = (S > S.amax(-1, keepdim=True) * cutoff).sum(-1) if S.shape[-1] else S.sum(-1).long()
    m, n = A.shape[-2], A.shape[-1]
    full = bool((rank == min(m, n)).all()) if rank.numel() else True
    if m > n and full and driver not in ("gelsy",) and driver is not None or (driver is None and m > n and full):
        residuals = ((A @ X - Bm) ** 2).sum(-2)
    else:
        residuals = tensor(np.zeros((0,), dtype=_np(A).dtype))
    singular_values = S if driver in ("gelsd", "gelss") else tensor(np.zeros((0,), dtype=_np(A).dtype))
    if vector:
        X = X.squeeze(-1)
    return _return_types(X, residuals, rank, singular_values,
                         names=("solution", "residuals", "rank", "singular_values"))


# ------------------------------------------------------------------------------ decompositions
def _phi(x):
    """The lower triangle with the diagonal halved."""
    return x.tril(-1) + diag_embed(x.diagonal(dim1=-2, dim2=-1) * 0.5)


class Cholesky(Function):
    @staticmethod
    def forward(ctx, A):
        L = _out(_lapack("cholesky", np.linalg.cholesky, _np(A)), A)
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, g):
        (L,) = ctx.saved_tensors
        L_inv = inv(L)
        S = L_inv.mT @ _phi(L.mT @ g) @ L_inv
        return _sym(S)


def cholesky(A, *, upper=False):
    """L (lower triangular, positive diagonal) with A = L L^T for symmetric positive-definite A (the
    lower triangle is read); upper=True gives L^T. LinAlgError when A is not positive-definite."""
    _float_input(A, "cholesky")
    L = Cholesky.apply(A)
    return L.mT if upper else L


class QR(Function):
    @staticmethod
    def forward(ctx, A, mode):
        Q, R = _lapack("qr", np.linalg.qr, _np(A), mode)
        Q, R = _out(Q, A), _out(R, A)
        ctx.save_for_backward(Q, R)
        ctx.shape = tuple(A.shape)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = ctx.shape[-2:]
        if m < n:
            raise NotImplementedError("linalg.qr: the derivative is implemented for m >= n only (a tall or square A)")
        M = R @ gR.mT - gQ.mT @ Q
        copyltu = M.tril(-1) + M.tril(-1).mT + diag_embed(M.diagonal(dim1=-2, dim2=-1))
        rhs = gQ + Q @ copyltu
        # (rhs) R^-T: solve R X^T = rhs^T
        return solve(R, rhs.mT).mT, None


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R: mode 'reduced' (Q m by k), 'complete' (Q m by m) or 'r' (Q empty)."""
    _float_input(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: qr received unrecognized mode {mode!r} but expected one of 'reduced' (default), "
                         f"'r', or 'complete'")
    if mode == "r":
        R = _out(np.linalg.qr(_np(A), "r"), A)
        return _return_types(tensor(np.zeros((0,), dtype=_np(A).dtype)), R, names=("Q", "R"))
    if mode == "complete" and A.requires_grad and A.shape[-2] > A.shape[-1]:
        raise NotImplementedError("linalg.qr: the derivative of mode='complete' is not implemented when m > n")
    Q, R = QR.apply(A, mode)
    return _return_types(Q, R, names=("Q", "R"))


def _skew_over_gaps(X, w):
    """X / (w_j - w_i) off the diagonal, 0 on it."""
    gaps = w.unsqueeze(-2) - w.unsqueeze(-1)
    n = w.shape[-1]
    eye = tensor(np.eye(n, dtype=_np(w).dtype))
    return X / (gaps + eye) * (1 - eye)


class Eigh(Function):
    @staticmethod
    def forward(ctx, A, uplo):
        w, V = _lapack("eigh", np.linalg.eigh, _np(A), uplo)
        w, V = _out(w, A), _out(V, A)
        ctx.save_for_backward(w, V)
        return w, V

    @staticmethod
    def backward(ctx, gw, gV):
        w, V = ctx.saved_tensors
        VtgV = V.mT @ gV
        inner = _skew_over_gaps((VtgV - VtgV.mT) * 0.5, w) + diag_embed(gw)
        return V @ inner @ V.mT, None


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices, reading the lower
    (UPLO='L') or upper triangle."""
    _float_input(A, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, V = Eigh.apply(A, UPLO)
    return _return_types(w, V, names=("eigenvalues", "eigenvectors"))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of symmetric matrices."""
    return eigh(A, UPLO).eigenvalues


class SVD(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = _lapack("svd", np.linalg.svd, _np(A), full_matrices)
        U, S, Vh = _out(U, A), _out(S, A), _out(Vh, A)
        ctx.save_for_backward(U, S, Vh)
        ctx.full = full_matrices
        ctx.shape = tuple(A.shape)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = ctx.shape[-2:]
        k = min(m, n)
        if ctx.full and m != n:
            raise NotImplementedError("linalg.svd: the derivative of full_matrices=True is not implemented when "
                                      "m != n; use full_matrices=False")
        V, gV = Vh.mT, gVh.mT
        S2 = S * S
        UtgU = U.mT @ gU
        VtgV = V.mT @ gV
        inner = (_skew_over_gaps(UtgU - UtgU.mT, S2) * S.unsqueeze(-2)
                 + S.unsqueeze(-1) * _skew_over_gaps(VtgV - VtgV.mT, S2)
                 + diag_embed(gS))
        gA = U @ inner @ Vh
        if m > k:
            gA = gA + ((gU - U @ UtgU) / S.unsqueeze(-2)) @ Vh
        if n > k:
            gA = gA + U @ ((gV - V @ VtgV) / S.unsqueeze(-2)).mT
        return gA, None


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. Differentiable for full_matrices=False (and for
    square A)."""
    _float_input(A, "svd", square=False)
    U, S, Vh = SVD.apply(A, bool(full_matrices))
    return _return_types(U, S, Vh, names=("U", "S", "Vh"))


class SVDVals(Function):
    @staticmethod
    def forward(ctx, A):
        U, S, Vh = _lapack("svdvals", np.linalg.svd, _np(A), False)
        U, S, Vh = _out(U, A), _out(S, A), _out(Vh, A)
        ctx.save_for_backward(U, Vh)
        return S

    @staticmethod
    def backward(ctx, g):
        U, Vh = ctx.saved_tensors
        return (U * g.unsqueeze(-2)) @ Vh


def svdvals(A):
    """The singular values, descending; gradient U diag(G) Vh (defined even for repeated values)."""
    _float_input(A, "svdvals", square=False)
    return SVDVals.apply(A)


# ------------------------------------------------------------------------------ norms and products
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over dim (all elements by default); ord inf/-inf: max/min |x|; ord 0:
    the number of non-zeros."""
    if not isinstance(x, TensorBase):
        raise TypeError(f"linalg.vector_norm: expected a tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        raise TypeError(f"linalg.vector_norm: expected a floating point input, got {x.dtype}")
    if isinstance(ord, str):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if ord == 2:
        return x.norm(2, dim, keepdim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim=keepdim) if dim is not None or keepdim else (x != 0).to(x.dtype).sum()
    if ord in (math.inf, -math.inf):
        a = x.abs()
        dims = tuple(range(x.ndim)) if dim is None else dim
        return a.amax(dims, keepdim) if ord > 0 else a.amin(dims, keepdim)
    a = x.abs()
    summed = (a ** ord).sum(dim, keepdim=keepdim) if dim is not None else (a ** ord).sum()
    if keepdim and dim is None:
        summed = summed.reshape((1,) * x.ndim)
    return summed ** (1.0 / ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms over dim (two dims): 'fro', 'nuc' (sum of singular values), 1 / -1 (max / min
    column sum of |A|), inf / -inf (row sums), 2 / -2 (largest / smallest singular value)."""
    if dtype is not None:
        A = A.to(dtype)
    _float_input(A, "matrix_norm", square=False)
    d0, d1 = (d % A.ndim for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return A.norm(2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.movedim((d0, d1), (-2, -1))
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        summed_dim, reduce_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(summed_dim, keepdim=True)
        out = sums.amax(reduce_dim, keepdim=True) if ord > 0 else sums.amin(reduce_dim, keepdim=True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise ValueError(f"linalg.matrix_norm: order {ord!r} not supported (use 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (dim an int, or a 1-d input) or a matrix norm (dim a pair, or a 2-d input);
    ord None with dim None: the 2-norm of all elements."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None and len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: with ord={ord!r} and dim=None, the input must be 1-D or 2-D, got shape "
                     f"{tuple(A.shape)}")


def matrix_power(A, n):
    """A multiplied by itself n times (n < 0: of its inverse; n = 0: the identity)."""
    _float_input(A, "matrix_power")
    if not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        eye = tensor(np.broadcast_to(np.eye(A.shape[-1], dtype=_np(A).dtype), tuple(A.shape)).copy())
        return eye
    base = inv(A) if n < 0 else A
    result = None
    for _ in range(abs(n)):
        result = base if result is None else result @ base
    return result


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be a vector, and the last)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = result @ t
    return result


def matmul(a, b):
    return a @ b


def vecdot(x, y, *, dim=-1):
    """The dot product along dim (broadcasting the others)."""
    return (x * y).sum(dim)


def cross(a, b, *, dim=-1):
    """The cross product of 3-vectors along dim (default the last)."""
    return _cross(a, b, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


# ------------------------------------------------------------------------------ torch.* and Tensor.* names
def _top_level():
    """The torch-level spellings (torch.det, torch.inverse, Tensor.det, ...), attached to Tensor."""
    def inverse(input):
        """The inverse :math:`A^{-1}` of each square matrix in ``input`` (shape ``(*, n, n)``), the
        same as :func:`linalg.inv`; differentiable.

        Example:
            >>> ag.inverse(ag.tensor([[2., 0.], [0., 4.]]))
            tensor([[0.5000, 0.0000],
                    [0.0000, 0.2500]])
        """
        return inv(input)

    def pinverse(input, rcond=1e-15):
        """The Moore-Penrose pseudo-inverse :math:`A^+` of each matrix in ``input`` (shape
        ``(*, m, n)``, result ``(*, n, m)``), computed from the SVD; singular values below
        ``rcond`` times the largest are treated as zero. Same as :func:`linalg.pinv` with
        ``rtol=rcond``.

        Example:
            >>> ag.pinverse(ag.tensor([[1., 0.], [0., 0.]]))
            tensor([[1., 0.],
                    [0., 0.]])
        """
        return pinv(input, rtol=rcond)

    def _cholesky_top(input, upper=False):
        """The Cholesky factor of each symmetric positive-definite matrix in ``input`` (shape
        ``(*, n, n)``): lower triangular :math:`L` with :math:`A = L L^T`, or :math:`L^T` when
        ``upper`` is true. Same as :func:`linalg.cholesky`, with ``upper`` positional as in PyTorch.

        Example:
            >>> ag.cholesky(ag.tensor([[4., 2.], [2., 2.]]))
            tensor([[2., 0.],
                    [1., 1.]])
        """
        return cholesky(input, upper=upper)
    _cholesky_top.__name__ = "cholesky"

    names = {"det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse, "pinverse": pinverse,
             "cholesky": _cholesky_top,
             "matrix_power": matrix_power}
    for name, fn in names.items():
        tensor_method(fn, name=name)
    return names


TOP_LEVEL = _top_level()
