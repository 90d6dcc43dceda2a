"""History: the per-epoch records that fit returns, and their learning-curve plot."""

import os

import numpy as np

from ..viz import require_matplotlib


class History:
    """Per-epoch records of a fit: `history["loss"]`, `history["val_loss"]`, `history["accuracy"]`, ...

    `history.epoch` lists the epoch numbers (from 1); `plot(path)` draws the learning curves.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_early = False

    def append(self, epoch, logs):
        """Record the metrics ``logs`` of ``epoch`` (a metric missing from an epoch is NaN there)."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            column = self.history.setdefault(key, [float("nan")] * (len(self.epoch) - 1))
            column.append(float(value))
        for column in self.history.values():  # a key missing this epoch gets NaN
            if len(column) < len(self.epoch):
                column.append(float("nan"))

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; recorded: {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        """The names of the recorded metrics."""
        return self.history.keys()

    def __iter__(self):
        return iter(self.history)

    def __len__(self):
        return len(self.epoch)

    def best(self, monitor="val_loss", mode="auto"):
        """(epoch, value) of the best recorded value of `monitor`."""
        values = np.asarray(self[monitor], dtype=np.float64)
        if np.all(np.isnan(values)):
            raise ValueError(f"History.best: no finite values of {monitor!r}")
        mode = _resolve_mode(monitor, mode)
        index = int(np.nanargmin(values) if mode == "min" else np.nanargmax(values))
        return self.epoch[index], float(values[index])

    def __repr__(self):
        if not self.epoch:
            return "History(empty)"
        keys = list(self.history)
        lines = ["epoch " + " ".join(f"{k:>12}" for k in keys)]
        for row, epoch in enumerate(self.epoch):
            lines.append(f"{epoch:>5} " + " ".join(f"{self.history[k][row]:>12.5g}" for k in keys))
        return "\n".join(lines)

    def plot(self, path=None, keys=None, logy=False):
        """Learning curves: one panel for the loss and one per metric, training and validation together.

        path: save the figure there (png, svg, pdf, ...). Returns the matplotlib Figure.
        """
        Figure = require_matplotlib("History.plot")
        from matplotlib.ticker import MaxNLocator  # optional extra [plot] (checked just above)

        if not self.epoch:
            raise ValueError("History.plot: nothing recorded yet")
        names = keys or [k for k in self.history if not k.startswith("val_") and k not in ("lr", "time")]
        names = [k for k in names if k in self.history or f"val_{k}" in self.history]
        fig = Figure(figsize=(5.0 * len(names), 3.6), layout="constrained")
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        best = None
        if "val_loss" in self.history and np.any(np.isfinite(self.history["val_loss"])):
            best = self.best("val_loss")[0]
        for ax, name in zip(axes, names):
            for key, label, style in ((name, "training", "-o"), (f"val_{name}", "validation", "-s")):
                if key in self.history:
                    ax.plot(self.epoch, self.history[key], style, markersize=3, label=label)
            if best is not None:
                ax.axvline(best, color="grey", linestyle=":", label=f"lowest val_loss (epoch {best})")
            if logy:
                ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        if path is not None:
            fig.savefig(os.fspath(path), dpi=110)
        return fig

def _resolve_mode(monitor, mode):
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return "max" if any(word in monitor for word in ("acc", "r2", "auc")) else "min"
