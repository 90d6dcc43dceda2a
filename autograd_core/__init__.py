"""autograd_core: a small deep-learning engine with C kernels and a PyTorch-like API.

    import autograd_core as ag
    x = ag.randn(4, 3, requires_grad=True)
    (x @ x.T).sum().backward()
"""
# ruff: noqa: I001, F401, F403, E402, A001
# (the order below is deliberate: the OpenMP setting before the extension loads, Tensor before the
# modules built on it)
__version__ = "0.1.0"

import os as _os

# OpenMP worker threads sleep instead of spinning between kernels unless the user says otherwise:
# measured on the 2-core CI machine under load, a LeNet training step took 40-80 ms (median) with
# spinning workers and 0.75 ms with passive ones; this must be set before the OpenMP runtime loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _core
from .dtypes import dtype, float32, float64, int64, int32, uint8, bool_, double, long
from .dtypes import bool_ as bool
from .dtypes import float32 as float
from .tensor import Tensor
from ._core import Size, set_num_threads, get_num_threads
from .ops.creation import *
from .ops.unary import *
from .ops.binary import *
from .ops.reduce import *
from .ops.shape import *
from .ops.linalg import *
from .ops.index import *
from . import autograd
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from . import nn, optim, utils
from .serialization import save, load
from . import data, datasets, train, viz

int = int32


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


def simd_target():
    """The SIMD code path the kernels use: 'avx2' or 'portable' (AGC_SIMD=portable forces it)."""
    return _core.simd_target()
