"""How fit, evaluate and predict read data: a DataLoader, a Dataset or a tuple of tensors becomes a
DataLoader; a batch splits into (inputs..., targets); and the shape mistakes that broadcasting would
hide are caught before the loss."""

import numpy as np

from ..tensor import is_tensor
from ..utils.data import DataLoader, Dataset, TensorDataset


def _as_loader(data, batch_size, shuffle, op):
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)):
        if not data:
            raise ValueError(f"{op}: data is an empty tuple; expected (inputs, targets)")
        if all(is_tensor(t) or isinstance(t, np.ndarray) for t in data):
            try:
                data = TensorDataset(*data)
            except ValueError as exc:
                raise ValueError(f"{op}: {exc}") from None
        else:
            kinds = ", ".join(type(t).__name__ for t in data)
            raise TypeError(f"{op}: a data tuple must hold tensors or arrays (inputs..., targets), got ({kinds})")
    elif is_tensor(data) or isinstance(data, np.ndarray):
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
    return targets.shape[0] if is_tensor(targets) and targets.ndim > 0 else 1


def _check_output_target(outputs, targets, loss_fn):
    """Catch the shape mistakes that broadcasting would otherwise turn into a silently wrong loss."""
    if not (is_tensor(outputs) and is_tensor(targets)):
        return
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


def _loss_value(loss):
    if not is_tensor(loss):
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
