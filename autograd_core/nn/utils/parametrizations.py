"""nn.utils.parametrizations, as PyTorch's: weight_norm and spectral_norm written as
parametrizations (see parametrize.py), with PyTorch's state_dict keys:
parametrizations.<name>.original0 / original1 (g and v) for weight_norm, and
parametrizations.<name>.original plus parametrizations.<name>.0._u / _v for spectral_norm.
(weight_norm.py has the older hook-style functions of the same names in nn.utils.)"""
from ...autograd.grad_mode import no_grad
from ...ops.creation import randn
from ..module import Module
from . import parametrize
from .weight_norm import _norm_except_dim, _normalize

__all__ = ["spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def _dim(self, ndim):
        return None if self.dim == -1 else self.dim % ndim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self._dim(weight_v.ndim)))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self._dim(weight.ndim)), weight


def weight_norm(module, name="weight", dim=0):
    """module.<name> = g * v / ||v|| as a parametrization; returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        self.n_power_iterations = n_power_iterations
        if ndim > 1:
            with no_grad():
                mat = self._matrix(weight)
                h, w = mat.shape
                self.register_buffer("_u", _normalize(randn(h, dtype=weight.dtype), eps))
                self.register_buffer("_v", _normalize(randn(w, dtype=weight.dtype), eps))
                self._power_method(mat, 15)  # start from a good estimate, as PyTorch does

    def _matrix(self, weight):
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, mat, iterations):
        with no_grad():
            for _ in range(iterations):
                self._u.copy_(_normalize(mat @ self._v, self.eps))
                self._v.copy_(_normalize(mat.T @ self._u, self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat.detach(), self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """module.<name> divided by its largest singular value (power iteration in training mode) as a
    parametrization; dim defaults to 0 (1 for transposed convolutions). Returns module."""
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
