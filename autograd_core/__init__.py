"""autograd_core: a small deep-learning engine with C kernels and a PyTorch-like API.

    import autograd_core as ag
    x = ag.randn(4, 3, requires_grad=True)
    (x @ x.T).sum().backward()
"""
__version__ = "0.1.0"

import os as _os

# OpenMP worker threads sleep instead of spinning between kernels unless the user says otherwise:
# measured on the 2-core CI machine under load, a LeNet training step took 40-80 ms (median) with
# spinning workers and 0.75 ms with passive ones; this must be set before the OpenMP runtime loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _core  # noqa: E402
from .dtypes import dtype, float32, float64, int64, int32, uint8, bool_, double, long  # noqa: F401
from .dtypes import bool_ as bool  # noqa: A001,F401
from .dtypes import float32 as float  # noqa: A001,F401
from .tensor import Tensor  # noqa: F401
from ._core import Size, set_num_threads, get_num_threads  # noqa: F401
from .ops.creation import *  # noqa: F401,F403
from .ops.unary import *  # noqa: F401,F403
from .ops.binary import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from . import autograd  # noqa: F401
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode  # noqa: F401
from . import nn, optim, utils  # noqa: F401
from .serialization import save, load  # noqa: F401
from . import data, datasets, train, viz  # noqa: F401

int = int32  # noqa: A001


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


def simd_target():
    """The SIMD code path the kernels use: 'avx2' or 'portable' (AGC_SIMD=portable forces it)."""
    return _core.simd_target()
