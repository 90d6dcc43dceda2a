"""Optimizer: the base class of ag.optim's optimizers.

It keeps parameter groups (each a dict of options plus its 'params' list), per-parameter state,
and gives `zero_grad`, `step(closure)`, `add_param_group`, and `state_dict`/`load_state_dict` in
PyTorch's layout::

    {'state': {0: {'step': 3, 'exp_avg': tensor, ...}, 1: {...}},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}]}

Parameters are numbered in group order; state tensors have PyTorch's names, so a state dict moves
between the two libraries (a PyTorch 'step' tensor loads as a number).

The L1 rule. Every optimizer takes `l1=0.0` (per group). When l1 > 0, each update of a parameter
w is followed by the proximal step of the penalty l1 * |w|_1, a soft-threshold

    w <- sign(w) * max(|w| - t, 0)

where t is l1 times the step the optimizer applies to the gradient. For plain SGD that is the
textbook t = lr * l1 (proximal gradient descent: ISTA in full batch). The others scale t the same
way their step scales the gradient at equilibrium, so that for every optimizer the fixed points are
exactly the lasso's (a weight is zero exactly when its loss gradient stays within [-l1, l1]):

    SGD with momentum     t = lr * l1 * (1 - dampening) / (1 - momentum)
    SGD with Nesterov     t = lr * l1 * (1 + momentum * (1 - dampening) / (1 - momentum))
    Adam, AdamW           t = l1 * lr / (1 - beta1^k) / (sqrt(v_hat) + eps)     per coordinate, step k
    RMSprop               t = l1 * lr / (sqrt(v) + eps), divided by (1 - momentum) with momentum
    Adagrad               t = l1 * clr / (sqrt(sum) + eps)                       per coordinate

(A single t = lr * l1 would leave Adam and RMSprop hovering near zero without reaching it and make
Adagrad, whose steps shrink, zero every weight.) l1 > 0 needs momentum < 1.

Which parameters: only those with ndim >= 2 (weight matrices, convolution kernels); biases,
normalisation scales and every other parameter with ndim <= 1 are never thresholded.
ag.nn.utils.l1_penalty and l2_penalty use the same rule. With l1=0 every trajectory equals
PyTorch's.

Each step runs one fused C kernel per parameter (csrc/optim.c): an in-place pass with no
temporaries. A non-contiguous parameter goes through a contiguous copy that is written back.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _core
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _RequiredParameter:
    """Marks an option every group must set (SGD's lr)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _tensor_class():
    return Tensor


class _ParamState:
    """Per-parameter state keyed by tensor identity (tensors compare elementwise, so they are not
    dict keys): `opt.state[p]` gives p's state dict, created empty on first use."""

    __slots__ = ("_items",)

    def __init__(self):
        self._items = {}  # id(p) -> (p, state)

    def __getitem__(self, p):
        entry = self._items.get(id(p))
        if entry is None:
            entry = (p, {})
            self._items[id(p)] = entry
        return entry[1]

    def __setitem__(self, p, value):
        self._items[id(p)] = (p, value)

    def __delitem__(self, p):
        del self._items[id(p)]

    def __contains__(self, p):
        return id(p) in self._items

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return (p for p, _ in self._items.values())

    def get(self, p, default=None):
        entry = self._items.get(id(p))
        return default if entry is None else entry[1]

    def keys(self):
        return [p for p, _ in self._items.values()]

    def values(self):
        return [s for _, s in self._items.values()]

    def items(self):
        return list(self._items.values())

    def __repr__(self):
        return f"<optimizer state for {len(self)} parameters>"


def check_number(name, value, opt_name):
    """value as a float, or a TypeError naming the option."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt_name}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{opt_name}: invalid {name} value: nan")
    return value


def check_nonnegative(group, name, opt_name):
    value = check_number(name, group[name], opt_name)
    if value < 0:
        raise ValueError(f"{opt_name}: invalid {name} value: {group[name]} (expected {name} >= 0)")
    group[name] = value


def check_lr(group, opt_name):
    value = check_number("lr", group["lr"], opt_name)
    if value < 0:
        raise ValueError(f"{opt_name}: invalid learning rate: {group['lr']} (expected lr >= 0)")
    group["lr"] = value


def check_betas(group, opt_name):
    """group['betas'] as a pair of floats in [0, 1), or an error naming the optimizer."""
    betas = group["betas"]
    try:
        betas = tuple(betas)
    except TypeError:
        raise TypeError(f"{opt_name}: betas must be a pair of numbers, got {type(betas).__name__}") from None
    if len(betas) != 2:
        raise ValueError(f"{opt_name}: betas must be a pair (beta1, beta2), got {betas}")
    betas = tuple(check_number(f"beta{i + 1}", b, opt_name) for i, b in enumerate(betas))
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{opt_name}: invalid beta parameter at index {i}: {b} (expected 0 <= beta < 1)")
    group["betas"] = betas


def l1_coefficient(group, p):
    """The L1 coefficient the kernel applies to p: the group's l1 for ndim >= 2, else 0 (the L1 rule)."""
    return group["l1"] if p.ndim >= 2 else 0.0


def check_l1_momentum(group, opt_name):
    if group["l1"] > 0 and group["momentum"] >= 1:
        raise ValueError(f"{opt_name}: l1 > 0 needs momentum < 1 (the L1 threshold scales with "
                         f"1 / (1 - momentum)), got momentum={group['momentum']}")


class Optimizer:
    """Base class: subclasses pass their default options and implement `_check_options(group)` and
    `_step_group(group)`, and name their per-parameter state: `_state_required` (what a non-empty
    state must hold) and `_state_optional` (tensors a step creates when missing)."""

    _state_required = ()
    _state_optional = ()

    # per-parameter state entries kept as Python numbers (PyTorch keeps them as 0-d tensors)
    _scalar_state = ()

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = _ParamState()
        self.param_groups = []
        name = type(self).__name__
        Tensor = _tensor_class()
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got a single {type(params).__name__} of shape "
                            f"{tuple(params.shape)}; pass [tensor] or model.parameters()")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts (parameter "
                            f"groups), but got a dict; pass [dict] for a single group")
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(f"{name}: params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}") from None
        if len(param_groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        defaults_check = {k: v for k, v in defaults.items() if v is not required}
        if "lr" not in defaults_check:
            defaults_check["lr"] = 0.0
        self._check_options(defaults_check)
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing ones take the defaults)."""
        name = type(self).__name__
        Tensor = _tensor_class()
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered collections, "
                            f"but the ordering of tensors in sets will change between runs; use a list")
        else:
            try:
                params = list(params)
            except TypeError:
                raise TypeError(f"{name}: 'params' must be a Tensor or an iterable of Tensors, got "
                                f"{type(params).__name__}") from None
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {tuple(p.shape)}); "
                                 f"optimize the leaf it was computed from, or detach() it")
            if not _core.is_floating_code(p._dtype_code):
                raise TypeError(f"{name}: can only optimize floating point (float32/float64/float16/bfloat16) "
                                f"tensors, got one of dtype "
                                f"{p.dtype} and shape {tuple(p.shape)}")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"{name}: a parameter group contains duplicate parameters; in future this will "
                          f"raise an error", UserWarning, stacklevel=2)
        group = dict(param_group)
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            group.setdefault(key, default)
        self._check_options(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._init_group_state(group)

    def _check_options(self, group):
        raise NotImplementedError

    def _init_group_state(self, group):
        """State created when a group is added (Adagrad's accumulators); none by default."""

    # ---------------------------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g = g.detach()
                        p.grad = g
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient. closure, if given, re-evaluates the
        model with gradients enabled and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            # all or nothing: everything a kernel would reject is checked before any parameter moves
            self._check_step()
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _check_step(self):
        name = type(self).__name__
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if not isinstance(g, _core.TensorBase) or tuple(g.shape) != tuple(p.shape) \
                            or g._dtype_code != p._dtype_code:
                        raise RuntimeError(f"{name}: the gradient of parameter {index} (shape "
                                           f"{tuple(p.shape)}, {p.dtype.name}) is {_describe(g)}; no "
                                           f"parameter was updated")
                    _core.check_write_target(p, f"{name}: parameter {index}")
                    self._check_state(p, self.state.get(p), index)
                index += 1

    def _check_state(self, p, state, index):
        """Raise unless `state` (None or a dict) is a usable state for parameter p (number `index`):
        a non-empty state holds every required entry; its tensors have p's shape and dtype."""
        if not state:
            return
        name = type(self).__name__
        missing = [k for k in self._state_required if k not in state]
        if missing:
            raise ValueError(f"{name}: the state of parameter {index} lacks {', '.join(map(repr, missing))} "
                             f"(it holds {', '.join(map(repr, sorted(state))) or 'nothing'})")
        for key in self._state_required + self._state_optional:
            value = state.get(key)
            if key == "step":
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{name}: state 'step' of parameter {index} must be a number, got "
                                    f"{type(value).__name__}")
            elif (value is not None or key in self._state_required) and not _fits(value, p):
                raise ValueError(f"{name}: state {key!r} of parameter {index} is {_describe(value)}, "
                                 f"expected a contiguous {p.dtype.name} tensor of shape {tuple(p.shape)}")

    def _step_group(self, group):
        raise NotImplementedError

    def _gradients(self, group):
        """(p, d, state) for each parameter of the group that has a gradient, its step counter advanced.
        d is the gradient (negated under maximize) plus weight_decay * p; with the group's
        decoupled_weight_decay, p is scaled by 1 - lr * weight_decay instead and d left alone.
        A parameter's state starts as {'step': 0, **self._first_state(p, group)}."""
        wd = group.get("weight_decay", 0)
        decoupled = group.get("decoupled_weight_decay", False)
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state.update(self._first_state(p, group))
            state["step"] += 1
            d = -grad if group["maximize"] else grad
            if wd != 0:
                if decoupled:
                    p.mul_(1 - group["lr"] * wd)
                else:
                    d = d + wd * p
            yield p, d, state

    def _new_state(self, p, fill=0.0):
        """A contiguous state buffer shaped like p, filled with `fill` (None: left uninitialised)."""
        if fill is None:
            return _core.empty(tuple(p.shape), p._dtype_code)
        return _core.full(tuple(p.shape), fill, p._dtype_code)

    # ---------------------------------------------------------------------------------- state dict
    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{option: value, 'params': [index]}]}.
        State tensors are the optimizer's own (live, like PyTorch's): deep-copy to snapshot."""
        index = {}
        start = 0
        groups = []
        for group in self.param_groups:
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by state_dict (of this or PyTorch's optimizer). State
        tensors are copied, converted to each parameter's dtype, and must have its shape."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}: load_state_dict expects a dict with 'state' and 'param_groups' "
                             f"entries, got {type(state_dict).__name__}"
                             + (f" with keys {sorted(state_dict)}" if isinstance(state_dict, dict) else ""))
        groups = self.param_groups
        saved_groups = list(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}: loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if not isinstance(sg, dict) or "params" not in sg:
                raise ValueError(f"{name}: loaded parameter group {i} is not a dict with a 'params' entry")
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"{name}: loaded state dict contains a parameter group that doesn't match "
                                 f"the size of optimizer's group (group {i}: {len(sg['params'])} saved "
                                 f"parameters, {len(g['params'])} in the optimizer)")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for saved_id, p in zip(sg["params"], g["params"]):
                id_map[int(saved_id)] = p
        new_state = _ParamState()
        for key, value in state_dict["state"].items():
            try:
                k = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: state dict key {key!r} is not a parameter index") from None
            if k not in id_map:
                raise ValueError(f"{name}: state dict has state for parameter {k}, which no parameter "
                                 f"group lists")
            if not isinstance(value, dict):
                raise TypeError(f"{name}: state of parameter {k} must be a dict, got {type(value).__name__}")
            p = id_map[k]
            new_state[p] = {sk: _cast_state(name, k, sk, sv, p, self._scalar_state) for sk, sv in value.items()}
            self._check_state(p, new_state[p], k)
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            ng = {k: v for k, v in sg.items() if k != "params"}
            if "betas" in ng:
                ng["betas"] = tuple(float(b) for b in ng["betas"])
            for key, default in self.defaults.items():
                if default is not required:
                    ng.setdefault(key, default)
            ng["params"] = g["params"]
            self._check_options(ng)
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _fits(value, p):
    """value is a contiguous tensor of p's shape and dtype (what the fused kernels update in place)."""
    return isinstance(value, _core.TensorBase) and tuple(value.shape) == tuple(p.shape) \
        and value._dtype_code == p._dtype_code and value.is_contiguous()


def _describe(value):
    if isinstance(value, _core.TensorBase):
        return f"a {value.dtype.name} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _cast_state(opt_name, index, key, value, p, scalar_keys=()):
    """A loaded state value made fit for parameter p: numbers stay numbers (a tensor 'step' becomes
    an int), tensors are copied to p's dtype as contiguous tensors of p's shape."""
    Tensor = _tensor_class()
    if key == "step":
        if isinstance(value, Tensor) or hasattr(value, "item"):
            value = value.item()
        step = float(value)
        if step != int(step) or step < 0:
            raise ValueError(f"{opt_name}: state 'step' of parameter {index} must be a non-negative "
                             f"integer, got {value}")
        return int(step)
    if key in scalar_keys:
        return float(value.item() if hasattr(value, "item") else value)
    if value is None or isinstance(value, (numbers.Number, str)):
        return value
    if not isinstance(value, Tensor):
        try:
            value = _core.from_buffer(np.ascontiguousarray(value))
        except (TypeError, ValueError, BufferError):
            raise TypeError(f"{opt_name}: state '{key}' of parameter {index} must be a tensor, got "
                            f"{type(value).__name__}") from None
    if tuple(value.shape) != tuple(p.shape):
        raise ValueError(f"{opt_name}: state '{key}' of parameter {index} has shape {tuple(value.shape)}, "
                         f"but the parameter has shape {tuple(p.shape)}")
    value = _core.cast(value, p._dtype_code)
    return _core.clone(value)
