"""Deprecated name of :mod:`autograd_core.preprocessing` (scalers, train_val_split, one_hot).

Renamed because `ag.data` read like PyTorch's `torch.utils.data` (Dataset, DataLoader), which is
`ag.utils.data` here. Importing this module warns once and gives the same objects.
"""

import warnings

from .preprocessing import *
from .preprocessing import __all__  # noqa: F401

warnings.warn(
    "autograd_core.data is renamed autograd_core.preprocessing (scalers, train_val_split, one_hot); "
    "import it from there. Dataset and DataLoader are in autograd_core.utils.data.",
    DeprecationWarning,
    stacklevel=2,
)
