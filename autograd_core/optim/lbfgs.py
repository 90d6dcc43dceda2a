"""L-BFGS, as PyTorch's optim.LBFGS: full-batch quasi-Newton steps driven by a closure that
re-evaluates the loss.

One `step(closure)` runs up to max_iter iterations. Each builds the search direction with the
two-loop recursion over the last history_size curvature pairs (s = step taken, y = change of
gradient; a pair is kept only when y.s > 1e-10, and H0 = y.s / y.y scales the initial inverse
Hessian). The step length is lr (the very first one is scaled by min(1, 1 / |g|_1)), or, with
line_search_fn='strong_wolfe', the result of a line search satisfying the strong Wolfe conditions
(c1 = 1e-4, c2 = 0.9, at most 25 evaluations, cubic interpolation when bracketing and zooming, as
in Nocedal and Wright, algorithms 3.5-3.6). Iteration stops early when the gradient's largest
entry is <= tolerance_grad, when the step or the loss change falls below tolerance_change, or
after max_eval closure evaluations (default max_iter * 5 / 4).

All parameters form one flat vector (so one parameter group only, all of one dtype); the vector
algebra runs in NumPy in the parameters' dtype. State (kept on the first parameter, as PyTorch
does): 'func_evals', 'n_iter', 'd', 't', 'old_dirs', 'old_stps', 'ro', 'H_diag',
'prev_flat_grad', 'prev_loss'.
"""
import numpy as np

from .. import _core
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, check_lr, check_number

_VECTOR_STATE = ("d", "prev_flat_grad")
_LIST_STATE = ("old_dirs", "old_stps")


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    bounds (default: the interval between x1 and x2); the bounds' midpoint when the cubic has no
    real critical point."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, low), high)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d meeting the strong Wolfe conditions. evaluate(t) -> (loss, flat gradient) at
    x + t d. Returns (loss, gradient, t, evaluations)."""
    d_scale = float(np.abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    # points are [t, f, g, directional derivative]
    prev = [0.0, f, g.copy(), gtd]
    ls_iter = 0
    done = False
    bracket = None
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, [t, f_new, g_new.copy(), gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [[t, f_new, g_new, gtd_new]]
            done = True
            break
        if gtd_new >= 0:
            bracket = [prev, [t, f_new, g_new.copy(), gtd_new]]
            break
        # extrapolate: the cubic's minimum within [t + 0.01 (t - t_prev), 10 t]
        t_next = _cubic_minimum(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = [t, f_new, g_new.copy(), gtd_new]
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [[0.0, f, g, gtd], [t, f_new, g_new, gtd_new]]

    # zoom: shrink the bracket until a point meets the conditions
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        a, b = bracket[0], bracket[1]
        if abs(b[0] - a[0]) * d_scale < tolerance_change:
            break
        t = _cubic_minimum(a[0], a[1], a[3], b[0], b[1], b[3])
        lo_t, hi_t = min(a[0], b[0]), max(a[0], b[0])
        margin = 0.1 * (hi_t - lo_t)
        # a point too close to an end of the bracket makes little progress: move it inwards,
        # at once when it sits on or past an end, else the second time in a row
        if min(hi_t - t, t - lo_t) < margin:
            if insufficient_progress or t >= hi_t or t <= lo_t:
                t = hi_t - margin if abs(t - hi_t) < abs(t - lo_t) else lo_t + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        point = [t, f_new, g_new.copy(), gtd_new]
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = point
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = point
    best = bracket[low]
    return best[1], best[2], best[0], evals


class LBFGS(Optimizer):
    """L-BFGS; see the module docstring. step() requires a closure returning the loss."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                        "tolerance_change": tolerance_change, "history_size": history_size,
                        "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        dtypes = {p._dtype_code for p in self._params}
        if len(dtypes) != 1:
            raise TypeError("LBFGS: all parameters must have the same dtype (they form one flat vector), got "
                            + ", ".join(sorted({str(p.dtype) for p in self._params})))
        self._np_dtype = np.asarray(self._params[0].detach()).dtype

    def _check_options(self, group):
        name = type(self).__name__
        check_lr(group, name)
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")
        for key in ("tolerance_grad", "tolerance_change"):
            group[key] = check_number(key, group[key], name)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"{name}: only 'strong_wolfe' is supported as line_search_fn, got "
                             f"{group['line_search_fn']!r}")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ the flat vector
    def _flat_grad(self):
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(np.zeros(p.numel(), dtype=self._np_dtype))
            else:
                parts.append(np.asarray(p.grad.detach(), dtype=self._np_dtype).reshape(-1))
        return np.concatenate(parts)

    def _flat_params(self):
        return np.concatenate([np.asarray(p.detach(), dtype=self._np_dtype).reshape(-1) for p in self._params])

    def _write_params(self, flat):
        offset = 0
        for p in self._params:
            n = p.numel()
            _core.copy_(p, _core.from_buffer(np.ascontiguousarray(flat[offset:offset + n].reshape(p.shape))))
            offset += n

    def _add_step(self, t, d):
        self._write_params(self._flat_params() + self._np_dtype.type(t) * d)

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    # ------------------------------------------------------------------ step
    def step(self, closure=None):
        """Up to max_iter L-BFGS iterations; closure() must zero the gradients, compute the loss,
        call backward and return the loss. Returns the loss of the first evaluation."""
        if closure is None:
            raise RuntimeError("LBFGS: step() requires a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        dt = self._np_dtype.type

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return first_loss

        d = _as_array(state.get("d"))
        t = state.get("t")
        old_dirs = [_as_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_as_array(v) for v in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        h_diag = state.get("H_diag")
        prev_flat_grad = _as_array(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = dt(1)
            else:
                y = flat_grad - prev_flat_grad
                s = d * dt(t)
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(dt(1.0) / ys)
                    h_diag = ys / y.dot(y)
                # two-loop recursion: d = -H g
                alphas = [None] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = old_stps[i].dot(q) * ro[i]
                    q = q - alphas[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    beta = old_dirs[i].dot(d) * ro[i]
                    d = d + (alphas[i] - beta) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break

            if group["line_search_fn"] == "strong_wolfe":
                x0 = self._flat_params()

                def evaluate(step, x0=x0, d=d):
                    with no_grad():
                        self._write_params(x0 + dt(step) * d)
                    result = self._evaluate(closure)
                    with no_grad():
                        self._write_params(x0)
                    return result

                loss, flat_grad, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd)
                with no_grad():
                    self._add_step(t, d)
                optimal = np.abs(flat_grad).max() <= tolerance_grad
            else:
                with no_grad():
                    self._add_step(t, d)
                ls_evals = 0
                optimal = False
                if n_iter != max_iter:
                    loss, flat_grad = self._evaluate(closure)
                    optimal = np.abs(flat_grad).max() <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if np.abs(d * dt(t)).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _as_tensor(d)
        state["t"] = float(t)
        state["old_dirs"] = [_as_tensor(v) for v in old_dirs]
        state["old_stps"] = [_as_tensor(v) for v in old_stps]
        state["ro"] = [float(r) for r in ro]
        state["H_diag"] = float(h_diag)
        state["prev_flat_grad"] = _as_tensor(prev_flat_grad)
        state["prev_loss"] = float(prev_loss)
        return first_loss

    def load_state_dict(self, state_dict):
        """As Optimizer.load_state_dict; the flat-vector state entries are taken as they are."""
        saved = state_dict["state"]
        plain = {"state": {}, "param_groups": state_dict["param_groups"]}
        super().load_state_dict(plain)
        for key, value in saved.items():
            entry = {}
            for name, v in value.items():
                if name in _VECTOR_STATE:
                    entry[name] = _as_tensor(_as_array(v, self._np_dtype))
                elif name in _LIST_STATE:
                    entry[name] = [_as_tensor(_as_array(x, self._np_dtype)) for x in v]
                elif name == "ro":
                    entry[name] = [float(x) for x in v]
                elif name in ("func_evals", "n_iter"):
                    entry[name] = int(v)
                elif v is None:
                    entry[name] = None
                else:
                    entry[name] = float(v)
            self.state[self._params[int(key)]] = entry


def _as_array(value, dtype=None):
    """A NumPy copy of a state vector (ours or PyTorch's), or None."""
    if value is None:
        return None
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.array(value, dtype=dtype)


def _as_tensor(array):
    if array is None:
        return None
    return _core.from_buffer(np.ascontiguousarray(array))
