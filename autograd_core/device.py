"""ag.device and the accelerator queries (ag.cuda, ag.accelerator), with PyTorch's names.

autograd_core computes on the CPU only. A device object for another type can be made (as in PyTorch,
where `torch.device('cuda')` succeeds on a machine without a GPU), but every request to put data
there (`.to('cuda')`, `device='cuda'`, `.cuda()`) raises a RuntimeError that says so, instead of
silently computing on the CPU under a misleading name.
"""

# the device types PyTorch's parser accepts, so that a typo ('cdua') is reported as one
_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """A device: `device('cpu')`, `device('cpu:0')`, `device('cpu', 0)` or another device.

    `type` is the kind ('cpu') and `index` the ordinal or None. Two devices are equal when both
    match, so `device('cpu') != device('cpu:0')`, as in PyTorch."""

    __slots__ = ("_index", "_type")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index cannot be given with a device object")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            # torch.device(0) means the current accelerator's device 0; RuntimeError as in PyTorch
            raise RuntimeError(  # noqa: TRY004
                f"device({type}): an integer names an accelerator device, and autograd_core runs on the CPU only "
                "(no accelerator is available); use device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or a device, got {type.__class__.__name__}")
        text = type.strip()
        kind, sep, ordinal = text.partition(":")
        if kind not in _KNOWN_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_KNOWN_TYPES)} at the start of the device "
                               f"string, got {type!r}")
        if sep:
            if index is not None:
                raise RuntimeError(f"device: type (string) {type!r} already holds an index; got index={index} too")
            if not ordinal.isdigit() or (len(ordinal) > 1 and ordinal[0] == "0"):
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(ordinal)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device: index must be an int, got {index.__class__.__name__}")
            if index < 0:
                raise RuntimeError(f"device: index must be non-negative, got {index}")
        self._type, self._index = kind, index

    @property
    def type(self):
        """The device kind, e.g. ``'cpu'``."""
        return self._type

    @property
    def index(self):
        """The device ordinal, or None when not given."""
        return self._index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self):
        return hash((self._type, self._index))

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __reduce__(self):
        return (device, (str(self),))

    # `with ag.device('cpu'):` sets the default device in PyTorch; the CPU is the only one here
    def __enter__(self):
        check_device(self, "with device")
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def check_device(dev, op):
    """None if `dev` (None, a string, an int or a device) means the CPU; raises naming `op` otherwise."""
    if dev is None:
        return
    parsed = dev if isinstance(dev, device) else device(dev)
    if parsed.type != "cpu":
        raise_cpu_only(op, str(parsed))
    if parsed.index not in (None, 0):
        raise RuntimeError(f"{op}: device {str(parsed)!r} does not exist: there is one CPU device, 'cpu' "
                           "(or 'cpu:0')")


def raise_cpu_only(op, name):
    """Raise the RuntimeError every op gives for a device other than the CPU, naming ``op`` and the device
    ``name``.
    """
    raise RuntimeError(f"{op}: device {name!r} is not available: autograd_core runs on the CPU only "
                       "(ag.cuda.is_available() and ag.accelerator.is_available() are False); use "
                       "device='cpu' or leave the device out")


def is_device_like(obj):
    """True for what .to() reads as a device: a device object or a device string."""
    if isinstance(obj, device):
        return True
    return isinstance(obj, str) and obj.partition(":")[0] in _KNOWN_TYPES


def parse_to(args, kwargs, op):
    """Read PyTorch's .to() arguments: to(dtype), to(device), to(device, dtype), to(tensor), each
    with non_blocking=, copy= and memory_format= keywords. Checks the device; returns (dtype or
    None, copy). A tensor argument gives its dtype (its device is the CPU); an int is one of the
    library's own dtype codes (the internal spelling of to(dtype))."""
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}")
    flags = []
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)  # non_blocking, then copy, as in PyTorch's positional order
        elif is_device_like(arg):
            dev = arg
        elif hasattr(arg, "_dtype_code") and hasattr(arg, "shape"):
            dtype = arg.dtype
        elif arg is not None:
            dtype = arg
    if len(flags) > 1:
        copy = copy or flags[1]
    check_device(dev, op)
    return dtype, copy
