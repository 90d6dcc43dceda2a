"""Grid search over hyperparameters, coarse then fine, with a result table and plot."""

import itertools
import math
import numbers
import os

import numpy as np

from ..dtypes import int64
from ..ops.creation import from_numpy, manual_seed
from ..preprocessing import train_val_split
from ..tensor import is_tensor
from ..utils.data import DataLoader, Subset
from ..viz import require_matplotlib
from .history import _resolve_mode
from .loop import _progress_bar, _progress_wanted, fit


class GridSearchResult(list):
    """The rows of a grid search (one dict per run), printable as a table.

    best: the row with the best score; best_params: its parameters; plot(param): score against param.
    """

    def __init__(self, rows, params, score, mode):
        super().__init__(rows)
        self.params, self.score, self.mode = list(params), score, mode

    @property
    def best(self):
        """The row with the best score (the fine stage's best when there was one)."""
        finite = [r for r in self if math.isfinite(r[self.score])]
        if not finite:
            raise ValueError(f"grid_search: every run gave a non-finite {self.score}")
        pick = min if self.mode == "min" else max
        fine = [r for r in finite if r["stage"] == "fine"]
        return pick(fine or finite, key=lambda r: r[self.score])

    @property
    def best_params(self):
        """The hyper-parameters of :attr:`best`, as a dict."""
        return {p: self.best[p] for p in self.params}

    def table(self):
        """The runs as an aligned text table, the best row marked."""
        columns = ["stage"] + self.params + [k for k in self[0] if k not in self.params and k != "stage"]
        cells = [[_fmt(row.get(c)) for c in columns] for row in self]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        best = self.best
        lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
        for row, cell in zip(self, cells):
            mark = "  <- best" if row is best else ""
            lines.append("  ".join(v.rjust(w) for v, w in zip(cell, widths)) + mark)
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def plot(self, param=None, path=None, log=None):
        """Validation score against `param` (log x axis for positive values spanning > 2 decades)."""
        Figure = require_matplotlib("GridSearchResult.plot")
        param = param or self.params[0]
        if param not in self.params:
            raise ValueError(f"GridSearchResult.plot: {param!r} is not a searched parameter ({self.params})")
        fig = Figure(figsize=(5.5, 3.8), layout="constrained")
        ax = fig.subplots()
        for stage, style in (("coarse", "o--"), ("fine", "s-")):
            rows = sorted((r for r in self if r["stage"] == stage and isinstance(r[param], numbers.Real)),
                          key=lambda r: r[param])
            if rows:
                ax.plot([r[param] for r in rows], [r[self.score] for r in rows], style, label=f"{stage} search")
        values = [r[param] for r in self if isinstance(r[param], numbers.Real)]
        if log is None:
            log = bool(values) and min(values) > 0 and max(values) / min(values) > 100
        if log:
            ax.set_xscale("log")
        best = self.best
        ax.axvline(best[param], color="grey", linestyle=":", label=f"best {param} = {_fmt(best[param])}")
        ax.set(xlabel=param, ylabel=self.score, title=f"{self.score} against {param}")
        ax.legend()
        ax.grid(alpha=0.3)
        if path is not None:
            fig.savefig(os.fspath(path), dpi=110)
        return fig


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _finer_values(coarse, best, n_fine):
    """n_fine values spanning the neighbours of `best` in the sorted coarse list (log spacing for
    positive values, else linear); non-numeric parameters keep their best value."""
    if not isinstance(best, numbers.Real) or isinstance(best, bool) or n_fine < 2:
        return [best]
    values = sorted(v for v in coarse if isinstance(v, numbers.Real) and not isinstance(v, bool))
    if len(values) < 2:
        return [best]
    i = values.index(best)
    low = values[i - 1] if i > 0 else values[0]
    high = values[i + 1] if i + 1 < len(values) else values[-1]
    if isinstance(best, numbers.Integral):
        points = np.unique(np.round(np.linspace(low, high, n_fine)).astype(np.int64)).tolist()
    elif low > 0:
        points = np.geomspace(low, high, n_fine).tolist()
    else:
        points = np.linspace(low, high, n_fine).tolist()
    return points


def _subset(data, fraction, seed):
    """A random fraction of the training data (tuple of tensors or Dataset)."""
    if isinstance(data, DataLoader):
        data = data.dataset
    n = len(data[0]) if isinstance(data, (tuple, list)) else len(data)
    keep = max(2, round(n * fraction))
    rows = np.sort(np.random.default_rng(seed).permutation(n)[:keep])
    if isinstance(data, (tuple, list)):
        index = from_numpy(rows.astype(np.int64))
        return tuple(t.index_select(0, index) if is_tensor(t) else np.asarray(t)[rows] for t in data)
    return Subset(data, rows.tolist())


def grid_search(build_fn, param_grid, data, val_data=None, epochs=20, batch_size=32, score="val_loss",
                mode="auto", coarse_fraction=0.3, refine=True, n_fine=5, metrics=(), seed=0, progress=True,
                fit_kwargs=None):
    """Coarse-to-fine search for hyper-parameters (the recipe for choosing lambda).

    build_fn(**params) -> (model, loss_fn, optimizer) or (model, loss_fn, optimizer, regularizer): a
        fresh model for one setting (a regularizer, see fit, keeps the penalty out of val_loss).
    param_grid: {"name": [values...]}; give orders of magnitude, e.g. {"weight_decay": [1e-4, ..., 1]}.
    data / val_data: training and validation data (tuples of tensors or Datasets); without val_data,
        20% of `data` is held out (stratified when the targets are class labels).
    Stage 1 (coarse) trains every combination on `coarse_fraction` of the training data; stage 2
    (fine, if refine) trains n_fine values spanning the neighbours of the best coarse value of each
    numeric parameter, on all of it. Each run starts from manual_seed(seed), so runs differ only
    in their parameters. score: "val_loss" (minimised) or a validation metric such as
    "val_accuracy" (maximised). Returns a GridSearchResult (list of row dicts; print it; .best_params;
    .plot(param) draws the validation score against the parameter, log axis for decades).
    """
    if not isinstance(param_grid, dict) or not param_grid:
        raise ValueError("grid_search: param_grid is empty; give at least one parameter with its candidate values, "
                         "e.g. {'weight_decay': [1e-4, 1e-3, 1e-2, 1e-1]}")
    for name, values in param_grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"grid_search: param_grid[{name!r}] must be a list of values, got {values!r}")
        if len(list(values)) == 0:
            raise ValueError(f"grid_search: param_grid[{name!r}] is an empty list; give at least one value")
    if not 0 < coarse_fraction <= 1:
        raise ValueError(f"grid_search: coarse_fraction must be in (0, 1], got {coarse_fraction!r}")
    mode = _resolve_mode(score, mode)
    if not score.startswith("val_"):
        raise ValueError(f"grid_search: score should be a validation quantity such as 'val_loss', got {score!r}")
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    wanted = score[len("val_"):]
    if wanted != "loss" and wanted not in metrics:
        metrics = metrics + (wanted,)
    if val_data is None:
        if not isinstance(data, (tuple, list)):
            raise ValueError("grid_search: pass val_data when data is not a tuple of tensors")
        targets = data[-1]
        is_labels = is_tensor(targets) and targets.dtype == int64 and targets.ndim == 1
        data, val_data = train_val_split(*data, val_fraction=0.2, stratify=True if is_labels else None, seed=seed)
    names = list(param_grid)
    fit_kwargs = dict(fit_kwargs or {})

    def run(params, train, stage):
        manual_seed(seed)
        built = build_fn(**params)
        if not isinstance(built, (tuple, list)) or len(built) not in (3, 4):
            raise TypeError("grid_search: build_fn(**params) must return (model, loss_fn, optimizer) or "
                            "(model, loss_fn, optimizer, regularizer)")
        model, loss_fn, optimizer = built[:3]
        regularizer = built[3] if len(built) == 4 else None
        history = fit(model, loss_fn, optimizer, train, val_data, epochs=epochs, batch_size=batch_size,
                      metrics=metrics, regularizer=regularizer, progress=False, **fit_kwargs)
        row = {"stage": stage, **params}
        if isinstance(train, (tuple, list)):
            n = len(train[0])
        else:
            n = len(train.dataset) if hasattr(train, "dataset") else len(train)
        row["n_train"] = n
        row["loss"] = history["loss"][-1]
        for key in history:
            if key.startswith("val_"):
                row[key] = history[key][-1]
        if score not in row:
            raise KeyError(f"grid_search: fit did not record {score!r}; recorded {sorted(history.keys())}")
        return row

    def combos(grid):
        for values in itertools.product(*(list(grid[n]) for n in names)):
            yield dict(zip(names, values))

    rows = []

    def stage(grid, stage_data, label):
        todo = list(combos(grid))
        bar = _progress_bar(_progress_wanted(progress), len(todo), f"grid search ({label})")
        for params in todo:
            rows.append(run(params, stage_data, label))
            if bar is not None:
                bar.set_postfix({score: f"{rows[-1][score]:.4g}"}, refresh=False)
                bar.update(1)
        if bar is not None:
            bar.close()
        return GridSearchResult(rows, names, score, mode)

    result = stage(param_grid, data if coarse_fraction >= 1 else _subset(data, coarse_fraction, seed), "coarse")
    if refine:
        best = result.best
        result = stage({n: _finer_values(list(param_grid[n]), best[n], n_fine) for n in names}, data, "fine")
    return result
