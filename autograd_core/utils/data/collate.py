"""default_collate (joins samples into a batch) and default_convert (for unbatched loading), as
torch.utils.data's."""
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ...dtypes import bool_ as _bool
from ...dtypes import float32 as _float32
from ...dtypes import int64 as _int64
from ...ops.creation import from_numpy
from ...ops.creation import tensor as _tensor
from ...ops.shape import stack as _stack
from ...tensor import is_tensor

__all__ = ["default_collate", "default_convert"]


def default_collate(batch):
    """Join a list of samples into one batch.

    Tensors are stacked along a new first axis; python ints/floats/bools become int64/float32/bool
    tensors; NumPy arrays are stacked into tensors; tuples, lists and dicts are collated field by
    field (a batch of (x, y) pairs gives (X, Y)); strings stay a list.
    """
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise ValueError("default_collate: expected a non-empty list of samples")
    first = batch[0]
    if is_tensor(first):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: cannot stack tensors of different shapes {sorted(shapes)}")
        return _stack(list(batch))
    if isinstance(first, (np.ndarray, np.generic)):
        return from_numpy(np.ascontiguousarray(np.stack([np.asarray(b) for b in batch])))
    if isinstance(first, bool):
        return _tensor(list(batch), dtype=_bool)
    if isinstance(first, numbers.Integral):
        return _tensor([int(b) for b in batch], dtype=_int64)
    if isinstance(first, numbers.Real):
        return _tensor([float(b) for b in batch], dtype=_float32)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields {sorted(sizes)}")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")




def default_convert(data):
    """What DataLoader does to each sample when batch_size=None: NumPy arrays become tensors,
    containers are converted field by field, everything else is left as it is."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return from_numpy(np.ascontiguousarray(data))
    if isinstance(data, Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()}) if isinstance(data, dict) \
            else {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data
