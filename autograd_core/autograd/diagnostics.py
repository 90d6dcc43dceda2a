"""Tools for learning and debugging backprop: a per-parameter gradient check of a whole model, and a
trace of every node the backward pass runs through.

    report = ag.autograd.gradcheck_module(model, nn.MSELoss(), x, y)
    print(report)                      # one row per parameter, worst errors, PASS/FAIL

    with ag.autograd.trace_backward() as trace:
        loss.backward()
    print(trace)                       # op, shapes, gradient norm, NaN/vanishing/exploding flags
    ag.viz.draw_graph(loss, trace=trace)
"""

import copy
import math

import numpy as np

from . import engine

__all__ = ["BackwardTrace", "GradcheckReport", "TraceEntry", "gradcheck_module", "trace_backward"]


def _array(t):
    """A float64 NumPy copy of a tensor's values (detached)."""
    return np.array(t.detach().numpy(), dtype=np.float64)


# ------------------------------------------------------------------------------------ gradcheck_module


class GradcheckReport:
    """Result of gradcheck_module: rows (one dict per parameter) and passed (bool).

    Each row: name, shape, checked (elements compared), max_abs_error, max_rel_error, passed.
    `print(report)` shows the table; `bool(report)` is report.passed.
    """

    def __init__(self, rows, eps, atol, rtol):
        self.rows, self.eps, self.atol, self.rtol = rows, eps, atol, rtol
        self.passed = all(row["passed"] for row in rows)

    def __bool__(self):
        return self.passed

    def __str__(self):
        head = f"{'parameter':<28}{'shape':<16}{'checked':>9}{'max abs err':>14}{'max rel err':>14}  result"
        lines = [head, "-" * len(head)]
        for row in self.rows:
            lines.append(
                f"{row['name']:<28}{row['shape']!s:<16}{row['checked']:>9}{row['max_abs_error']:>14.3e}"
                f"{row['max_rel_error']:>14.3e}  {'ok' if row['passed'] else 'FAIL'}"
            )
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"{verdict}: central differences with eps={self.eps:g} in float64; an element passes when "
                     f"|analytic - numeric| <= {self.atol:g} + {self.rtol:g} * |numeric|")
        return "\n".join(lines)

    __repr__ = __str__


def _to_float64(value):
    import autograd_core as ag

    if isinstance(value, ag.Tensor) and value.is_floating_point():
        return value.detach().to(ag.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return ag.from_numpy(value.astype(np.float64))
    if isinstance(value, (tuple, list)):
        return type(value)(_to_float64(v) for v in value)
    return value


def gradcheck_module(model, loss_fn, inputs, targets, eps=1e-6, atol=1e-5, rtol=1e-3, max_elements=256,
                     train_mode=False, seed=0):
    """Compare backprop's gradient of loss_fn(model(inputs), targets) with finite differences.

    Runs on a float64 deep copy of the model (the model itself is untouched), in eval mode unless
    train_mode=True (dropout would make the loss random). For each parameter, up to `max_elements`
    entries (chosen at random with `seed`; all of them if the parameter is smaller) are perturbed by
    +-eps. Returns a GradcheckReport; print it for the table.
    """
    import autograd_core as ag

    try:
        model64 = copy.deepcopy(model)
    except Exception as exc:
        raise TypeError(f"gradcheck_module: could not copy the model ({exc}); it must support copy.deepcopy") from exc
    model64.double()
    model64.train(train_mode)
    inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    inputs64 = tuple(_to_float64(x) for x in inputs)
    targets64 = _to_float64(targets)

    def loss_value():
        with ag.no_grad():
            return float(loss_fn(model64(*inputs64), targets64).item())

    named = [(name, p) for name, p in model64.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("gradcheck_module: the model has no parameters that require grad")
    for _, p in named:
        p.grad = None
    loss = loss_fn(model64(*inputs64), targets64)
    if loss.numel() != 1:
        raise ValueError(f"gradcheck_module: the loss has shape {tuple(loss.shape)}; it must be a single number")
    loss.backward()
    rng = np.random.default_rng(seed)
    rows = []
    for name, p in named:
        analytic = np.zeros(tuple(p.shape)) if p.grad is None else _array(p.grad)
        values = p.detach().numpy()  # shares memory with the parameter: perturb in place
        flat = values.reshape(-1) if values.flags.c_contiguous else None
        if flat is None:
            raise ValueError(f"gradcheck_module: parameter {name} is not contiguous")
        n = flat.size
        picks = np.arange(n) if n <= max_elements else np.sort(rng.choice(n, size=max_elements, replace=False))
        numeric = np.empty(len(picks))
        for k, i in enumerate(picks):
            original = flat[i]
            flat[i] = original + eps
            plus = loss_value()
            flat[i] = original - eps
            minus = loss_value()
            flat[i] = original
            numeric[k] = (plus - minus) / (2 * eps)
        got = analytic.reshape(-1)[picks]
        abs_err = np.abs(got - numeric)
        rel_err = abs_err / np.maximum(np.maximum(np.abs(got), np.abs(numeric)), 1e-12)
        rel_err = np.where(abs_err == 0, 0.0, rel_err)
        ok = bool(np.all(abs_err <= atol + rtol * np.abs(numeric))) and bool(np.all(np.isfinite(got)))
        rows.append({
            "name": name,
            "shape": tuple(p.shape),
            "checked": len(picks),
            "max_abs_error": float(abs_err.max()) if len(picks) else 0.0,
            "max_rel_error": float(rel_err.max()) if len(picks) else 0.0,
            "passed": ok,
        })
    return GradcheckReport(rows, eps, atol, rtol)


# -------------------------------------------------------------------------------------- trace_backward


VANISHING = 1e-7
EXPLODING = 1e3


class TraceEntry:
    """One node run by backward: op name, output shapes, norms of the gradients in and out, flags."""

    __slots__ = ("flags", "grad_norm", "input_grad_norms", "node", "op", "shapes", "step")

    def __init__(self, step, op, shapes, grad_norm, input_grad_norms, flags, node):
        self.step, self.op, self.shapes = step, op, shapes
        self.grad_norm, self.input_grad_norms, self.flags, self.node = grad_norm, input_grad_norms, flags, node

    def __repr__(self):
        return f"TraceEntry({self.step}, {self.op}, grad_norm={self.grad_norm:.3g}, flags={self.flags})"


def _norm_and_flags(grads):
    """L2 norm over all gradient tensors (None ignored) and whether any value is NaN/Inf."""
    total, nonfinite, seen = 0.0, False, False
    for g in grads:
        if g is None or not hasattr(g, "numpy"):
            continue
        a = _array(g)
        seen = True
        if not np.all(np.isfinite(a)):
            nonfinite = True
            continue
        total += float(np.sum(a * a))
    return (math.sqrt(total) if seen else float("nan")), nonfinite


class BackwardTrace:
    """What trace_backward recorded: `entries` in the order the engine ran them."""

    def __init__(self, vanishing=VANISHING, exploding=EXPLODING):
        self.entries = []
        self.vanishing, self.exploding = vanishing, exploding

    def _observe(self, node, grad_outputs, grad_inputs):
        norm, bad_out = _norm_and_flags(grad_outputs)
        input_norms = []
        bad_in = False
        for g in grad_inputs:
            n, bad = _norm_and_flags((g,))
            input_norms.append(n)
            bad_in = bad_in or bad
        flags = []
        if bad_out or bad_in:
            flags.append("nan/inf")
        finite_norms = [v for v in [norm, *input_norms] if math.isfinite(v)]
        if finite_norms and min(finite_norms) < self.vanishing:
            flags.append("vanishing")
        if finite_norms and max(finite_norms) > self.exploding:
            flags.append("exploding")
        shapes = [tuple(m[0]) if m is not None else None for m in getattr(node, "_out_meta", [])]
        op = node.name().lstrip("_") or node.name()
        self.entries.append(TraceEntry(len(self.entries), op, shapes, norm, input_norms, flags, node))

    @property
    def flagged(self):
        """The entries with at least one flag."""
        return [e for e in self.entries if e.flags]

    def by_node(self):
        """{id(node): entry}, used by viz.draw_graph(..., trace=trace)."""
        return {id(e.node): e for e in self.entries}

    def table(self):
        head = f"{'step':>4}  {'op':<24}{'output shape':<20}{'grad norm':>12}{'input grad norms':>28}  flags"
        lines = [head, "-" * len(head)]
        for e in self.entries:
            shapes = ", ".join(str(s) for s in e.shapes)
            inputs = ", ".join("-" if math.isnan(v) else f"{v:.3g}" for v in e.input_grad_norms)
            lines.append(f"{e.step:>4}  {e.op:<24}{shapes:<20}{e.grad_norm:>12.4g}{inputs:>28}  "
                         + ", ".join(e.flags))
        flagged = self.flagged
        if flagged:
            lines.append(f"{len(flagged)} flagged node(s): vanishing < {self.vanishing:g}, exploding > "
                         f"{self.exploding:g}, nan/inf = non-finite values in a gradient")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)


class trace_backward:
    """Context manager recording every node that backward runs while it is open.

    For each node: the op, its output shapes, the norm of the gradient flowing into it, the norms of
    the gradients it passes on, and flags (nan/inf, vanishing < 1e-7, exploding > 1e3).

    >>> x = ag.randn(4, 3, requires_grad=True)
    >>> loss = (x.tanh() ** 2).sum()
    >>> with ag.autograd.trace_backward() as trace:
    ...     loss.backward()
    >>> len(trace) > 0                    # print(trace) shows the table
    True
    """

    def __init__(self, vanishing=VANISHING, exploding=EXPLODING):
        self.trace = BackwardTrace(vanishing, exploding)

    def __enter__(self):
        engine._node_observers.append(self.trace._observe)
        return self.trace

    def __exit__(self, *exc):
        observers = engine._node_observers
        for i in range(len(observers) - 1, -1, -1):
            if observers[i] == self.trace._observe:
                del observers[i]
                break
        return False
