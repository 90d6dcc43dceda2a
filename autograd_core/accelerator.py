"""ag.accelerator: PyTorch's device-agnostic accelerator queries. autograd_core has no accelerator,
so `is_available()` is False and `current_accelerator()` None: a program written as
`device = ag.accelerator.current_accelerator().type if ag.accelerator.is_available() else "cpu"`
picks the CPU."""


def is_available():
    """False: autograd_core has no accelerator."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator (``check_available`` changes nothing)."""
    return None


def device_count():
    """0: there is no accelerator device."""
    return 0


def _none(what):
    raise RuntimeError(f"ag.accelerator.{what}: no accelerator is available (autograd_core runs on the CPU only)")


def current_device_index():
    """Raise a RuntimeError: there is no accelerator device."""
    _none("current_device_index()")


def set_device_index(device):
    """Raise a RuntimeError: there is no accelerator device to select."""
    _none(f"set_device_index({device!r})")


def synchronize(device=None):
    """Raise a RuntimeError: there is no accelerator to wait for."""
    _none("synchronize()")
