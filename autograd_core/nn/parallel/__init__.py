"""ag.nn.parallel, as torch.nn.parallel. DataParallel splits a batch across GPUs in PyTorch; this
library runs on the CPU (whose cores the kernels already use through OpenMP), so DataParallel is a
documented pass-through: it holds the module and calls it on the whole batch. Multi-process
data-parallel training is DistributedDataParallel (distributed.py)."""
from ..module import Module
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


def _check_devices(device_ids, output_device, owner):
    for d in list(device_ids or []) + ([output_device] if output_device is not None else []):
        if str(d) not in ("cpu", "-1") and not (isinstance(d, int) and d < 0):
            raise RuntimeError(f"{owner}: device {d!r} is not available; autograd_core runs on the CPU only "
                               f"(leave device_ids and output_device unset)")


class DataParallel(Module):
    """Wraps `module` and runs it unchanged on the whole batch (see the package docstring); the
    wrapped module is `.module`, so state_dict keys start with 'module.' as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        _check_devices(device_ids, output_device, "DataParallel")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """module(*inputs, **module_kwargs), on the CPU (see DataParallel)."""
    _check_devices(device_ids, output_device, "data_parallel")
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
