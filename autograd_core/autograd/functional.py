"""ag.autograd.functional, as torch.autograd.functional: Jacobians, Hessians and their products
with vectors for a function of tensors.

    jacobian(f, x)        d f(x) / d x: shape f(x).shape + x.shape (nested tuples for tuples)
    hessian(f, x)         the Jacobian of the gradient of a scalar function
    vjp(f, x, v)          (f(x), v^T J)          one backward pass
    jvp(f, x, v)          (f(x), J v)            two backward passes (the double-vjp trick)
    hvp / vhp(f, x, v)    (f(x), H v) / (f(x), v^T H)

Inputs are taken as new leaves (the caller's tensors are not modified); results are detached
unless create_graph=True, which makes them differentiable. strict=True raises when an output does
not depend on an input (the result would be all zeros). jacobian and hessian take one reverse pass
per output element (vectorize and strategy='forward-mode' are not provided).
"""
from .._core import TensorBase
from ..ops.shape import stack
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x, arg_name, fn_name):
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, TensorBase):
            where = f" at index {i}" if is_tuple else ""
            raise TypeError(f"{fn_name}: the {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                            f"Tensors but the value{where} has type {type(el).__name__}")
    return is_tuple, items


def _prepare_inputs(inputs, create_graph):
    return tuple(x.detach().requires_grad_(True) if not create_graph or not x.requires_grad else
                 x.view_as(x) for x in inputs)


def _float_check(inputs, fn_name):
    for x in inputs:
        if not x.is_floating_point():
            raise TypeError(f"{fn_name}: inputs must be floating point tensors, got {x.dtype}")


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn_name, stage=""):
    needed = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not needed:
        results = (None,) * len(inputs)
    else:
        results = _grad([o for o, _ in needed], inputs, [g for _, g in needed], retain_graph=True,
                        create_graph=create_graph, allow_unused=True)
    out = []
    for i, (r, x) in enumerate(zip(results, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(f"{fn_name}: the output of the user-provided function is independent of input "
                                   f"{i}{stage}. This is not allowed in strict mode.")
            r = x.detach() * 0
        out.append(r)
    return tuple(out)


def _second_grads(g, vs, wrt, like, create_graph, strict, independent_message):
    """The gradients of sum(g_i . v_i) with respect to wrt (the second pass of jvp and of the Hessian
    products): a tuple with, for each of wrt, its gradient, or zeros shaped like `like` where it does
    not depend on it (an error in strict mode)."""
    pairs = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
    if pairs:
        results = _grad([gi for gi, _ in pairs], wrt, [vi for _, vi in pairs], retain_graph=True,
                        create_graph=create_graph, allow_unused=True)
    else:
        results = (None,) * len(wrt)
    out = []
    for i, (r, ref) in enumerate(zip(results, like)):
        if r is None:
            if strict:
                raise RuntimeError(independent_message(i))
            r = ref.detach() * 0
        out.append(r)
    return out


def _finish(values, create_graph):
    return tuple(v if create_graph else v.detach() for v in values)


def _restore(is_tuple, values):
    return values if is_tuple else values[0]


def _check_v(v, like, fn_name):
    if len(v) != len(like):
        raise ValueError(f"{fn_name}: v has {len(v)} tensors, but there are {len(like)}")
    for i, (a, b) in enumerate(zip(v, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"{fn_name}: entry {i} of v has shape {tuple(a.shape)}, expected {tuple(b.shape)}")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product. v may be omitted for a one-element output."""
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        _float_check(xs, "vjp")
        xs = _prepare_inputs(xs, create_graph)
        out_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        if v is None:
            if any(o.numel() != 1 for o in outs):
                raise RuntimeError("vjp: the vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element")
            vs = tuple(o.detach() * 0 + 1 for o in outs)
        else:
            _, vs = _as_tuple(v, "v", "vjp")
            _check_v(vs, outs, "vjp")
        grads = _grads(outs, xs, vs, create_graph, strict, "vjp")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(in_tuple, _finish(grads, create_graph))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the vjp of a vjp."""
    with enable_grad():
        _in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        _float_check(xs, "jvp")
        xs = _prepare_inputs(xs, create_graph)
        if v is None:
            if any(x.numel() != 1 for x in xs):
                raise RuntimeError("jvp: the vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element")
            vs = tuple(x.detach() * 0 + 1 for x in xs)
        else:
            _, vs = _as_tuple(v, "v", "jvp")
            _check_v(vs, xs, "jvp")
        out_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        # u -> u^T J is linear in u; differentiating (u^T J) v with respect to u gives J v
        us = tuple((o.detach() * 0).requires_grad_(True) for o in outs)
        g = _grads(outs, xs, us, True, strict, "jvp")
        jv = _second_grads(g, vs, us, outs, create_graph, strict,
                           lambda i: f"jvp: output {i} of the user-provided function is independent of the input. "
                                     f"This is not allowed in strict mode.")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(out_tuple, _finish(tuple(jv), create_graph))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for one input and one output a tensor of shape
    output.shape + input.shape; otherwise nested tuples [output][input]."""
    if strategy != "reverse-mode" or vectorize:
        raise NotImplementedError("jacobian: only strategy='reverse-mode' without vectorize is provided")
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        _float_check(xs, "jacobian")
        xs = _prepare_inputs(xs, create_graph)
        out_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        rows = []
        for i, out in enumerate(outs):
            flat = out.reshape(-1)
            per_input = [[] for _ in xs]
            for k in range(flat.numel()):
                if out.requires_grad:
                    gs = _grad([flat[k]], xs, None, retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(xs)
                for j, (g, x) in enumerate(zip(gs, xs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"jacobian: output {i} of the user-provided function is independent of "
                                               f"input {j}. This is not allowed in strict mode.")
                        g = x.detach() * 0
                    per_input[j].append(g if create_graph else g.detach())
            blocks = []
            for j, x in enumerate(xs):
                if per_input[j]:
                    block = stack(per_input[j], 0).reshape(*out.shape, *x.shape)
                else:
                    block = (x.detach().reshape(-1)[:0] * 0).reshape(*out.shape, *x.shape)
                blocks.append(block)
            rows.append(tuple(blocks))
    if not out_tuple and not in_tuple:
        return rows[0][0]
    if not out_tuple:
        return rows[0]
    if not in_tuple:
        return tuple(r[0] for r in rows)
    return tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: shape input.shape + input.shape (nested tuples for several
    inputs)."""
    in_tuple, _xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args):
        out = func(*args)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError("hessian: the function given to hessian should return a single Tensor with a single "
                               "element")
        gs = _grads(outs, args, (outs[0].detach() * 0 + 1,), True, strict, "hessian")
        return gs if in_tuple else gs[0]

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function (H is symmetric, so this equals vhp)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    with enable_grad():
        in_tuple, xs = _as_tuple(inputs, "inputs", fn_name)
        _float_check(xs, fn_name)
        xs = _prepare_inputs(xs, create_graph)
        out_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", fn_name)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{fn_name}: the function given to {fn_name} should return a single Tensor with a "
                               f"single element")
        if v is None:
            if any(x.numel() != 1 for x in xs):
                raise RuntimeError(f"{fn_name}: the vector v can only be None if the input to the user-provided "
                                   f"function is a single Tensor with a single element")
            vs = tuple(x.detach() * 0 + 1 for x in xs)
        else:
            _, vs = _as_tuple(v, "v", fn_name)
            _check_v(vs, xs, fn_name)
        g = _grads(outs, xs, (outs[0].detach() * 0 + 1,), True, strict, fn_name)
        hv = _second_grads(g, vs, xs, xs, create_graph, strict,
                           lambda i: f"{fn_name}: the gradient of the output with respect to input {i} is "
                                     f"independent of the input. This is not allowed in strict mode.")
    return outs[0] if create_graph else outs[0].detach(), _restore(in_tuple, _finish(tuple(hv), create_graph))
