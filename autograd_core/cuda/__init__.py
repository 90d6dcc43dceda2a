"""ag.cuda: PyTorch's CUDA queries, answered for a library without a GPU.

What a PyTorch program calls to decide where to run behaves as in a PyTorch build without CUDA:
`is_available()` is False, `device_count()` 0, seeding and cache calls do nothing, memory queries
return 0; anything that needs a GPU raises a RuntimeError saying autograd_core runs on the CPU only.
"""


def _no_gpu(what):
    raise RuntimeError(f"ag.cuda.{what}: autograd_core runs on the CPU only and has no CUDA device "
                       "(ag.cuda.is_available() is False); use device='cpu'")


def is_available():
    """False: autograd_core has no CUDA device, so ``'cuda' if ag.cuda.is_available() else 'cpu'`` picks the
    CPU.
    """
    return False


def is_initialized():
    """False: there is no CUDA context."""
    return False


def device_count():
    """0: there is no CUDA device."""
    return 0


def manual_seed(seed):
    """Does nothing, as in PyTorch without CUDA (seed the CPU generator with ag.manual_seed)."""
    int(seed)


def manual_seed_all(seed):
    """Does nothing, as in PyTorch without CUDA (seed the CPU generator with ag.manual_seed)."""
    int(seed)


def seed():
    """Does nothing, as in PyTorch without CUDA."""
    pass


def seed_all():
    """Does nothing, as in PyTorch without CUDA."""
    pass


def empty_cache():
    """Does nothing: there is no GPU memory cache."""
    pass


def memory_allocated(device=None):
    """0: no GPU memory is in use."""
    return 0


def max_memory_allocated(device=None):
    """0: no GPU memory is in use."""
    return 0


def memory_reserved(device=None):
    """0: no GPU memory is reserved."""
    return 0


def max_memory_reserved(device=None):
    """0: no GPU memory is reserved."""
    return 0


def is_bf16_supported(including_emulation=True):
    """False: there is no CUDA device (and no bfloat16 dtype)."""
    return False


def current_device():
    """Raise a RuntimeError: there is no CUDA device."""
    _no_gpu("current_device()")


def set_device(device):
    """Raise a RuntimeError: there is no CUDA device to select."""
    _no_gpu(f"set_device({device!r})")


def get_device_name(device=None):
    """Raise a RuntimeError: there is no CUDA device to name."""
    _no_gpu("get_device_name()")


def get_device_properties(device=None):
    """Raise a RuntimeError: there is no CUDA device."""
    _no_gpu("get_device_properties()")


def get_device_capability(device=None):
    """Raise a RuntimeError: there is no CUDA device."""
    _no_gpu("get_device_capability()")


def synchronize(device=None):
    """Raise a RuntimeError: there is no CUDA device to wait for."""
    _no_gpu("synchronize()")


def init():
    """Raise a RuntimeError: CUDA cannot be initialised without a GPU."""
    _no_gpu("init()")
