"""Callbacks for fit: the hook base class, early stopping, checkpoints and LR schedulers."""

import math
import numbers
import os

from .. import distributed
from ..serialization import save
from .history import _resolve_mode


class Callback:
    """Hooks called by fit; override the ones you need. `state` is the running fit (see _FitState)."""

    def on_train_begin(self, state):
        """Called once before the first epoch."""

    def on_epoch_begin(self, state, epoch):
        """Called at the start of each epoch (``epoch`` counts from 0)."""

    def on_after_backward(self, state):
        """Gradients are in .grad and the optimizer has not stepped yet."""

    def on_batch_end(self, state, batch_index, logs):
        """Called after each optimizer step; ``logs`` holds the epoch's running ``loss`` (and metrics) so far.
        """

    def on_epoch_end(self, state, epoch, logs):
        """Called after each epoch's validation; ``logs`` holds the epoch's metrics (``loss``,
        ``val_loss``, ...). Set ``state.stop_training = True`` to end training.
        """

    def on_train_end(self, state):
        """Called once after the last epoch (also after an early stop)."""


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
            save(state.model.state_dict(), path)
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


def _is_main_process():
    """False on the ranks other than 0 of an initialised process group (they neither print nor save)."""
    return not distributed.is_initialized() or distributed.get_rank() == 0
