"""Per-epoch metrics of fit and evaluate: each named metric is summed over the batches (or through
the epoch's confusion matrix) so the epoch value is exact, not a mean of batch values."""

import math
import numbers

import numpy as np

from ..metrics import class_pairs, confusion_matrix, scores_from_confusion
from ..tensor import is_tensor
from ._batches import _batch_size_of


def _accuracy_threshold(loss_fn):
    # probabilities (BCELoss after a sigmoid) split at 0.5; logits everywhere else split at 0
    return 0.5 if type(loss_fn).__name__ == "BCELoss" else 0.0


def _ignore_index(loss_fn):
    value = getattr(loss_fn, "ignore_index", None)
    return value if isinstance(value, numbers.Integral) else None


def _metric_accuracy(outputs, targets, loss_fn):
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
            total = float(value.item() if is_tensor(value) else value) * count
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
            average = "binary" if self.matrix.shape[0] == 2 else "macro"
            return float(scores_from_confusion(self.matrix, average)[self.name])
        mean = self.total / self.count
        return math.sqrt(mean) if self.name == "rmse" else mean
