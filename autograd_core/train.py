"""A training loop for learners: fit / evaluate / predict, callbacks, grid search and diagnostics.

    history = ag.train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                           (X_train, y_train), val_data=(X_val, y_val), epochs=20, batch_size=32,
                           metrics=("accuracy",), callbacks=[ag.train.EarlyStopping(patience=3)])
    history.plot("curves.png")

Data may be a DataLoader, a Dataset, or a tuple of tensors (inputs..., targets). A batch is a tuple
whose last entry is the target; the others are passed to the model.
"""

import copy
import itertools
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

__all__ = [
    "Callback",
    "DeadReLUWarning",
    "DivergenceWarning",
    "EarlyStopping",
    "ExplodingGradientWarning",
    "GradientMonitor",
    "GridSearchResult",
    "History",
    "LRFinderResult",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "OverfittingWarning",
    "TrainingWarning",
    "VanishingGradientWarning",
    "evaluate",
    "fit",
    "grid_search",
    "l1_penalty",
    "l2_penalty",
    "lr_range_test",
    "predict",
]


def _ag():
    import autograd_core

    return autograd_core


def _is_tensor(x):
    from .tensor import Tensor

    return isinstance(x, Tensor)


def _require_matplotlib(what):
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, which is an optional extra: pip install autograd_core[plot] "
            "(or pip install matplotlib)"
        ) from exc
    return Figure


# ---------------------------------------------------------------------------------------------- data


def _as_loader(data, batch_size, shuffle, op):
    from .utils.data import DataLoader, Dataset, TensorDataset

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)):
        if not data:
            raise ValueError(f"{op}: data is an empty tuple; expected (inputs, targets)")
        if all(_is_tensor(t) or isinstance(t, np.ndarray) for t in data):
            try:
                data = TensorDataset(*data)
            except ValueError as exc:
                raise ValueError(f"{op}: {exc}") from None
        else:
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{op}: a data tuple must hold tensors or arrays (inputs..., targets), got ({kinds})")
    elif _is_tensor(data) or isinstance(data, np.ndarray):
        data = TensorDataset(data)
    if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        if len(data) == 0:
            raise ValueError(f"{op}: the dataset is empty")
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    raise TypeError(f"{op}: expected a DataLoader, a Dataset or a tuple of tensors, got {type(data).__name__}")


def _split_batch(batch, op):
    """(inputs tuple, targets) from one batch: the last entry is the target."""
    if isinstance(batch, (tuple, list)):
        if len(batch) < 2:
            raise ValueError(f"{op}: each batch needs (inputs..., targets), got a batch of {len(batch)} entries")
        return tuple(batch[:-1]), batch[-1]
    if isinstance(batch, dict):
        raise TypeError(f"{op}: batches are dicts; give fit a collate_fn that returns (inputs, targets)")
    raise TypeError(f"{op}: each batch must be a tuple (inputs..., targets), got {type(batch).__name__}")


def _batch_size_of(targets):
    return targets.shape[0] if _is_tensor(targets) and targets.ndim > 0 else 1


def _check_output_target(outputs, targets, loss_fn):
    """Catch the shape mistakes that broadcasting would otherwise turn into a silently wrong loss."""
    if not (_is_tensor(outputs) and _is_tensor(targets)):
        return
    ag = _ag()
    name = type(loss_fn).__name__ if not hasattr(loss_fn, "__name__") else loss_fn.__name__
    out_shape, tgt_shape = tuple(outputs.shape), tuple(targets.shape)
    if outputs.ndim and targets.ndim and out_shape[0] != tgt_shape[0]:
        raise ValueError(
            f"fit: the model returned {out_shape[0]} rows (outputs {out_shape}) for a batch of "
            f"{tgt_shape[0]} targets (targets {tgt_shape}); check the model's input handling"
        )
    if targets.is_floating_point() and out_shape != tgt_shape:
        hint = ""
        if len(out_shape) == len(tgt_shape) + 1 and out_shape[-1] == 1:
            hint = " (reshape the targets with y.reshape(-1, 1))"
        elif len(tgt_shape) == len(out_shape) + 1 and tgt_shape[-1] == 1:
            hint = " (flatten the targets with y.reshape(-1))"
        raise ValueError(
            f"fit: {name} got outputs of shape {out_shape} and float targets of shape {tgt_shape}; "
            f"they must match, or broadcasting would compare every output with every target{hint}"
        )


# -------------------------------------------------------------------------------------------- metrics


def _accuracy_threshold(loss_fn):
    # probabilities (BCELoss after a sigmoid) split at 0.5; logits everywhere else split at 0
    return 0.5 if type(loss_fn).__name__ == "BCELoss" else 0.0


def _ignore_index(loss_fn):
    value = getattr(loss_fn, "ignore_index", None)
    return value if isinstance(value, numbers.Integral) else None


def _metric_accuracy(outputs, targets, loss_fn):
    from .metrics import class_pairs

    predicted, true, _ = class_pairs(outputs, targets, _accuracy_threshold(loss_fn), _ignore_index(loss_fn),
                                     "accuracy")
    return float((predicted == true).sum()), float(true.size)


def _float_pair(outputs, targets):
    out = np.asarray(outputs.detach().numpy(), dtype=np.float64)
    tgt = np.asarray(targets.detach().numpy(), dtype=np.float64)
    if out.shape != tgt.shape:
        raise ValueError(f"regression metric: outputs {out.shape} and targets {tgt.shape} differ in shape")
    return out, tgt


def _metric_mae(outputs, targets, loss_fn):
    out, tgt = _float_pair(outputs, targets)
    return float(np.abs(out - tgt).sum()), float(out.size)


def _metric_mse(outputs, targets, loss_fn):
    out, tgt = _float_pair(outputs, targets)
    return float(((out - tgt) ** 2).sum()), float(out.size)


_METRICS = {"accuracy": _metric_accuracy, "acc": _metric_accuracy, "mae": _metric_mae, "mse": _metric_mse,
            "rmse": _metric_mse}
# computed from the confusion matrix of the whole epoch (a mean of per-batch values would be biased);
# binary for one score per element, else the macro average over classes (mean IoU for segmentation)
_CONFUSION_METRICS = ("precision", "recall", "f1", "iou")


class _MetricSum:
    """Accumulates one metric over the batches of an epoch (weighted by samples, or through the
    epoch's confusion matrix, so the epoch value is exact, not a mean of batch values)."""

    def __init__(self, metric):
        self.matrix = None
        if isinstance(metric, str):
            if metric not in _METRICS and metric not in _CONFUSION_METRICS:
                choices = sorted([*_METRICS, *_CONFUSION_METRICS])
                raise ValueError(f"unknown metric {metric!r}; choose from {choices} or pass a callable")
            self.name, self.fn, self.builtin = metric, _METRICS.get(metric), True
        elif callable(metric):
            self.name, self.fn, self.builtin = getattr(metric, "__name__", "metric"), metric, False
        else:
            raise TypeError(f"a metric must be a name or a callable(outputs, targets), got {metric!r}")
        self.total = self.count = 0.0

    def update(self, outputs, targets, loss_fn):
        if self.name in _CONFUSION_METRICS and self.builtin:
            from .metrics import confusion_matrix

            matrix = confusion_matrix(outputs, targets, threshold=_accuracy_threshold(loss_fn),
                                      ignore_index=_ignore_index(loss_fn))
            self.matrix = matrix if self.matrix is None else self.matrix + matrix
            self.count += float(matrix.sum())
            return
        if self.builtin:
            total, count = self.fn(outputs, targets, loss_fn)
        else:
            value = self.fn(outputs, targets)
            count = float(_batch_size_of(targets))
            total = float(value.item() if _is_tensor(value) else value) * count
        self.total += total
        self.count += count

    def parts(self):
        """The running sums as floats (summed over ranks in distributed training)."""
        extra = [] if self.matrix is None else self.matrix.reshape(-1).astype(np.float64).tolist()
        return [self.total, self.count, *extra]

    def set_parts(self, values):
        self.total, self.count = values[0], values[1]
        if self.matrix is not None:
            self.matrix = np.asarray(values[2:], dtype=np.float64).round().astype(np.int64).reshape(self.matrix.shape)

    def value(self):
        if self.count == 0:
            return float("nan")
        if self.matrix is not None:
            from .metrics import scores_from_confusion

            average = "binary" if self.matrix.shape[0] == 2 else "macro"
            return float(scores_from_confusion(self.matrix, average)[self.name])
        mean = self.total / self.count
        return math.sqrt(mean) if self.name == "rmse" else mean


def _loss_value(loss):
    if not _is_tensor(loss):
        raise TypeError(f"fit: loss_fn must return a tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(
            f"fit: loss_fn returned a tensor of shape {tuple(loss.shape)}; it must be a single number "
            "(use reduction='mean' or 'sum')"
        )
    return float(loss.detach().reshape(()).item())


def _loss_sum(loss_fn, value, count):
    """The batch's contribution to an epoch total whose mean is per sample, whatever the reduction."""
    return value if getattr(loss_fn, "reduction", "mean") == "sum" else value * count


# -------------------------------------------------------------------------------------------- history


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
        Figure = _require_matplotlib("History.plot")
        from matplotlib.ticker import MaxNLocator

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


# ------------------------------------------------------------------------------------------ callbacks


def _resolve_mode(monitor, mode):
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return "max" if any(word in monitor for word in ("acc", "r2", "auc")) else "min"


class Callback:
    """Hooks called by fit; override the ones you need. `state` is the running fit (see _FitState)."""

    def on_train_begin(self, state):
        """Called once before the first epoch."""
        pass

    def on_epoch_begin(self, state, epoch):
        """Called at the start of each epoch (``epoch`` counts from 0)."""
        pass

    def on_after_backward(self, state):
        """Gradients are in .grad and the optimizer has not stepped yet."""

    def on_batch_end(self, state, batch_index, logs):
        """Called after each optimizer step; ``logs`` holds the epoch's running ``loss`` (and metrics) so far.
        """
        pass

    def on_epoch_end(self, state, epoch, logs):
        """Called after each epoch's validation; ``logs`` holds the epoch's metrics (``loss``,
        ``val_loss``, ...). Set ``state.stop_training = True`` to end training.
        """
        pass

    def on_train_end(self, state):
        """Called once after the last epoch (also after an early stop)."""
        pass


def _copy_state(model):
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _monitored(logs, monitor, who):
    if monitor not in logs:
        hint = " (pass val_data to fit)" if monitor.startswith("val_") else ""
        raise KeyError(f"{who} monitors {monitor!r}, which fit does not record{hint}; recorded: {sorted(logs)}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    restore_best: when training ends, load the weights of the best epoch back into the model
    (a copy of the state_dict is kept in memory after each improvement).
    After fit: best_epoch, best, stopped_epoch (0 if it ran to the end).
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, restore_best=True, mode="auto"):
        if not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best = restore_best
        self.mode = _resolve_mode(monitor, mode)

    def on_train_begin(self, state):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_state = None
        self.wait = 0
        self.stopped_epoch = 0

    def _improved(self, value):
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, state, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = _copy_state(state.model)
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            state.stop_training = True
            state.history.stopped_early = True

    def on_train_end(self, state):
        if self.restore_best and self.best_state is not None and self.best_epoch != state.epoch:
            state.model.load_state_dict(self.best_state)
        if state.reporting and self.stopped_epoch:
            state.write(f"EarlyStopping: stopped at epoch {self.stopped_epoch}; best {self.monitor} "
                        f"{self.best:.5g} at epoch {self.best_epoch}"
                        + (" (weights restored)" if self.restore_best else ""))


class ModelCheckpoint(Callback):
    """Save the model's state_dict with ag.save to `path` whenever `monitor` improves.

    path may contain "{epoch}" (e.g. "ckpt-{epoch:03d}.safetensors"); save_best_only=False saves
    after every epoch.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=True, mode="auto"):
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.mode = _resolve_mode(monitor, mode)
        self.saved = []

    def on_train_begin(self, state):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved = []

    def on_epoch_end(self, state, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        path = self.path.format(epoch=epoch)
        if _is_main_process():  # in data-parallel training every rank holds the same weights
            _ag().save(state.model.state_dict(), path)
        self.saved.append(path)


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (or every batch with per_batch=True).

    ReduceLROnPlateau-style schedulers (whose step takes a value) get `monitor` (default val_loss,
    or loss when there is no validation data).
    """

    def __init__(self, scheduler, monitor=None, per_batch=False):
        self.scheduler, self.monitor, self.per_batch = scheduler, monitor, per_batch

    def _wants_value(self):
        return type(self.scheduler).__name__ == "ReduceLROnPlateau"

    def on_batch_end(self, state, batch_index, logs):
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, state, epoch, logs):
        if self.per_batch:
            return
        if self._wants_value():
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            self.scheduler.step(_monitored(logs, monitor, "LRSchedulerCallback"))
        else:
            self.scheduler.step()


# ---------------------------------------------------------------------------------------- diagnostics


class TrainingWarning(UserWarning):
    """Base class of the plain-language warnings raised by GradientMonitor."""


class VanishingGradientWarning(TrainingWarning):
    """Gradients of some layer have become so small that it has practically stopped learning."""


class ExplodingGradientWarning(TrainingWarning):
    """Gradients have become very large (or non-finite): lower the learning rate or clip them."""


class DivergenceWarning(TrainingWarning):
    """The loss has become NaN or infinite, or keeps growing: training diverges."""


class OverfittingWarning(TrainingWarning):
    """The validation loss rises while the training loss falls: the model is overfitting."""


class DeadReLUWarning(TrainingWarning):
    """Most units of a ReLU layer output zero for every input: they no longer learn."""


def _layer_of(parameter_name):
    return parameter_name.rsplit(".", 1)[0] if "." in parameter_name else "(model)"


class GradientMonitor(Callback):
    """Watches training and explains common failures in plain words.

    Records, per epoch: the gradient norm of each layer (mean over batches), the fraction of dead
    ReLU units (units whose output is 0 for every sample of the epoch, measured with forward hooks on
    ReLU modules), and the losses. Warns (warnings.warn, subclasses of TrainingWarning) once per
    kind about:
      - vanishing gradients: a layer's gradient norm below `vanish_threshold`, or `vanish_ratio`
        times smaller than the largest layer's;
      - exploding gradients: a layer's gradient norm above `explode_threshold`, or Inf/NaN gradients;
      - a NaN/Inf loss or a loss that grew to `diverge_factor` times its first value (divergence);
      - validation loss rising for `overfit_patience` epochs while the training loss falls;
      - more than `dead_threshold` of a ReLU layer's units dead.
    stop_on_nan: stop fit at the end of an epoch whose loss was NaN/Inf.
    Use it in fit(callbacks=[GradientMonitor()]), or by hand: attach(model), after_backward() after
    each loss.backward(), end_epoch(train_loss, val_loss) after each epoch.
    """

    def __init__(self, vanish_threshold=1e-7, vanish_ratio=1e-4, explode_threshold=1e3, diverge_factor=10.0,
                 overfit_patience=3, dead_threshold=0.5, stop_on_nan=True, warn=True):
        self.vanish_threshold, self.vanish_ratio = vanish_threshold, vanish_ratio
        self.explode_threshold, self.diverge_factor = explode_threshold, diverge_factor
        self.overfit_patience, self.dead_threshold = overfit_patience, dead_threshold
        self.stop_on_nan, self.warn = stop_on_nan, warn
        self.model = None
        self._handles = []
        self.reset()

    def reset(self):
        """Clear the record and the warnings given, to monitor a new run."""
        self.record = {"epoch": [], "grad_norm": {}, "dead_relu": {}, "loss": [], "val_loss": []}
        self.warned = {}
        self._grad_sums, self._grad_batches, self._grad_nonfinite = {}, 0, False
        self._alive = {}
        self._batch_loss_nonfinite = False

    # -- wiring
    def attach(self, model):
        """Start watching `model` (registers forward hooks on its ReLU modules)."""
        self.detach()
        self.model = model
        for name, module in model.named_modules():
            if type(module).__name__ == "ReLU":
                self._handles.append(module.register_forward_hook(self._relu_hook(name or "relu")))
        return self

    def detach(self):
        """Stop watching the model: remove the hooks :meth:`attach` registered."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _relu_hook(self, name):
        def hook(module, args, output):
            if not module.training or not _is_tensor(output) or output.ndim == 0 or output.shape[0] == 0:
                return  # only training batches count (not validation passes in eval mode)
            out = np.asarray(output.detach().numpy())
            units = out.reshape(out.shape[0], -1)
            active = np.any(units > 0, axis=0)
            seen = self._alive.get(name)
            # a unit is dead when it outputs 0 for every sample of the epoch
            self._alive[name] = active if seen is None or seen.shape != active.shape else seen | active

        return hook

    # -- per batch
    def after_backward(self, loss=None):
        """Read the gradients now in .grad (call after loss.backward(), before optimizer.step())."""
        if self.model is None:
            raise RuntimeError("GradientMonitor: call attach(model) first")
        squares = {}
        for name, param in self.model.named_parameters():
            if param.grad is None:
                continue
            g = np.asarray(param.grad.detach().numpy(), dtype=np.float64)
            layer = _layer_of(name)
            squares[layer] = squares.get(layer, 0.0) + float(np.sum(g * g))
        for layer, sq in squares.items():
            norm = math.sqrt(sq) if math.isfinite(sq) else math.inf
            if not math.isfinite(sq):
                self._grad_nonfinite = True
            self._grad_sums[layer] = self._grad_sums.get(layer, 0.0) + norm
        self._grad_batches += 1
        if loss is not None:
            value = _loss_value(loss) if _is_tensor(loss) else float(loss)
            if not math.isfinite(value):
                self._batch_loss_nonfinite = True

    # -- per epoch
    def end_epoch(self, train_loss, val_loss=None):
        """Close the epoch: store its averages and check for trouble. Returns the warnings issued."""
        epoch = len(self.record["epoch"]) + 1
        self.record["epoch"].append(epoch)
        n = max(self._grad_batches, 1)
        norms = {layer: total / n for layer, total in self._grad_sums.items()}
        self._append_per_layer(self.record["grad_norm"], norms, epoch)
        dead = {layer: 1.0 - float(np.mean(alive)) for layer, alive in self._alive.items()}
        self._append_per_layer(self.record["dead_relu"], dead, epoch)
        self.record["loss"].append(float(train_loss))
        self.record["val_loss"].append(float("nan") if val_loss is None else float(val_loss))
        issued = self._check(epoch, norms, dead)
        self._grad_sums, self._grad_batches, self._grad_nonfinite = {}, 0, False
        self._alive = {}
        self._batch_loss_nonfinite = False
        return issued

    @staticmethod
    def _append_per_layer(table, values, epoch):
        for layer, value in values.items():
            column = table.setdefault(layer, [float("nan")] * (epoch - 1))
            column.append(value)
        for column in table.values():
            if len(column) < epoch:
                column.append(float("nan"))

    def _emit(self, kind, category, message, issued):
        if kind in self.warned:
            return
        self.warned[kind] = message
        issued.append(message)
        if self.warn:
            warnings.warn(message, category, stacklevel=3)

    def _check(self, epoch, norms, dead):
        issued = []
        losses = self.record["loss"]
        loss = losses[-1]
        if self._batch_loss_nonfinite or not math.isfinite(loss):
            self._emit("divergence", DivergenceWarning,
                       f"Training diverged: the loss became NaN/Inf in epoch {epoch}. The learning rate is "
                       "probably too large; try one 10 times smaller (or clip gradients with "
                       "nn.utils.clip_grad_norm_).", issued)
        elif len(losses) > 1 and math.isfinite(losses[0]) and loss > self.diverge_factor * max(losses[0], 1e-12):
            self._emit("divergence", DivergenceWarning,
                       f"The training loss is diverging: {loss:.4g} in epoch {epoch} against {losses[0]:.4g} "
                       "in epoch 1. Try a smaller learning rate.", issued)
        finite = {layer: v for layer, v in norms.items() if math.isfinite(v)}
        if self._grad_nonfinite or len(finite) < len(norms):
            self._emit("exploding", ExplodingGradientWarning,
                       f"Exploding gradients: some gradients were Inf/NaN in epoch {epoch}. Lower the learning "
                       "rate, clip gradients (nn.utils.clip_grad_norm_) or standardise the inputs.", issued)
        elif finite and max(finite.values()) > self.explode_threshold:
            layer = max(finite, key=finite.get)
            self._emit("exploding", ExplodingGradientWarning,
                       f"Exploding gradients: layer '{layer}' has gradient norm {finite[layer]:.3g} (above "
                       f"{self.explode_threshold:g}) in epoch {epoch}. Lower the learning rate, clip gradients "
                       "(nn.utils.clip_grad_norm_) or standardise the inputs.", issued)
        if finite:
            smallest = min(finite, key=finite.get)
            largest = max(finite.values())
            tiny = finite[smallest] < self.vanish_threshold
            lopsided = largest > 0 and finite[smallest] < self.vanish_ratio * largest
            if tiny or lopsided:
                self._emit("vanishing", VanishingGradientWarning,
                           f"Vanishing gradients: layer '{smallest}' gets gradient norm {finite[smallest]:.3g}, "
                           f"against {largest:.3g} for the largest layer, so it barely learns. Saturating "
                           "activations (sigmoid/tanh) in deep stacks do this: try ReLU, careful initialisation "
                           "(nn.init.kaiming_*), batch normalisation or fewer layers.", issued)
        for layer, fraction in dead.items():
            if fraction > self.dead_threshold:
                self._emit("dead_relu", DeadReLUWarning,
                           f"Dead ReLUs: {fraction:.0%} of the units after '{layer}' output 0 for every sample, "
                           "so they no longer learn. Try a smaller learning rate, LeakyReLU, or Kaiming "
                           "initialisation.", issued)
                break
        vals = self.record["val_loss"]
        k = self.overfit_patience
        if len(vals) > k and all(math.isfinite(v) for v in vals[-k - 1:]):
            val_rising = all(vals[-i] > vals[-i - 1] for i in range(1, k + 1))
            train_falling = losses[-1] < losses[-k - 1]
            if val_rising and train_falling:
                self._emit("overfitting", OverfittingWarning,
                           f"Overfitting: the validation loss rose for {k} epochs in a row (to {vals[-1]:.4g}) "
                           f"while the training loss kept falling (to {losses[-1]:.4g}). Stop earlier "
                           "(EarlyStopping), add regularisation (weight_decay, dropout) or get more data.", issued)
        return issued

    # -- as a fit callback
    def on_train_begin(self, state):
        self.reset()
        self.attach(state.model)

    def on_after_backward(self, state):
        self.after_backward(state.last_loss)

    def on_epoch_end(self, state, epoch, logs):
        self.end_epoch(logs.get("loss", float("nan")), logs.get("val_loss"))
        if self.stop_on_nan and not math.isfinite(logs.get("loss", 0.0)):
            state.stop_training = True

    def on_train_end(self, state):
        self.detach()

    def summary(self):
        """A short text table of the last epoch's gradient norms and dead-ReLU fractions."""
        lines = [f"{'layer':<24}{'grad norm':>12}"]
        for layer, values in self.record["grad_norm"].items():
            lines.append(f"{layer:<24}{values[-1]:>12.4g}")
        for layer, values in self.record["dead_relu"].items():
            lines.append(f"{layer + ' dead ReLU':<24}{values[-1]:>11.1%}")
        for message in self.warned.values():
            lines.append("warning: " + message)
        return "\n".join(lines)

    def plot(self, path=None):
        """Gradient norm per layer (log scale) and dead-ReLU fraction against the epoch."""
        Figure = _require_matplotlib("GradientMonitor.plot")
        if not self.record["epoch"]:
            raise ValueError("GradientMonitor.plot: nothing recorded yet")
        panels = 2 if self.record["dead_relu"] else 1
        fig = Figure(figsize=(5.5 * panels, 3.6), layout="constrained")
        axes = fig.subplots(1, panels, squeeze=False)[0]
        epochs = self.record["epoch"]
        for layer, values in self.record["grad_norm"].items():
            axes[0].plot(epochs, values, "-o", markersize=3, label=layer)
        axes[0].set_yscale("log")
        axes[0].set(xlabel="epoch", ylabel="mean gradient norm", title="gradient norm per layer")
        axes[0].legend(fontsize="small")
        if panels == 2:
            for layer, values in self.record["dead_relu"].items():
                axes[1].plot(epochs, values, "-o", markersize=3, label=layer)
            axes[1].set(xlabel="epoch", ylabel="fraction of units", title="dead ReLU units", ylim=(0, 1))
            axes[1].legend(fontsize="small")
        if path is not None:
            fig.savefig(os.fspath(path), dpi=110)
        return fig


# ------------------------------------------------------------------------------------------- the loop


class _FitState:
    """What callbacks see: model, optimizer, loss_fn, history, epoch, stop_training, last_loss.

    progress_enabled: tqdm bars are drawn (a terminal or a notebook); epoch_lines: one plain line per
    epoch is printed instead (output to a file or a pipe, where bars would be a mess of \r).
    """

    def __init__(self, model, optimizer, loss_fn, history, progress_enabled, epoch_lines=False):
        self.model, self.optimizer, self.loss_fn, self.history = model, optimizer, loss_fn, history
        self.epoch = 0
        self.stop_training = False
        self.last_loss = None
        self.progress_enabled = progress_enabled
        self.epoch_lines = epoch_lines

    @property
    def reporting(self):
        return self.progress_enabled or self.epoch_lines

    def write(self, text):
        if not self.progress_enabled:
            print(text, file=sys.stdout, flush=True)
            return
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)


def _epoch_line(epoch, epochs, logs):
    """`Epoch  3/20: loss 0.4121  accuracy 0.8750  val_loss 0.5012  val_accuracy 0.8125  (0.3 s)`."""
    width = len(str(epochs))
    fields = "  ".join(f"{k} {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{k} {v:.4g}"
                       for k, v in logs.items() if k not in ("lr", "time"))
    return f"Epoch {epoch:>{width}}/{epochs}: {fields}  ({logs.get('time', 0.0):.1f} s)"


def _progress_wanted(progress):
    if not progress:
        return False
    if "ipykernel" in sys.modules:  # a notebook: tqdm.auto draws a widget
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress_bar(enabled, total, desc):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    try:
        width = os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, OSError, ValueError):
        width = 0
    # a terminal that reports 0 columns (some pseudo-terminals) would get an empty bar
    sizing = {"dynamic_ncols": True} if width > 0 else {"ncols": 100, "nrows": 20}
    return tqdm(total=total, desc=desc, unit="batch", leave=True, file=sys.stderr, **sizing)


def _current_lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if groups and "lr" in groups[0]:
        return float(groups[0]["lr"])
    return None


def l2_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of squared weights), biases (1-d parameters) left out by default.

    >>> model = nn.Linear(3, 1)
    >>> reg = ag.train.l2_penalty(1e-3)      # then: fit(model, loss, opt, data, regularizer=reg)
    >>> bool(ag.isclose(reg(model), 1e-3 * (model.weight ** 2).sum()))
    True
    """
    if lam < 0:
        raise ValueError(f"l2_penalty: lam must be >= 0, got {lam!r}")

    def penalty(model):
        terms = [(p * p).sum() for p in model.parameters() if include_bias or p.ndim >= 2]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * lam

    penalty.__name__ = f"l2_penalty({lam:g})"
    return penalty


def l1_penalty(lam, include_bias=False):
    """A regularizer for fit: lam * (sum of absolute weights), the lasso penalty (biases left out).

    Plain gradient steps on it only shrink weights towards 0; for exact zeros use an optimizer's l1=.
    """
    if lam < 0:
        raise ValueError(f"l1_penalty: lam must be >= 0, got {lam!r}")

    def penalty(model):
        terms = [p.abs().sum() for p in model.parameters() if include_bias or p.ndim >= 2]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * lam

    penalty.__name__ = f"l1_penalty({lam:g})"
    return penalty


def fit(model, loss_fn, optimizer, train_data, val_data=None, epochs=10, batch_size=32, shuffle=True,
        metrics=(), callbacks=(), scheduler=None, regularizer=None, progress=True, distributed=None):
    """Train `model` for `epochs` passes over `train_data` and return a History.

    train_data / val_data: a DataLoader, a Dataset, or a tuple (inputs..., targets) of tensors
        (batch_size and shuffle apply to the last two kinds; validation is never shuffled).
    metrics: names ("accuracy", "precision", "recall", "f1", "iou", "mae", "mse", "rmse") or callables
        f(outputs, targets) -> number, recorded for training and validation ("accuracy",
        "val_accuracy"). Class metrics take every layout cross_entropy does ((N, C), (N, C, L),
        (N, C, H, W)) and skip its ignore_index; precision, recall, f1 and iou come from the epoch's
        confusion matrix: of class 1 for one score per element, else averaged over the classes.
    callbacks: EarlyStopping, ModelCheckpoint, GradientMonitor, LRSchedulerCallback, or your own.
    scheduler: an lr scheduler stepped once per epoch (ReduceLROnPlateau gets val_loss or loss).
    regularizer: f(model) -> penalty tensor added to the training loss only (e.g. l2_penalty(1e-3));
        "loss" and "val_loss" stay the plain data loss, so they compare, and the mean penalty is
        recorded as "penalty".
    progress: a tqdm bar per epoch with the running loss and metrics when stderr is a terminal (or
        in a notebook); otherwise (a log file, a pipe, CI) one plain line per epoch on stdout.
        progress=False prints nothing.
    distributed: data-parallel training over MPI (start with `mpiexec -n N python script.py`). True
        initialises the process group if needed; None (the default) turns it on when a process
        group with more than one rank is initialised. Each rank then trains on its DistributedSampler
        share of train_data (batch_size is per rank), gradients are averaged by
        DistributedDataParallel, the recorded training loss and metrics are over all ranks, and only
        rank 0 shows progress and saves checkpoints. Every rank must call fit with the same arguments.
    """
    _ag()
    if not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be callable (e.g. nn.MSELoss()), got {type(loss_fn).__name__}")
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
        raise TypeError(f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
    if isinstance(metrics, str):
        metrics = (metrics,)
    train_loader = _as_loader(train_data, batch_size, shuffle, "fit (train_data)")
    val_loader = None if val_data is None else _as_loader(val_data, batch_size, False, "fit (val_data)")
    parallel = _Distributed.setup(distributed, model, train_loader, shuffle)
    if parallel is not None:
        train_loader = parallel.loader
    callbacks = list(callbacks)
    if scheduler is not None:
        callbacks.append(LRSchedulerCallback(scheduler))
    for metric in metrics:
        _MetricSum(metric)  # fail before training on an unknown metric name
    enabled = _progress_wanted(progress) and _is_main_process()
    epoch_lines = bool(progress) and not enabled and _is_main_process()
    history = History()
    state = _FitState(model, optimizer, loss_fn, history, enabled, epoch_lines)
    for cb in callbacks:
        cb.on_train_begin(state)
    n_batches = len(train_loader)
    width = len(str(epochs))
    try:
        for epoch in range(1, epochs + 1):
            state.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(state, epoch)
            model.train()
            if parallel is not None:
                parallel.set_epoch(epoch)
            sums = [_MetricSum(m) for m in metrics]
            loss_total = loss_count = penalty_total = 0.0
            bar = _progress_bar(enabled, n_batches, f"Epoch {epoch:>{width}}/{epochs}")
            started = time.perf_counter()
            for batch_index, batch in enumerate(train_loader if parallel is None else parallel.loader):
                inputs, targets = _split_batch(batch, "fit")
                optimizer.zero_grad()
                outputs = model(*inputs) if parallel is None else parallel.ddp(*inputs)
                if batch_index == 0 and epoch == 1:
                    _check_output_target(outputs, targets, loss_fn)
                loss = loss_fn(outputs, targets)
                value = _loss_value(loss)
                if regularizer is not None:
                    penalty = regularizer(model)
                    penalty_total += _loss_value(penalty) * _batch_size_of(targets)
                    loss = loss + penalty
                state.last_loss = loss
                loss.backward()
                for cb in callbacks:
                    cb.on_after_backward(state)
                optimizer.step()
                count = _batch_size_of(targets)
                loss_total += _loss_sum(loss_fn, value, count)
                loss_count += count
                for m in sums:
                    m.update(outputs, targets, loss_fn)
                logs = {"loss": loss_total / loss_count}
                logs.update({m.name: m.value() for m in sums})
                for cb in callbacks:
                    cb.on_batch_end(state, batch_index, logs)
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
                    bar.update(1)
            if parallel is not None:
                loss_total, loss_count, penalty_total = parallel.sum_over_ranks(loss_total, loss_count, penalty_total,
                                                                                sums)
            logs = {"loss": loss_total / loss_count if loss_count else float("nan")}
            logs.update({m.name: m.value() for m in sums})
            if regularizer is not None and loss_count:
                logs["penalty"] = penalty_total / loss_count
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader, metrics=metrics)
                logs.update({f"val_{k}": v for k, v in val.items()})
            lr = _current_lr(optimizer)
            if lr is not None:
                logs["lr"] = lr
            logs["time"] = time.perf_counter() - started
            if parallel is not None:
                logs = parallel.agree(logs)  # callbacks decide (stop, save) from the same numbers everywhere
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k not in ("lr", "time")})
                bar.close()
            history.append(epoch, logs)
            if epoch_lines:
                print(_epoch_line(epoch, epochs, logs), file=sys.stdout, flush=True)
            for cb in callbacks:
                cb.on_epoch_end(state, epoch, logs)
            if state.stop_training:
                break
    finally:
        for cb in callbacks:
            cb.on_train_end(state)
    return history


def _is_main_process():
    """False on the ranks other than 0 of an initialised process group (they neither print nor save)."""
    from . import distributed

    return not distributed.is_initialized() or distributed.get_rank() == 0


class _Distributed:
    """fit's data-parallel part: the DDP wrapper, this rank's share of the data, and the sums over ranks."""

    @classmethod
    def setup(cls, flag, model, loader, shuffle):
        from . import distributed

        if flag is None:
            flag = distributed.is_initialized() and distributed.get_world_size() > 1
        if not flag:
            return None
        if not distributed.is_initialized():
            distributed.init_process_group("mpi")
        return cls(model, loader, shuffle)

    def __init__(self, model, loader, shuffle):
        from .nn.parallel import DistributedDataParallel
        from .utils.data.distributed import DistributedSampler

        self.ddp = model if isinstance(model, DistributedDataParallel) else DistributedDataParallel(model)
        self.given = loader
        sampler = getattr(loader, "sampler", None)
        self.sampler = sampler if isinstance(sampler, DistributedSampler) else None
        if self.sampler is None:
            self.sampler = DistributedSampler(loader.dataset, shuffle=shuffle)
            self.loader = None
            self.set_epoch(1)
        else:
            self.loader = loader  # already sharded by the caller: only its epoch is set

    def set_epoch(self, epoch):
        from .utils.data import DataLoader, Subset

        self.sampler.set_epoch(epoch - 1)
        if self.loader is self.given:
            return
        given = self.given
        self.loader = DataLoader(Subset(given.dataset, list(self.sampler)), batch_size=given.batch_size,
                                 drop_last=given.drop_last, collate_fn=given.collate_fn)

    def sum_over_ranks(self, loss_total, loss_count, penalty_total, sums):
        from . import distributed

        values = [loss_total, loss_count, penalty_total]
        sizes = []
        for m in sums:
            parts = m.parts()
            values += parts
            sizes.append(len(parts))
        both = _ag().tensor(values, dtype=_ag().float64)
        distributed.all_reduce(both)
        values = both.tolist()
        offset = 3
        for m, size in zip(sums, sizes):
            m.set_parts(values[offset:offset + size])
            offset += size
        return values[0], values[1], values[2]

    def agree(self, logs):
        from . import distributed

        shared = [logs]
        distributed.broadcast_object_list(shared, src=0)
        return shared[0]


def evaluate(model, loss_fn, data, metrics=(), batch_size=256):
    """Mean loss (and metrics) of `model` over `data`, in eval mode and without building graphs.

    Returns a dict such as {"loss": 0.31, "accuracy": 0.92}.
    """
    ag = _ag()
    if isinstance(metrics, str):
        metrics = (metrics,)
    loader = _as_loader(data, batch_size, False, "evaluate")
    sums = [_MetricSum(m) for m in metrics]
    was_training = getattr(model, "training", False)
    model.eval()
    total = count = 0.0
    try:
        with ag.no_grad():
            for batch in loader:
                inputs, targets = _split_batch(batch, "evaluate")
                outputs = model(*inputs)
                _check_output_target(outputs, targets, loss_fn)
                n = _batch_size_of(targets)
                total += _loss_sum(loss_fn, _loss_value(loss_fn(outputs, targets)), n)
                count += n
                for m in sums:
                    m.update(outputs, targets, loss_fn)
    finally:
        model.train(was_training)
    result = {"loss": total / count}
    result.update({m.name: m.value() for m in sums})
    return result


def predict(model, data, batch_size=256):
    """The model's outputs for every sample of `data`, concatenated (eval mode, no graph).

    data: a tensor of inputs, a tuple whose first entry is the inputs, a Dataset or a DataLoader
    (when batches are tuples, only their first entry is used).
    """
    ag = _ag()
    if _is_tensor(data) or isinstance(data, np.ndarray):
        data = (data,)
    loader = _as_loader(data, batch_size, False, "predict")
    was_training = getattr(model, "training", False)
    model.eval()
    outputs = []
    try:
        with ag.no_grad():
            for batch in loader:
                inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(model(inputs))
    finally:
        model.train(was_training)
    return ag.cat(outputs, 0) if len(outputs) > 1 else outputs[0]


# ------------------------------------------------------------------------------------ lr range test


class LRFinderResult:
    """Losses recorded by lr_range_test: lrs, losses (smoothed), suggestion; plot(path)."""

    def __init__(self, lrs, losses, suggestion):
        self.lrs, self.losses, self.suggestion = lrs, losses, suggestion

    def __repr__(self):
        return f"LRFinderResult({len(self.lrs)} steps, suggested lr {self.suggestion:.3g})"

    def plot(self, path=None):
        """Loss against learning rate on a log axis, with the suggestion marked."""
        Figure = _require_matplotlib("LRFinderResult.plot")
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


# ---------------------------------------------------------------------------------------- grid search


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
        Figure = _require_matplotlib("GridSearchResult.plot")
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
    from .utils.data import DataLoader, Subset

    if isinstance(data, DataLoader):
        data = data.dataset
    n = len(data[0]) if isinstance(data, (tuple, list)) else len(data)
    keep = max(2, round(n * fraction))
    rows = np.sort(np.random.default_rng(seed).permutation(n)[:keep])
    if isinstance(data, (tuple, list)):
        index = _ag().from_numpy(rows.astype(np.int64))
        return tuple(t.index_select(0, index) if _is_tensor(t) else np.asarray(t)[rows] for t in data)
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
    numeric parameter, on all of it. Each run starts from ag.manual_seed(seed), so runs differ only
    in their parameters. score: "val_loss" (minimised) or a validation metric such as
    "val_accuracy" (maximised). Returns a GridSearchResult (list of row dicts; print it; .best_params;
    .plot(param) draws the validation score against the parameter, log axis for decades).
    """
    ag = _ag()
    from .data import train_val_split

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
        is_labels = _is_tensor(targets) and targets.dtype == ag.int64 and targets.ndim == 1
        data, val_data = train_val_split(*data, val_fraction=0.2, stratify=True if is_labels else None, seed=seed)
    names = list(param_grid)
    fit_kwargs = dict(fit_kwargs or {})

    def run(params, train, stage):
        ag.manual_seed(seed)
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
    coarse_data = data if coarse_fraction >= 1 else _subset(data, coarse_fraction, seed)
    stage_one = list(combos(param_grid))
    bar = _progress_bar(_progress_wanted(progress), len(stage_one), "grid search (coarse)")
    for params in stage_one:
        rows.append(run(params, coarse_data, "coarse"))
        if bar is not None:
            bar.set_postfix({score: f"{rows[-1][score]:.4g}"}, refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    result = GridSearchResult(rows, names, score, mode)
    if refine:
        best = result.best
        fine_grid = {n: _finer_values(list(param_grid[n]), best[n], n_fine) for n in names}
        stage_two = list(combos(fine_grid))
        bar = _progress_bar(_progress_wanted(progress), len(stage_two), "grid search (fine)")
        for params in stage_two:
            rows.append(run(params, data, "fine"))
            if bar is not None:
                bar.set_postfix({score: f"{rows[-1][score]:.4g}"}, refresh=False)
                bar.update(1)
        if bar is not None:
            bar.close()
        result = GridSearchResult(rows, names, score, mode)
    return result
