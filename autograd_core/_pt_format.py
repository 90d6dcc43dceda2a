"""PyTorch's checkpoint format (what torch.save writes since 1.6), read and written without torch.

A zip archive, every member stored uncompressed under one top-level folder (`archive/` here):
  data.pkl        the object, pickled with protocol 2; each tensor is a call of
                  torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
                  whose storage is a persistent id ('storage', torch.<Kind>Storage, key, location, numel)
  data/<key>      the raw bytes of each storage
  byteorder       'little' or 'big';  version, .format_version, .storage_alignment: format markers

Writing uses the pure-Python pickler, whose dispatch table lets a tensor name PyTorch's rebuild
functions (torch._utils._rebuild_tensor_v2, torch.FloatStorage, torch.float32, ...) without torch
being importable, so a file this module writes loads in PyTorch and a PyTorch file loads here.

Reading uses the pure-Python unpickler too, because its opcode table can be restricted: with
weights_only every global goes through an allowlist, and BUILD (setting an object's state) is
admitted only on instances of allowlisted classes, never on a class or a function. Storages are
checked against their declared sizes, and each tensor's size/stride/offset against its storage,
before any memory is touched.
"""
import _compat_pickle
import importlib
import io
import pickle
import zipfile
from collections import OrderedDict
from typing import ClassVar

import numpy as np

from . import _core, tensor
from ._core import Size
from .device import device, parse_to, raise_cpu_only
from .dtypes import _by_name, dtype
from .nn import Parameter
from .tensor import Tensor

_PROTOCOL = 2
# torch storage class name -> (numpy dtype of the bytes in the file, numpy dtype it loads as)
_STORAGE_TYPES = {
    "FloatStorage": ("<f4", "float32"),
    "DoubleStorage": ("<f8", "float64"),
    "LongStorage": ("<i8", "int64"),
    "IntStorage": ("<i4", "int32"),
    "ByteStorage": ("u1", "uint8"),
    "BoolStorage": ("?", "bool"),
    "HalfStorage": ("<f2", "float16"),
    "BFloat16Storage": ("<u2", "bfloat16"),  # NumPy has no bfloat16: read as float32 (exact), stored as bfloat16
    # no int8/int16 here: they load widened, exactly (every value is kept)
    "CharStorage": ("i1", "int32"),
    "ShortStorage": ("<i2", "int32"),
}
_STORAGE_OF = {"float32": "FloatStorage", "float64": "DoubleStorage", "int64": "LongStorage", "int32": "IntStorage",
               "uint8": "ByteStorage", "bool": "BoolStorage", "float16": "HalfStorage"}
_TORCH_DTYPES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
                 "int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "uint8": "uint8", "bool": "bool",
                 "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int8": "int32", "int16": "int32"}
_MAX_DIMS = 16
_MAX_PICKLE = 1 << 30


class FormatError(ValueError):
    """Raised inside this module; serialization.load turns it into SerializationError."""


# ------------------------------------------------------------------------------------------ writing
class _Global:
    """A reference to a module-level name, pickled as the GLOBAL opcode whether or not the module
    can be imported here (torch need not be installed to name torch._utils._rebuild_tensor_v2)."""

    _cache: ClassVar[dict] = {}

    def __init__(self, module, name):
        self.module, self.name = module, name

    @classmethod
    def of(cls, module, name):
        key = (module, name)
        if key not in cls._cache:
            cls._cache[key] = cls(module, name)
        return cls._cache[key]

    def __call__(self, *args):  # save_reduce insists on a callable
        raise TypeError(f"{self.module}.{self.name} is a name written into a pickle, not a function")


class _StorageRef:
    __slots__ = ("key", "kind", "numel")

    def __init__(self, key, kind, numel):
        self.key, self.kind, self.numel = key, kind, numel


class _Writer(pickle._Pickler):
    """Pickles tensors, parameters, dtypes, devices and numpy arrays under PyTorch's names; anything
    else the ordinary way (a module, an optimizer, a user's class).

    Each tensor object is written once (the pickle memo makes a second reference, a tied weight
    say, point at the first) as a contiguous storage of its own: two different views of one
    storage come back as two tensors that no longer share memory."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, storages):
        super().__init__(file, protocol=_PROTOCOL)
        self.storages = storages  # key -> contiguous numpy array
        self.keep = []            # temporaries whose id() the memo holds stay alive until the end

    def _save_global_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_Global] = _save_global_name

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _Global.of("torch", obj.kind), obj.key, "cpu", obj.numel)
        return None

    def _storage(self, array, kind=None):
        array = np.ascontiguousarray(array).reshape(-1)
        ref = _StorageRef(str(len(self.storages)), kind or _STORAGE_OF[array.dtype.name], int(array.size))
        self.storages[ref.key] = array
        return ref

    def save(self, obj, save_persistent_id=True):
        if type(obj) is dtype:  # a dtype is a module-level name, torch.float32
            obj = _Global.of("torch", obj.name)
        super().save(obj, save_persistent_id)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if isinstance(obj, Parameter):
                data = obj.detach()
                self.keep.append(data)
                return (_Global.of("torch._utils", "_rebuild_parameter"), (data, obj.requires_grad, OrderedDict()))
            if obj.dtype.name == "bfloat16":  # its bits: the top half of each float32 value, which holds it exactly
                bits = (np.asarray(obj.detach().float()).view(np.uint32) >> 16).astype(np.uint16)
                ref = self._storage(bits, "BFloat16Storage")
            else:
                ref = self._storage(np.asarray(obj.detach()))
            shape = tuple(int(n) for n in obj.shape)
            return (_Global.of("torch._utils", "_rebuild_tensor_v2"),
                    (ref, 0, shape, _contiguous_strides(shape), bool(obj.requires_grad), OrderedDict()))
        if isinstance(obj, device):
            return (_Global.of("torch", "device"), (str(obj),))
        if isinstance(obj, Size):
            return (_Global.of("torch", "Size"), (tuple(int(n) for n in obj),))
        if isinstance(obj, np.ndarray) and obj.dtype.name in _STORAGE_OF:
            return (_Global.of("autograd_core.serialization", "_rebuild_ndarray"),
                    (self._storage(obj.astype(obj.dtype.newbyteorder("<"), copy=False)), tuple(obj.shape)))
        return NotImplemented


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(tuple(shape)):
        strides.append(step)
        step *= max(int(n), 1)
    return tuple(reversed(strides))


_ALIGNMENT = 64


def _aligned_info(name, offset, size):
    """A ZipInfo whose data will start on a 64-byte boundary of the file (what .storage_alignment
    promises, and what torch.load(mmap=True) maps): the local header's extra field is padded, as
    PyTorch's writer pads it."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    if size < zipfile.ZIP64_LIMIT:  # (a zip64 record adds its own extra field; left unaligned)
        header = 30 + len(name.encode("utf-8"))
        pad = (-(offset + header + 4)) % _ALIGNMENT
        info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    return info


def write(obj, out, extra_records=None):
    """Write obj in PyTorch's zip format to the binary file object `out`."""
    storages = {}
    buffer = io.BytesIO()
    writer = _Writer(buffer, storages)
    writer.dump(obj)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/.format_version", "1")
        archive.writestr("archive/.storage_alignment", "64")
        archive.writestr("archive/byteorder", "little")
        for key, array in storages.items():
            data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
            archive.writestr(_aligned_info(f"archive/data/{key}", out.tell(), len(data)), data)
        for name, payload in (extra_records or {}).items():
            archive.writestr(f"archive/{name}", payload)
        archive.writestr("archive/version", "3\n")


# ------------------------------------------------------------------------------------------ reading
def _rebuild_ndarray(storage, shape):
    """Rebuild a numpy array written by write(): its storage, reshaped."""
    array = storage.array if isinstance(storage, _LoadedStorage) else storage
    shape = _check_shape(shape, "ndarray shape")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count != array.size:
        raise FormatError(f"an array of shape {shape} does not match its storage of {array.size} elements")
    return array.reshape(shape).copy()


class _LoadedStorage:
    """A storage read from the archive: the values (numpy, already widened) and, made on first use,
    the tensor of the whole storage that every view of it shares."""

    __slots__ = ("array", "dtype", "location", "tensor")

    def __init__(self, array, location, dtype=None):
        # dtype: the tensor dtype when it differs from the array's (bfloat16, read as float32)
        self.array, self.location, self.dtype, self.tensor = array, location, dtype, None

    # what a map_location function may call on the storage it is given
    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise_cpu_only("map_location (storage.cuda())", "cuda")

    def to(self, *args, **kwargs):
        parse_to(args, kwargs, "map_location (storage.to())")
        return self


def _check_shape(values, what):
    if not isinstance(values, (tuple, list)) or len(values) > _MAX_DIMS:
        raise FormatError(f"{what} must be a tuple of at most {_MAX_DIMS} ints, got {values!r:.80}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise FormatError(f"{what} must hold non-negative ints, got {values!r:.80}")
        out.append(v)
    return tuple(out)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, _LoadedStorage):
        raise FormatError("a tensor's storage is not a storage record of the archive")
    size = _check_shape(size, "tensor size")
    stride = _check_shape(stride, "tensor stride")
    if len(size) != len(stride):
        raise FormatError(f"tensor size {size} and stride {stride} differ in length")
    if isinstance(storage_offset, bool) or not isinstance(storage_offset, int) or storage_offset < 0:
        raise FormatError(f"tensor storage offset must be a non-negative int, got {storage_offset!r:.40}")
    numel = storage.array.size
    if all(size):
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise FormatError(f"a tensor of size {size}, stride {stride} and offset {storage_offset} reaches "
                              f"outside its storage of {numel} elements")
    if storage.tensor is None:
        storage.tensor = tensor(storage.array if numel else storage.array.copy(), dtype=storage.dtype)
    t = _core.as_strided(storage.tensor, size, stride, storage_offset) if numel else \
        tensor(np.zeros(size, storage.array.dtype), dtype=storage.dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks=None, *state):
    if not isinstance(data, Tensor):
        raise FormatError("a parameter's data is not a tensor")
    return Parameter(data, requires_grad=bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad)


def _torch_dtype(name):
    return _by_name(_TORCH_DTYPES[name])


def _torch_device(spec, index=None):
    return device(spec, index)


def _torch_size(values=()):
    return Size(_check_shape(tuple(values), "torch.Size"))


def _latin1_encode(text, encoding="latin1"):
    """_codecs.encode as protocol-2 pickles use it for bytes; only that use is admitted."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise FormatError("_codecs.encode is admitted only for the latin1 encoding of bytes")
    return text.encode("latin1")


class _StorageType:
    def __init__(self, name):
        self.name = name


def builtin_globals():
    """(module, name) -> object for the globals a PyTorch state dict or checkpoint needs; safe to
    call with any arguments."""
    table = {
        ("collections", "OrderedDict"): OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("_codecs", "encode"): _latin1_encode,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch", "device"): _torch_device,
        ("torch", "Size"): _torch_size,
        ("autograd_core.serialization", "_rebuild_ndarray"): _rebuild_ndarray,
    }
    for name in _STORAGE_TYPES:
        table[("torch", name)] = _StorageType(name)
    for name in _TORCH_DTYPES:
        table[("torch", name)] = _torch_dtype(name)
    return table


_BUILTIN = None


def _builtin():
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = builtin_globals()
    return _BUILTIN


class _Reader(pickle._Unpickler):
    """The unpickler for data.pkl. weights_only: globals from the allowlist only, BUILD only on
    instances of allowlisted classes or of the containers; otherwise torch.* names that have an
    equivalent here resolve to it and the rest is ordinary (unsafe) unpickling."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, data, storages, weights_only, allowed):
        super().__init__(io.BytesIO(data))
        self.storages = storages
        self.weights_only = weights_only
        self.allowed = allowed
        self.allowed_classes = tuple(v for v in allowed.values() if isinstance(v, type))

    def find_class(self, module, name):
        if self.proto < 3:
            # protocol 2 names Python 2's modules (__builtin__.set): read them as Python 3's
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        if key in self.allowed:
            return self.allowed[key]
        builtin = _builtin()
        if key in builtin:
            return builtin[key]
        if self.weights_only:
            raise FormatError(f"weights_only load refused the global {module}.{name}: only tensors, containers, "
                              "numbers, strings and allowlisted globals are loaded. If you trust this file, "
                              f"allow it with ag.serialization.add_safe_globals([{name}]) (or the "
                              "safe_globals context manager), or load with weights_only=False")
        if module == "torch" or module.startswith("torch."):
            return _torch_equivalent(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
            raise FormatError(f"unknown persistent id {pid!r:.80}")
        _, kind, key, location, numel = pid
        if not isinstance(kind, _StorageType):
            raise FormatError(f"unknown storage type {kind!r:.80}")
        if not isinstance(key, str) or not isinstance(location, str):
            raise FormatError(f"malformed storage reference {pid!r:.80}")
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise FormatError(f"malformed storage size {numel!r:.40}")
        return self.storages(key, kind.name, location, numel)

    def load_build(self):
        if self.weights_only:
            state = self.stack[-1]
            inst = self.stack[-2]
            if isinstance(inst, type) or callable(inst) and not isinstance(inst, self.allowed_classes):
                raise FormatError(f"weights_only load refused to set the state of {type(inst).__name__}")
            if not isinstance(inst, (OrderedDict, *self.allowed_classes)):
                raise FormatError(f"weights_only load refused to set the state of a {type(inst).__name__}")
            if isinstance(inst, OrderedDict) and type(inst) is OrderedDict:
                # PyTorch's state dicts carry a _metadata attribute: an OrderedDict keeps it as a key
                # of its __dict__, which plain OrderedDict instances have
                if not isinstance(state, dict):
                    raise FormatError("weights_only load: an OrderedDict's state must be a dict")
                self.stack.pop()
                for k, v in state.items():
                    if not isinstance(k, str) or k.startswith("__"):
                        raise FormatError(f"weights_only load refused the attribute {k!r:.40}")
                    inst.__dict__[k] = v
                return
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build


def _torch_equivalent(module, name):
    """For weights_only=False: torch.nn.modules.linear.Linear -> autograd_core.nn.modules.linear.Linear."""
    ours = "autograd_core" + module[len("torch"):]
    try:
        return getattr(importlib.import_module(ours), name)
    except (ImportError, AttributeError):
        raise FormatError(f"this file needs the PyTorch class or function {module}.{name}, which autograd_core "
                          "does not provide") from None


def is_zip(data):
    return data[:4] == b"PK\x03\x04"


def read(data, name, weights_only, allowed, map_storage):
    """Load the object of a PyTorch zip checkpoint held in the bytes `data`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable zip archive ({exc})") from None
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise FormatError("no data.pkl record: not a PyTorch checkpoint")
    prefix = pkl[0][: -len("data.pkl")]
    infos = {i.filename: i for i in archive.infolist()}
    for info in infos.values():
        if info.compress_type != zipfile.ZIP_STORED:
            # PyTorch stores every record uncompressed; a compressed one could inflate without bound
            raise FormatError(f"record {info.filename!r:.60} is compressed, which PyTorch's format never is")
    byteorder = "little"
    if prefix + "byteorder" in infos:
        byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise FormatError(f"unknown byteorder {byteorder!r:.20}")
    if infos[pkl[0]].file_size > _MAX_PICKLE:
        raise FormatError("data.pkl is larger than 1 GiB")
    loaded = {}

    def storage(key, kind, location, numel):
        if key in loaded:
            return loaded[key]
        record = prefix + "data/" + key
        info = infos.get(record)
        if info is None:
            raise FormatError(f"storage record data/{key!r:.40} is missing")
        file_type, load_type = _STORAGE_TYPES[kind]
        itemsize = np.dtype(file_type).itemsize
        if info.file_size != numel * itemsize:
            raise FormatError(f"storage data/{key} holds {info.file_size} bytes, its header says {numel} elements of "
                              f"{itemsize} bytes")
        raw = np.frombuffer(archive.read(record), dtype=file_type)
        if byteorder == "big" and itemsize > 1:
            raw = raw.byteswap()
        if kind == "BFloat16Storage":
            values = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            values = raw.astype(load_type)
        loaded[key] = map_storage(_LoadedStorage(values, location, "bfloat16" if kind == "BFloat16Storage" else None))
        return loaded[key]

    reader = _Reader(archive.read(pkl[0]), storage, weights_only, allowed)
    return reader.load()
