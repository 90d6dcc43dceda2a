"""ag.save / ag.load, with PyTorch's signatures, in two formats chosen by the file name.

- A path ending in `.safetensors`: the safetensors format. Nothing is pickled and loading never
  executes code. Every tensor is an entry named by its place in the object ("0.weight" for a state
  dict, "model.fc.bias" for {"model": state_dict}; "t<n>" where a name is not usable), so
  PyTorch's safetensors.torch.load_file reads a state dict under the parameter names. The object's
  structure is JSON in the metadata under "autograd_core.structure", where a tensor is
  {"__tensor__": name}, a tuple {"__tuple__": [...]}, a dict {"__dict__": [[key, value], ...]}
  (keys str, int, float, bool, None or tuples of them), a numpy array {"__ndarray__": name}, a
  dtype {"__dtype__": "float32"}. A safetensors file written by another program loads as a dict.
- Any other path, and file objects: PyTorch's own checkpoint format (a zip archive holding a
  pickle and the raw storages; see _pt_format.py), so `torch.load` reads what `ag.save` wrote and
  `ag.load` reads what `torch.save` wrote. Any picklable object can be saved: a whole model, an
  optimizer, a dict of tensors.

Loading a pickle can run code. `ag.load(f)` has weights_only=True by default: only tensors,
containers, numbers, strings and allowlisted globals (add_safe_globals, safe_globals) are accepted,
and a file asking for anything else raises SerializationError without running it.
`weights_only=False` unpickles anything: ONLY for files from a source you trust.

Saving to a path is atomic: the bytes go to a new temporary file in the same folder (a unique name
from tempfile.mkstemp, created exclusively, so a planted file or symlink is never followed), are
fsynced, then renamed over the target. A reader sees the old file or the new one, never a part;
a failed or interrupted save leaves the old file and removes its temporary file.
"""
import contextlib
import io
import json
import os
import pickle
import struct
import tempfile
import threading
import zipfile
from collections import OrderedDict

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from . import _pt_format, from_numpy
from .device import check_device
from .dtypes import _NAMES
from .dtypes import dtype as ag_dtype
from .tensor import Tensor

_FORMAT_KEY = "autograd_core.format"
_STRUCT_KEY = "autograd_core.structure"
_USER_KEY = "autograd_core.user"
_FORMAT = "autograd_core/1"
_MAX_HEADER = 100 * 1024 * 1024
_ZIP_METADATA = "autograd_core.metadata.json"


def _c_array(a):
    """C-contiguous array keeping 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")



class SerializationError(ValueError, pickle.UnpicklingError):
    """A file that ag.load cannot or will not read: truncated, corrupted, inconsistent, or (with
    weights_only) asking for a global that is not allowlisted."""


# ------------------------------------------------------------------------------ allowlisted globals
_safe_lock = threading.Lock()
_safe = {}  # (module, name) -> object, for the whole process as in PyTorch


def _global_key(entry):
    if isinstance(entry, tuple):
        if len(entry) != 2 or not isinstance(entry[1], str) or "." not in entry[1]:
            raise TypeError(f"add_safe_globals: expected an object or (object, 'module.name'), got {entry!r}")
        module, _, name = entry[1].rpartition(".")
        return (module, name), entry[0]
    module = getattr(entry, "__module__", None)
    name = getattr(entry, "__qualname__", None) or getattr(entry, "__name__", None)
    if not module or not name:
        raise TypeError(f"add_safe_globals: {entry!r} has no module-level name; pass (object, 'module.name')")
    return (module, name), entry


def add_safe_globals(safe_globals):
    """Allow these classes and functions (or (object, "module.name") pairs) in weights_only loads."""
    pairs = [_global_key(entry) for entry in safe_globals]
    with _safe_lock:
        _safe.update(pairs)


def get_safe_globals():
    """The globals add_safe_globals allowed, as a list."""
    with _safe_lock:
        return list(_safe.values())


def clear_safe_globals():
    """Forget every global allowed with :func:`add_safe_globals`."""
    with _safe_lock:
        _safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Allow these globals in weights_only loads inside the with block only."""
    with _safe_lock:
        before = dict(_safe)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        with _safe_lock:
            _safe.clear()
            _safe.update(before)


def _rebuild_ndarray(storage, shape):
    """Rebuilds a numpy array that ag.save wrote into a PyTorch-format file."""
    return _pt_format._rebuild_ndarray(storage, shape)


def _tensor_cls():
    return Tensor


def _entry_name(tensors, name):
    """The safetensors entry for a tensor found at `name` (its dotted place in the object), or a
    fresh "t<n>" where that name is unusable or taken."""
    if name and not name.startswith("__") and name not in tensors:
        return name
    n = len(tensors)
    while f"t{n}" in tensors:
        n += 1
    return f"t{n}"


def _child_name(name, key):
    if name is None or isinstance(key, bool) or not isinstance(key, (str, int)):
        return None
    return f"{name}.{key}" if name else str(key)


def _encode(obj, tensors, memo, path, name=""):
    Tensor = _tensor_cls()
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, Tensor):
        key = memo.get(id(obj))
        if key is None:
            key = _entry_name(tensors, name)
            memo[id(obj)] = key
            if obj.dtype.name == "bfloat16":
                raise TypeError(f"ag.save: a bfloat16 tensor cannot be written to safetensors here (its writer "
                                f"goes through NumPy, which has no bfloat16); save to a .pt path, or convert "
                                f"with .float() (at {path})")
            tensors[key] = _c_array(obj.detach().numpy())
        entry = {"__tensor__": key}
        if obj.requires_grad:
            entry["requires_grad"] = True
        return entry
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f"ag.save: numpy object arrays cannot be saved (at {path})")
        key = memo.get(id(obj))
        if key is None:
            key = _entry_name(tensors, name)
            memo[id(obj)] = key
            tensors[key] = _c_array(obj)
        return {"__ndarray__": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                raise TypeError(f"ag.save: dict keys must be str, int, float, bool, None or tuples, got "
                                f"{type(k).__name__} at {path}")
            items.append([_encode(k, tensors, memo, path, None),
                          _encode(v, tensors, memo, f"{path}[{k!r}]", _child_name(name, k))])
        out = {"__dict__": items}
        if isinstance(obj, OrderedDict):
            out["ordered"] = True
        return out
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, memo, f"{path}[{i}]", _child_name(name, i))
                              for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, tensors, memo, f"{path}[{i}]", _child_name(name, i)) for i, v in enumerate(obj)]
    if isinstance(obj, ag_dtype):
        return {"__dtype__": obj.name}
    raise TypeError(f"ag.save: cannot save an object of type {type(obj).__name__} at {path} in a .safetensors "
                    "file; supported there are tensors, numpy arrays, dicts, lists, tuples, str, int, float, bool "
                    "and None (save whole objects such as models to another file name, e.g. model.pt, which "
                    "uses PyTorch's format)")


def _is_safetensors(f):
    if hasattr(f, "write") or hasattr(f, "read"):
        return False
    return os.fspath(f).lower().endswith(".safetensors")


def _safetensors_bytes(obj, metadata):
    tensors = {}
    structure = _encode(obj, tensors, {}, "obj")
    meta = {_FORMAT_KEY: _FORMAT, _STRUCT_KEY: json.dumps(structure)}
    if metadata is not None:
        meta[_USER_KEY] = _metadata_json(metadata)
    return st_save(tensors, metadata=meta)


def _metadata_json(metadata):
    try:
        return json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"ag.save: metadata must be JSON-serialisable: {exc}") from None


def _pytorch_bytes(obj, metadata, protocol):
    if protocol != 2:
        raise ValueError(f"ag.save: pickle_protocol {protocol} is not supported; PyTorch's format uses 2")
    extra = {_ZIP_METADATA: _metadata_json(metadata)} if metadata is not None else None
    out = io.BytesIO()
    try:
        _pt_format.write(obj, out, extra)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(f"ag.save: cannot pickle {type(obj).__name__}: {exc}") from exc
    return out.getvalue()


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False, *, metadata=None):
    """Save obj to f (a path or a binary file object).

    A path ending in .safetensors gets the safetensors format (tensors and containers of them;
    no pickle). Anything else gets PyTorch's checkpoint format, which holds any picklable object
    (a model, an optimizer, a dict of tensors) and which torch.load reads. metadata: optional
    JSON-serialisable extra information, read back with load_metadata. Saving to a path is atomic."""
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("ag.save: only the standard pickle module is supported as pickle_module")
    if _is_safetensors(f):
        data = _safetensors_bytes(obj, metadata)
    else:
        data = _pytorch_bytes(obj, metadata, pickle_protocol)
    if hasattr(f, "write"):
        f.write(data)
        return
    _atomic_write(os.fspath(f), data)


def _new_file_mode(path):
    """The permissions a plain open() would give: the old file's, else 0o666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    umask = None
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if umask is None:
        umask = 0o022
    return 0o666 & ~umask


def _atomic_write(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # make the rename itself durable; not every platform can open a folder
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _read_bytes(f):
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"ag.load: no such file: {name!r}")
        with open(name, "rb") as fh:
            data = fh.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"ag.load: expected a binary file, got {type(data).__name__} from {name}")
    return bytes(data), name


def _parse_header(data, name):
    if len(data) < 8:
        raise SerializationError(f"ag.load: {name} is truncated or not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise SerializationError(f"ag.load: {name} is truncated or corrupted: header claims {n} bytes but the "
                                 f"file has {len(data) - 8} after the length field")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(f"ag.load: {name} is corrupted: its header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"ag.load: {name} is corrupted: header is not a JSON object")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise SerializationError(f"ag.load: {name} is corrupted: __metadata__ is not a JSON object")
    return header, meta


def _load_arrays(data, name):
    try:
        arrays = st_load(data)
    except (SafetensorError, ValueError, TypeError, OverflowError) as exc:
        raise SerializationError(f"ag.load: {name} is truncated or corrupted: {exc}") from None
    return arrays


def _decode(node, tensors, arrays, name):
    if isinstance(node, list):
        return [_decode(v, tensors, arrays, name) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        key = node["__tensor__"]
        if key not in tensors:
            raise SerializationError(f"ag.load: {name} is corrupted: structure refers to a missing tensor {key!r}")
        t = tensors[key]
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in node:
        key = node["__ndarray__"]
        if key not in arrays:
            raise SerializationError(f"ag.load: {name} is corrupted: structure refers to a missing array {key!r}")
        return arrays[key]
    if "__tuple__" in node:
        return tuple(_decode(v, tensors, arrays, name) for v in node["__tuple__"])
    if "__dict__" in node:
        out = OrderedDict() if node.get("ordered") else {}
        for pair in node["__dict__"]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise SerializationError(f"ag.load: {name} is corrupted: malformed dict entry {pair!r}")
            key = _decode(pair[0], tensors, arrays, name)
            if isinstance(key, list):
                raise SerializationError(f"ag.load: {name} is corrupted: a dict key decodes to a list")
            out[key] = _decode(pair[1], tensors, arrays, name)
        return out
    if "__dtype__" in node:
        if not isinstance(node["__dtype__"], str) or node["__dtype__"] not in _NAMES:
            raise SerializationError(f"ag.load: {name} is corrupted: unknown dtype {node['__dtype__']!r:.40}")
        return _NAMES[node["__dtype__"]]
    raise SerializationError(f"ag.load: {name} is corrupted: unknown structure node {sorted(node)}")


def _to_tensor(array):
    array = _c_array(array)
    if not array.flags.writeable:
        array = array.copy()
    return from_numpy(array)


def _load_safetensors(data, name):
    header, meta = _parse_header(data, name)
    arrays = _load_arrays(data, name)
    if meta.get(_FORMAT_KEY) is None:
        return {k: _to_tensor(arrays[k]) for k in header if k != "__metadata__"}
    if meta.get(_FORMAT_KEY) != _FORMAT:
        raise SerializationError(f"ag.load: {name} has unsupported format version {meta.get(_FORMAT_KEY)!r}")
    try:
        structure = json.loads(meta[_STRUCT_KEY])
        tensor_keys = set()
        _collect_tensor_keys(structure, tensor_keys)
        tensors = {k: _to_tensor(arrays[k]) for k in tensor_keys if isinstance(k, str) and k in arrays}
        return _decode(structure, tensors, arrays, name)
    except SerializationError:
        raise
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        # unhashable keys, nesting deeper than the interpreter's stack, malformed nodes
        raise SerializationError(f"ag.load: {name} is corrupted: invalid structure ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})") from None


def _collect_tensor_keys(node, out):
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "__tensor__" in node:
                out.add(node["__tensor__"] if isinstance(node["__tensor__"], str) else None)
            stack.extend(v for v in node.values() if isinstance(v, (list, dict)))


def _map_storage(map_location):
    """The function applied to each storage read from a PyTorch file. Everything loads on the CPU;
    map_location may be None, 'cpu', a device, a dict of location -> location, or a function
    (storage, location) -> storage, as in torch.load."""
    if map_location is None:
        return lambda storage: storage
    if callable(map_location) and not isinstance(map_location, type):
        def call(storage):
            result = map_location(storage, storage.location)
            if result is None:
                return storage
            if not isinstance(result, _pt_format._LoadedStorage):
                raise TypeError(f"ag.load: map_location returned {type(result).__name__}; expected the storage "
                                "it was given (everything loads on the CPU)")
            return result
        return call
    if isinstance(map_location, dict):
        for target in map_location.values():
            check_device(target, "ag.load(map_location=...)")
    else:
        check_device(map_location, "ag.load(map_location=...)")
    return lambda storage: storage


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what ag.save or torch.save wrote, or a safetensors file (as a dict of tensors).

    weights_only (True by default, also when None, as in PyTorch 2.6+): only tensors, containers,
    numbers, strings and allowlisted globals (add_safe_globals, safe_globals) are accepted;
    anything else raises SerializationError and nothing in the file runs. weights_only=False
    unpickles arbitrary objects (a whole model) and can execute any code: use it ONLY for files
    you trust. map_location: everything loads on the CPU (GPU-saved checkpoints too); it may be
    None, 'cpu', a device, a dict or a function, as in torch.load. mmap is accepted and ignored.
    Raises SerializationError (a ValueError) for a truncated, corrupted or refused file."""
    if weights_only is None:
        weights_only = True
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("ag.load: only the standard pickle module is supported as pickle_module")
    if pickle_load_args.keys() - {"encoding"}:
        raise TypeError(f"ag.load: unexpected keyword arguments {sorted(pickle_load_args.keys() - {'encoding'})}")
    map_storage = _map_storage(map_location)
    data, name = _read_bytes(f)
    if _pt_format.is_zip(data):
        with _safe_lock:
            allowed = dict(_safe)
        try:
            return _pt_format.read(data, name, bool(weights_only), allowed, map_storage)
        except SerializationError:
            raise
        except _pt_format.FormatError as exc:
            raise SerializationError(f"ag.load: {name}: {exc}") from None
        except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, ValueError, AttributeError,
                RecursionError, OverflowError, MemoryError, struct.error, UnicodeDecodeError) as exc:
            if not weights_only and not isinstance(exc, (pickle.UnpicklingError, EOFError)):
                raise  # an error of the user's own classes while unpickling them
            raise SerializationError(f"ag.load: {name} is truncated or corrupted ({type(exc).__name__}: "
                                     f"{str(exc)[:200]})") from None
    if data[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        raise SerializationError(f"ag.load: {name} is a bare pickle or PyTorch's legacy (pre-1.6) format, which is "
                                 "not read; re-save it with a recent torch.save (zip format) or as safetensors")
    return _load_safetensors(data, name)


def load_metadata(f):
    """The user metadata passed to ag.save (None if there was none)."""
    data, name = _read_bytes(f)
    if _pt_format.is_zip(data):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            record = [n for n in archive.namelist() if n.endswith("/" + _ZIP_METADATA)]
            text = archive.read(record[0]) if record else None
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise SerializationError(f"ag.load_metadata: {name} is corrupted ({exc})") from None
    else:
        _, meta = _parse_header(data, name)
        text = meta.get(_USER_KEY)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise SerializationError(f"ag.load_metadata: {name} has corrupted metadata ({exc})") from None
