"""autograd_core: a small deep-learning engine with C kernels and a PyTorch-like API.

    import autograd_core as ag
    x = ag.randn(4, 3, requires_grad=True)
    (x @ x.T).sum().backward()
"""
# ruff: noqa: I001, F401, F403, E402, A001
# (the order below is deliberate: the OpenMP setting before the extension loads, Tensor before the
# modules built on it)
__version__ = "0.1.0"

import importlib as _importlib
import os as _os

# OpenMP worker threads spin briefly (GOMP_SPINCOUNT=10000, some 10-30 us) after a kernel, then
# sleep, unless the user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT: set before the OpenMP runtime
# loads. Measured on this project's 2-core machine (LeNet-5 training step on a batch of 64; float32
# 128^3 GEMM), brief spinning against sleeping at once (OMP_WAIT_POLICY=passive) and spinning
# always (active): quiet machine, step 3.45 ms vs 4.34 passive vs 3.85 always spinning, and
# the GEMM 25 us vs 36 us passive (a woken thread starts late); with two busy processes competing
# for the cores, step 8.5 ms vs 6.8 passive vs 8.9 (max 111 ms) always spinning.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "10000"

try:
    from . import _core
except ImportError:
    # without the compiled extension Python reports "partially initialized module ... (most likely due
    # to a circular import)", which sends users looking in the wrong place
    import glob as _glob

    _here = _os.path.dirname(_os.path.abspath(__file__))
    if _glob.glob(_os.path.join(_here, "_core*.so")) or _glob.glob(_os.path.join(_here, "_core*.pyd")):
        raise
    raise ImportError(
        f"autograd_core: the compiled extension autograd_core._core is not built in {_here}. This is a "
        "source checkout: build the extension in place with `python setup.py build_ext --inplace` (it needs a "
        "C compiler, Cython 3 and NumPy 2), or install the package with `pip install .`"
    ) from None
from .device import device
from . import accelerator, backends, cuda
from .dtypes import dtype, float32, float64, int64, int32, uint8, bool_, double, long
from .dtypes import float16, bfloat16, half
from .dtypes import get_default_dtype, set_default_dtype
from .dtypes import bool_ as bool
from .dtypes import float32 as float
from .tensor import Tensor, is_tensor
from ._core import Size, set_num_threads, get_num_threads, Generator, default_generator
from .ops.creation import *
from .ops.unary import *
from .ops.binary import *
from .ops.reduce import *
from .ops.shape import *
from .ops.linalg import *
from .ops.index import *
from .ops.sorting import *
from .ops.arrange import *
from .ops.special import *
from .ops.trig import *
from .ops import out as _out

_out.install(globals())
from . import autograd
from . import linalg
from .linalg import det, logdet, slogdet
inverse = linalg.TOP_LEVEL["inverse"]
pinverse = linalg.TOP_LEVEL["pinverse"]
cholesky = linalg.TOP_LEVEL["cholesky"]
matrix_power = linalg.matrix_power
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from . import nn, optim, utils
from .nn.functional import cdist
from .serialization import save, load
from ._format import set_printoptions, get_printoptions
from . import datasets, envs, metrics, preprocessing, train, viz
from . import onnx, serialization, vision
from . import distributed
from . import distributions, multiprocessing, special, testing
from . import sparse
from .sparse import sparse_coo_tensor, spmm
from .determinism import (use_deterministic_algorithms, are_deterministic_algorithms_enabled,
                          is_deterministic_algorithms_warn_only_enabled)
from .legacy import (FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor, ByteTensor, is_floating_point,
                     is_complex, is_nonzero)

int = int32


def numel(t):
    """The number of elements of ``t``: the product of its shape."""
    return t.numel()


def simd_target():
    """The SIMD code path the kernels use: 'avx2' or 'portable' (AGC_SIMD=portable forces it)."""
    return _core.simd_target()


def __getattr__(name):
    # ag.data, the old name of ag.preprocessing, is imported on first use so that only code still
    # using it sees its DeprecationWarning
    if name == "data":
        return _importlib.import_module(".data", __name__)
    raise AttributeError(f"module 'autograd_core' has no attribute {name!r}")
