"""Classification metrics from model outputs: confusion matrix, precision, recall, F1, IoU, accuracy.

Outputs and targets may come in every layout cross_entropy accepts: (N, C) scores with (N,) class
indices, (N, C, L) sequences with (N, L), (N, C, H, W) segmentation with (N, H, W), or class
probabilities / one-hot targets of the outputs' own shape. A single score per sample ((N,), (N, 1),
(N, 1, H, W)) is a binary problem, split at `threshold` (0 for logits, 0.5 for probabilities).
Targets equal to `ignore_index` count nowhere, as in the loss.

    cm = ag.metrics.confusion_matrix(model(x), y)      # rows: true class, columns: predicted
    ag.metrics.f1_score(model(x), y, average="macro")
"""

import numpy as np

__all__ = ["accuracy", "class_pairs", "confusion_matrix", "f1_score", "iou", "precision", "recall",
           "scores_from_confusion"]


def _numpy(x):
    if hasattr(x, "detach"):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def class_pairs(outputs, targets, threshold=0.0, ignore_index=None, who="metric"):
    """(predicted, true, n_classes): flat int64 arrays of the predicted and true class of each scored
    element, and the number of classes the outputs can express (2 for a single binary score)."""
    out, tgt = _numpy(outputs), _numpy(targets)
    if out.ndim == 0:
        raise ValueError(f"{who}: outputs must have a batch dimension, got a 0-d output")
    integer_targets = np.issubdtype(tgt.dtype, np.integer) or tgt.dtype == np.bool_
    if out.ndim >= 2 and out.shape[1] > 1:
        n_classes = out.shape[1]
        predicted = out.argmax(axis=1)
        if tgt.shape == out.shape and not integer_targets:  # probabilities or one-hot rows
            true = tgt.argmax(axis=1)
        elif tgt.shape == predicted.shape:
            true = tgt.astype(np.int64)
        else:
            layouts = f"class indices of shape {predicted.shape} or probabilities of shape {out.shape}"
            raise ValueError(f"{who}: outputs {out.shape} and targets {tgt.shape} do not pair up; for "
                             f"(N, C, ...) scores the targets must be {layouts}")
    else:
        n_classes = 2
        scores = out[:, 0] if out.ndim >= 2 else out  # (N, 1, ...) -> (N, ...)
        if tgt.shape == out.shape and out.ndim >= 2:
            tgt = tgt[:, 0]
        if tgt.shape != scores.shape:
            raise ValueError(f"{who}: one score per element needs targets of shape {scores.shape} or "
                             f"{out.shape}, got outputs {out.shape} and targets {tgt.shape}")
        predicted = (scores > threshold).astype(np.int64)
        true = tgt.astype(np.int64) if integer_targets else (tgt >= 0.5).astype(np.int64)
    predicted, true = predicted.reshape(-1).astype(np.int64), true.reshape(-1)
    if ignore_index is not None and integer_targets:
        keep = true != ignore_index
        predicted, true = predicted[keep], true[keep]
    if true.size and (true.min() < 0 or true.max() >= n_classes):
        raise ValueError(f"{who}: target classes must lie in [0, {n_classes}), got values from {true.min()} "
                         f"to {true.max()}")
    return predicted, true, n_classes


def confusion_matrix(outputs, targets, num_classes=None, threshold=0.0, ignore_index=None):
    """(C, C) int64 NumPy array whose [i, j] counts elements of true class i predicted as class j.

    outputs: scores (logits or probabilities) in any layout cross_entropy accepts, see the module.
    num_classes: defaults to what the outputs can express (C, or 2 for one binary score).
    """
    predicted, true, n_classes = class_pairs(outputs, targets, threshold, ignore_index, "confusion_matrix")
    n = n_classes if num_classes is None else int(num_classes)
    if n < n_classes:
        raise ValueError(f"confusion_matrix: num_classes={n} is smaller than the {n_classes} classes of the outputs")
    return np.bincount(true * n + predicted, minlength=n * n).reshape(n, n)


def scores_from_confusion(matrix, average="macro"):
    """{"accuracy", "precision", "recall", "f1", "iou"} from a confusion matrix.

    average: "binary" (class 1 of a 2-class matrix), "macro" (unweighted mean over the classes that
    occur in the targets or the predictions), "micro" (from the pooled counts), or None (one value
    per class, as arrays). A class with no predicted (or no true) element has precision (recall) 0.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"scores_from_confusion: expected a square matrix, got shape {matrix.shape}")
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    fp, fn = predicted - tp, actual - tp
    total = matrix.sum()
    accuracy = tp.sum() / total if total else float("nan")

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    if average == "micro":
        p = r = tp.sum() / total if total else 0.0
        return {"accuracy": accuracy, "precision": p, "recall": r, "f1": p,
                "iou": ratio(tp.sum(), tp.sum() + fp.sum() + fn.sum())}
    per_class = {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
                 "f1": ratio(2 * tp, 2 * tp + fp + fn), "iou": ratio(tp, tp + fp + fn)}
    if average is None:
        return {"accuracy": accuracy, **per_class}
    if average == "binary":
        if matrix.shape[0] != 2:
            raise ValueError(f"scores_from_confusion: average='binary' needs 2 classes, got {matrix.shape[0]}")
        return {"accuracy": accuracy, **{k: float(v[1]) for k, v in per_class.items()}}
    if average != "macro":
        raise ValueError(f"scores_from_confusion: average must be 'binary', 'macro', 'micro' or None, got {average!r}")
    present = (actual + predicted) > 0
    if not present.any():
        return {"accuracy": accuracy, **{k: float("nan") for k in per_class}}
    return {"accuracy": accuracy, **{k: float(v[present].mean()) for k, v in per_class.items()}}


def _default_average(outputs):
    shape = _numpy(outputs).shape
    return "binary" if len(shape) < 2 or shape[1] == 1 else "macro"


def _score(name, outputs, targets, average, threshold, ignore_index):
    matrix = confusion_matrix(outputs, targets, threshold=threshold, ignore_index=ignore_index)
    return scores_from_confusion(matrix, _default_average(outputs) if average == "auto" else average)[name]


def accuracy(outputs, targets, threshold=0.0, ignore_index=None):
    """Fraction of elements whose predicted class is the target class."""
    predicted, true, _ = class_pairs(outputs, targets, threshold, ignore_index, "accuracy")
    return float((predicted == true).mean()) if true.size else float("nan")


def precision(outputs, targets, average="auto", threshold=0.0, ignore_index=None):
    """tp / (tp + fp): of the elements predicted as a class, the fraction that belong to it.
    average "auto" is "binary" for one score per element, else "macro" (see scores_from_confusion)."""
    return _score("precision", outputs, targets, average, threshold, ignore_index)


def recall(outputs, targets, average="auto", threshold=0.0, ignore_index=None):
    """tp / (tp + fn): of the elements of a class, the fraction predicted as it."""
    return _score("recall", outputs, targets, average, threshold, ignore_index)


def f1_score(outputs, targets, average="auto", threshold=0.0, ignore_index=None):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall."""
    return _score("f1", outputs, targets, average, threshold, ignore_index)


def iou(outputs, targets, average="auto", threshold=0.0, ignore_index=None):
    """Intersection over union (Jaccard index) tp / (tp + fp + fn); "macro" gives the mean IoU of
    segmentation, over the classes present in the targets or the predictions."""
    return _score("iou", outputs, targets, average, threshold, ignore_index)
