"""The training loop: fit, evaluate and predict, with progress bars, epoch lines and the
distributed (DistributedDataParallel) bookkeeping."""

import numbers
import os
import sys
import time

import numpy as np

from .. import distributed
from ..autograd.grad_mode import no_grad
from ..nn.parallel import DistributedDataParallel
from ..ops.creation import tensor
from ..ops.shape import cat
from ..tensor import is_tensor
from ..utils.data import DataLoader, Subset
from ..utils.data.distributed import DistributedSampler
from ._batches import _as_loader, _batch_size_of, _check_output_target, _loss_sum, _loss_value, _split_batch
from .callbacks import LRSchedulerCallback, _is_main_process
from .history import History
from .metrics import _MetricSum


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
        from tqdm import tqdm  # on first use: ~30 ms of import that runs without progress bars skip

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
    from tqdm.auto import tqdm  # on first use (see write above)

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



class _Distributed:
    """fit's data-parallel part: the DDP wrapper, this rank's share of the data, and the sums over ranks."""

    @classmethod
    def setup(cls, flag, model, loader, shuffle):
        if flag is None:
            flag = distributed.is_initialized() and distributed.get_world_size() > 1
        if not flag:
            return None
        if not distributed.is_initialized():
            distributed.init_process_group("mpi")
        return cls(model, loader, shuffle)

    def __init__(self, model, loader, shuffle):
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
        self.sampler.set_epoch(epoch - 1)
        if self.loader is self.given:
            return
        given = self.given
        self.loader = DataLoader(Subset(given.dataset, list(self.sampler)), batch_size=given.batch_size,
                                 drop_last=given.drop_last, collate_fn=given.collate_fn)

    def sum_over_ranks(self, loss_total, loss_count, penalty_total, sums):
        values = [loss_total, loss_count, penalty_total]
        sizes = []
        for m in sums:
            parts = m.parts()
            values += parts
            sizes.append(len(parts))
        both = tensor(values, dtype="float64")
        distributed.all_reduce(both)
        values = both.tolist()
        offset = 3
        for m, size in zip(sums, sizes):
            m.set_parts(values[offset:offset + size])
            offset += size
        return values[0], values[1], values[2]

    def agree(self, logs):
        shared = [logs]
        distributed.broadcast_object_list(shared, src=0)
        return shared[0]


def evaluate(model, loss_fn, data, metrics=(), batch_size=256):
    """Mean loss (and metrics) of `model` over `data`, in eval mode and without building graphs.

    Returns a dict such as {"loss": 0.31, "accuracy": 0.92}.
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    loader = _as_loader(data, batch_size, False, "evaluate")
    sums = [_MetricSum(m) for m in metrics]
    was_training = getattr(model, "training", False)
    model.eval()
    total = count = 0.0
    try:
        with no_grad():
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
    if is_tensor(data) or isinstance(data, np.ndarray):
        data = (data,)
    loader = _as_loader(data, batch_size, False, "predict")
    was_training = getattr(model, "training", False)
    model.eval()
    outputs = []
    try:
        with no_grad():
            for batch in loader:
                inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(model(inputs))
    finally:
        model.train(was_training)
    return cat(outputs, 0) if len(outputs) > 1 else outputs[0]
