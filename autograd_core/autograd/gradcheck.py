"""Finite-difference gradient checks in float64: gradcheck (first derivatives) and gradgradcheck."""
import warnings

import numpy as np

from .._core import TensorBase
from ..ops.creation import randn, zeros_like
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _diff_inputs(inputs):
    return [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]


def _numerical_jacobian(fn, inputs, k, outputs_np, keep, eps):
    """Central differences: d(the outputs numbered `keep` among fn's tensor outputs, flattened)/
    d(inputs[k]) as a (n_in, n_out) array."""
    x = inputs[k]
    xa = np.asarray(x.detach())
    n_out = sum(o.size for o in outputs_np)
    jac = np.zeros((xa.size, n_out))
    flat_idx = list(np.ndindex(xa.shape)) if xa.ndim else [()]
    for j, idx in enumerate(flat_idx):
        orig = xa[idx].copy()
        with no_grad():
            xa[idx] = orig + eps
            plus = [np.asarray(o.detach(), dtype=np.float64).ravel().copy() for o in _kept(fn(*inputs), keep)]
            xa[idx] = orig - eps
            minus = [np.asarray(o.detach(), dtype=np.float64).ravel().copy() for o in _kept(fn(*inputs), keep)]
            xa[idx] = orig
        jac[j] = (np.concatenate(plus) - np.concatenate(minus)) / (2 * eps) if n_out else 0
    return jac


def _kept(result, keep):
    """The tensor outputs numbered `keep` (those that required grad in the first call: one that does
    not, such as a zero gradient in gradgradcheck, has no Jacobian; under no_grad none requires grad)."""
    tensors = [o for o in _as_tuple(result) if isinstance(o, TensorBase)]
    return [tensors[i] for i in keep]


def _analytical_jacobian(outputs, inputs, diff_idx):
    """Rows of the Jacobian by one backward per output element."""
    n_out = sum(o.numel() for o in outputs)
    jacs = [np.zeros((inputs[k].numel(), n_out)) for k in diff_idx]
    col = 0
    for o in outputs:
        for j in range(o.numel()):
            go = zeros_like(o)
            np.asarray(go).reshape(-1)[j] = 1
            gs = _grad([o], [inputs[k] for k in diff_idx], [go], retain_graph=True, allow_unused=True)
            for m, g in enumerate(gs):
                if g is not None:
                    jacs[m][:, col] = np.asarray(g.detach(), dtype=np.float64).ravel()
            col += 1
    return jacs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0):
    """Compare backward's gradients with central finite differences for every input that requires
    grad. Inputs should be float64. Returns True, or raises naming the worst element."""
    inputs = _as_tuple(inputs) if not isinstance(inputs, list) else tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    if not diff_idx:
        raise ValueError("gradcheck: at least one input tensor must require grad")
    for k in diff_idx:
        if inputs[k].dtype.name != "float64":
            warnings.warn(f"gradcheck: input {k} is {inputs[k].dtype.name}, not float64; the check may fail "
                          "from rounding alone", stacklevel=2)
        if not inputs[k].is_contiguous() and inputs[k]._base is not None:
            pass
    tensors = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, TensorBase)]
    keep = [i for i, o in enumerate(tensors) if o.requires_grad]
    outputs = [tensors[i] for i in keep]
    if not outputs:
        raise GradcheckError("gradcheck: the function returned no output that requires grad")
    outputs_np = [np.asarray(o.detach()) for o in outputs]
    analytical = _analytical_jacobian(outputs, inputs, diff_idx)
    for m, k in enumerate(diff_idx):
        numerical = _numerical_jacobian(fn, inputs, k, outputs_np, keep, eps)
        a = analytical[m]
        diff = np.abs(a - numerical)
        tol = atol + rtol * np.abs(numerical)
        bad = diff > tol
        if bad.any() or not np.isfinite(a).all():
            worst = np.unravel_index(np.argmax(np.where(np.isfinite(diff), diff - tol, np.inf)), diff.shape)
            in_idx = np.unravel_index(worst[0], tuple(inputs[k].shape)) if inputs[k].ndim else ()
            msg = (f"gradcheck: Jacobian mismatch for input {k} (shape {tuple(inputs[k].shape)}) at input element "
                   f"{tuple(int(i) for i in in_idx)}, output element {int(worst[1])}: analytical "
                   f"{a[worst]:.8g} vs numerical {numerical[worst]:.8g} (abs err {diff[worst]:.3g}, "
                   f"{int(bad.sum())} of {bad.size} entries out of tolerance atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the function inputs -> gradients of fn (built with create_graph=True), with
    random grad_outputs: checks second derivatives."""
    inputs = _as_tuple(inputs) if not isinstance(inputs, list) else tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, TensorBase) and o.requires_grad]
    if grad_outputs is None:
        grad_outputs = [randn(o.shape, dtype=o.dtype) for o in outputs]
    grad_outputs = [g.detach().requires_grad_() for g in _as_tuple(tuple(grad_outputs))]
    n_in = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():  # the finite differences call this under no_grad; it must still build a graph
            outs = [o for o in _as_tuple(fn(*ins)) if isinstance(o, TensorBase) and o.requires_grad]
            gs = _grad(outs, [ins[k] for k in diff_idx], list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
