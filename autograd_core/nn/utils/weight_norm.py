"""weight_norm and spectral_norm in PyTorch's hook style (torch.nn.utils.weight_norm /
spectral_norm): the parameter `name` is replaced by new parameters, and a forward pre-hook
recomputes module.<name> from them before every forward.

weight_norm (Salimans and Kingma 2016): weight = g * v / ||v||, the norm taken over every dim but
`dim` (dim=None: over the whole tensor). Parameters <name>_g and <name>_v.

spectral_norm (Miyato et al. 2018): weight = W / sigma(W), sigma the largest singular value of W
reshaped to a matrix (dim first), estimated by power iteration on buffers <name>_u and <name>_v
(n_power_iterations steps per forward in training mode, none in eval mode). Parameter <name>_orig.
"""
from ...autograd.grad_mode import no_grad
from ...ops.creation import randn
from ..module import Module, Parameter

__all__ = ["remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]


def _norm_except_dim(v, dim):
    if dim is None:
        return v.norm()
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(2, dims, True) if dims else v.abs()


class WeightNorm:
    def __init__(self, name, dim):
        self.name = name
        self.dim = dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparameterise module.<name> as g * v / ||v|| (see the module docstring); returns module."""
    if not isinstance(module, Module):
        raise TypeError(f"weight_norm: expected a Module, got {type(module).__name__}")
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter {name!r}")
    if dim is not None and dim < -1:
        dim += weight.ndim
    if dim == -1:
        dim = None
    fn = WeightNorm(name, dim)
    del module._parameters[name]
    with no_grad():
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach().clone()))
        module.register_parameter(name + "_v", Parameter(weight.detach().clone()))
    object.__setattr__(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def _remove(module, name, kind, finish):
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            finish(hook)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{kind.__name__.lower()} of {name!r} not found in {type(module).__name__}")


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: module.<name> becomes a plain parameter with the current value."""
    def finish(hook):
        with no_grad():
            weight = hook.compute_weight(module).detach().clone()
        del module._parameters[name + "_g"]
        del module._parameters[name + "_v"]
        module.__dict__.pop(name, None)
        module.register_parameter(name, Parameter(weight))

    return _remove(module, name, WeightNorm, finish)


def _normalize(x, eps):
    return x / x.norm().clamp(min=eps)


class SpectralNorm:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def matrix(self, weight):
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.matrix(weight)
        if power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(mat.detach().T @ u, self.eps))
                    u.copy_(_normalize(mat.detach() @ v, self.eps))
            if self.n_power_iterations > 0:
                u, v = u.clone(), v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its spectral norm before each forward (see the module docstring);
    dim defaults to 0 (1 for transposed convolutions). Returns module."""
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm: expected a Module, got {type(module).__name__}")
    if n_power_iterations < 0:
        raise ValueError(f"spectral_norm: expected n_power_iterations to be non-negative, but got "
                         f"n_power_iterations={n_power_iterations}")
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"spectral_norm: cannot register two spectral_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter {name!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        mat = fn.matrix(weight)
        h, w = mat.shape
        u = _normalize(randn(h, dtype=weight.dtype), eps)
        v = _normalize(randn(w, dtype=weight.dtype), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: module.<name> becomes a plain parameter with the current normalised value."""
    def finish(hook):
        with no_grad():
            weight = hook.compute_weight(module, False).detach().clone()
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_u"]
        del module._buffers[name + "_v"]
        module.__dict__.pop(name, None)
        module.register_parameter(name, Parameter(weight))

    return _remove(module, name, SpectralNorm, finish)
