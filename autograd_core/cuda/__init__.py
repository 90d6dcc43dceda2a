"""ag.cuda: PyTorch's CUDA queries, answered for a library without a GPU.

What a PyTorch program calls to decide where to run behaves as in a PyTorch build without CUDA:
`is_available()` is False, `device_count()` 0, seeding and cache calls do nothing, memory queries
return 0; anything that needs a GPU raises a RuntimeError saying autograd_core runs on the CPU only.
"""


def _no_gpu(what):
    raise RuntimeError(f"ag.cuda.{what}: autograd_core runs on the CPU only and has no CUDA device "
                       "(ag.cuda.is_available() is False); use device='cpu'")


def is_available():
    return False


def is_initialized():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Does nothing, as in PyTorch without CUDA (seed the CPU generator with ag.manual_seed)."""
    int(seed)


def manual_seed_all(seed):
    """Does nothing, as in PyTorch without CUDA (seed the CPU generator with ag.manual_seed)."""
    int(seed)


def seed():
    pass


def seed_all():
    pass


def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def is_bf16_supported(including_emulation=True):
    return False


def current_device():
    _no_gpu("current_device()")


def set_device(device):
    _no_gpu(f"set_device({device!r})")


def get_device_name(device=None):
    _no_gpu("get_device_name()")


def get_device_properties(device=None):
    _no_gpu("get_device_properties()")


def get_device_capability(device=None):
    _no_gpu("get_device_capability()")


def synchronize(device=None):
    _no_gpu("synchronize()")


def init():
    _no_gpu("init()")
