"""The learning-rate range test: raise the LR geometrically over a few batches and suggest one."""

import copy
import math
import numbers
import os

import numpy as np

from ..viz import require_matplotlib
from ._batches import _as_loader, _loss_value, _split_batch
from .callbacks import _copy_state


class LRFinderResult:
    """Losses recorded by lr_range_test: lrs, losses (smoothed), suggestion; plot(path)."""

    def __init__(self, lrs, losses, suggestion):
        self.lrs, self.losses, self.suggestion = lrs, losses, suggestion

    def __repr__(self):
        return f"LRFinderResult({len(self.lrs)} steps, suggested lr {self.suggestion:.3g})"

    def plot(self, path=None):
        """Loss against learning rate on a log axis, with the suggestion marked."""
        Figure = require_matplotlib("LRFinderResult.plot")
        fig = Figure(figsize=(5.5, 3.8), layout="constrained")
        ax = fig.subplots()
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.axvline(self.suggestion, color="grey", linestyle=":", label=f"suggested lr = {self.suggestion:.3g}")
        ax.set(xlabel="learning rate", ylabel="training loss (smoothed)", title="learning-rate range test")
        ax.legend()
        ax.grid(alpha=0.3)
        if path is not None:
            fig.savefig(os.fspath(path), dpi=110)
        return fig


def lr_range_test(model, loss_fn, optimizer, data, start_lr=1e-6, end_lr=10.0, steps=100, batch_size=32,
                  smoothing=0.9, stop_factor=4.0):
    """Find a workable learning rate: train for `steps` batches while the lr grows geometrically from
    start_lr to end_lr, recording the loss, and stop once it exceeds stop_factor x its minimum.

    The loss first barely moves (lr too small), then falls, then blows up (lr too large). The
    suggestion is the lr where the smoothed loss falls fastest. The model and optimizer are restored
    afterwards, so the test changes nothing. Returns an LRFinderResult (plot() draws the curve).
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr!r} and {end_lr!r}")
    if not isinstance(steps, numbers.Integral) or steps < 3:
        raise ValueError(f"lr_range_test: steps must be an int >= 3, got {steps!r}")
    loader = _as_loader(data, batch_size, True, "lr_range_test")
    saved_model = _copy_state(model)
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    factor = (end_lr / start_lr) ** (1.0 / (steps - 1))
    lrs, losses = [], []
    average, best = 0.0, math.inf
    model.train()
    try:
        step = 0
        while step < steps:
            for batch in loader:
                lr = start_lr * factor**step
                for group in optimizer.param_groups:
                    group["lr"] = lr
                inputs, targets = _split_batch(batch, "lr_range_test")
                optimizer.zero_grad()
                loss = loss_fn(model(*inputs), targets)
                value = _loss_value(loss)
                loss.backward()
                optimizer.step()
                average = smoothing * average + (1 - smoothing) * value
                smoothed = average / (1 - smoothing ** (step + 1))  # bias correction of the running mean
                lrs.append(lr)
                losses.append(smoothed)
                step += 1
                if not math.isfinite(smoothed) or smoothed > stop_factor * best or step >= steps:
                    step = steps
                    break
                best = min(best, smoothed)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
    finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
    if len(finite) < 3:
        raise RuntimeError("lr_range_test: the loss diverged at once; lower start_lr")
    # steepest descent of the loss before its lowest point (after it, the fall is a recovery from a spike)
    # (the first tenth is skipped: the running mean is still settling there)
    values = np.asarray([losses[i] for i in finite])
    skip = min(len(values) // 10, len(values) - 3)
    lowest = max(int(np.argmin(values[skip:])) + skip, skip + 2)
    window = slice(skip, lowest + 1)
    slope = np.gradient(values[window], np.log([lrs[i] for i in finite[window]]))
    suggestion = float(lrs[finite[skip + int(np.argmin(slope))]])
    return LRFinderResult(lrs, losses, suggestion)
