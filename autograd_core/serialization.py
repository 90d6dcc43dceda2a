"""ag.save / ag.load: tensors and nested dicts/lists/tuples of tensors, numbers, strings, bools and
None (state dicts, optimizer state), in the safetensors format. Nothing is pickled and loading never
executes code.

File layout: an ordinary safetensors file. Every tensor is stored once as an entry "t0", "t1", ...
(the same tensor object reached twice is stored once and comes back as one object). The object's
structure is JSON in the safetensors metadata under "autograd_core.structure", where a tensor is
{"__tensor__": "t3"}, a tuple {"__tuple__": [...]}, a dict {"__dict__": [[key, value], ...]} (keys
may be str, int, float, bool, None or tuples of them), a numpy array {"__ndarray__": "t4"}.
User metadata (any JSON value) goes under "autograd_core.user". A safetensors file written by
another program (PyTorch's safetensors.torch.save_file, say) loads as a dict of tensors.
"""
import json
import os
import struct
from collections import OrderedDict

import numpy as np

_FORMAT_KEY = "autograd_core.format"
_STRUCT_KEY = "autograd_core.structure"
_USER_KEY = "autograd_core.user"
_FORMAT = "autograd_core/1"
_MAX_HEADER = 100 * 1024 * 1024


def _c_array(a):
    """C-contiguous array keeping 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")



class SerializationError(ValueError):
    """A file that ag.load cannot read: not safetensors, truncated, corrupted or inconsistent."""


def _tensor_cls():
    from .tensor import Tensor
    return Tensor


def _encode(obj, tensors, memo, path):
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
            key = f"t{len(tensors)}"
            memo[id(obj)] = key
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
            key = f"t{len(tensors)}"
            memo[id(obj)] = key
            tensors[key] = _c_array(obj)
        return {"__ndarray__": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                raise TypeError(f"ag.save: dict keys must be str, int, float, bool, None or tuples, got "
                                f"{type(k).__name__} at {path}")
            items.append([_encode(k, tensors, memo, path), _encode(v, tensors, memo, f"{path}[{k!r}]")])
        out = {"__dict__": items}
        if isinstance(obj, OrderedDict):
            out["ordered"] = True
        return out
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, memo, f"{path}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, tensors, memo, f"{path}[{i}]") for i, v in enumerate(obj)]
    from .dtypes import dtype as ag_dtype
    if isinstance(obj, ag_dtype):
        return {"__dtype__": obj.name}
    raise TypeError(f"ag.save: cannot save an object of type {type(obj).__name__} at {path}; supported are "
                    "tensors, numpy arrays, dicts, lists, tuples, str, int, float, bool and None")


def save(obj, f, metadata=None):
    """Save obj (a tensor, a state dict, optimizer state, nested containers) to the path or binary
    file object f in the safetensors format. metadata: optional JSON-serialisable extra information,
    read back with load_metadata."""
    from safetensors.numpy import save as st_save
    tensors = {}
    structure = _encode(obj, tensors, {}, "obj")
    meta = {_FORMAT_KEY: _FORMAT, _STRUCT_KEY: json.dumps(structure)}
    if metadata is not None:
        try:
            meta[_USER_KEY] = json.dumps(metadata)
        except TypeError as exc:
            raise TypeError(f"ag.save: metadata must be JSON-serialisable: {exc}") from None
    data = st_save(tensors, metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


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
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load
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
        from .dtypes import _by_name
        return _by_name(node["__dtype__"])
    raise SerializationError(f"ag.load: {name} is corrupted: unknown structure node {sorted(node)}")


def _to_tensor(array):
    from . import from_numpy
    array = _c_array(array)
    if not array.flags.writeable:
        array = array.copy()
    return from_numpy(array)


def load(f):
    """Load what ag.save wrote (tensors come back as ag tensors, requires_grad restored). A plain
    safetensors file loads as a dict {name: tensor}. Raises SerializationError (a ValueError) for a
    truncated or corrupted file."""
    data, name = _read_bytes(f)
    header, meta = _parse_header(data, name)
    arrays = _load_arrays(data, name)
    if meta.get(_FORMAT_KEY) is None:
        return {k: _to_tensor(arrays[k]) for k in header if k != "__metadata__"}
    if meta.get(_FORMAT_KEY) != _FORMAT:
        raise SerializationError(f"ag.load: {name} has unsupported format version {meta.get(_FORMAT_KEY)!r}")
    try:
        structure = json.loads(meta[_STRUCT_KEY])
    except (KeyError, json.JSONDecodeError) as exc:
        raise SerializationError(f"ag.load: {name} is corrupted: missing or invalid structure ({exc})") from None
    tensor_keys = set()

    def collect(node):
        if isinstance(node, list):
            for v in node:
                collect(v)
        elif isinstance(node, dict):
            if "__tensor__" in node:
                tensor_keys.add(node["__tensor__"])
            for v in node.values():
                if isinstance(v, (list, dict)):
                    collect(v)
    collect(structure)
    tensors = {k: _to_tensor(arrays[k]) for k in tensor_keys if k in arrays}
    return _decode(structure, tensors, arrays, name)


def load_metadata(f):
    """The user metadata passed to ag.save (None if there was none)."""
    data, name = _read_bytes(f)
    _, meta = _parse_header(data, name)
    if _USER_KEY not in meta:
        return None
    try:
        return json.loads(meta[_USER_KEY])
    except json.JSONDecodeError as exc:
        raise SerializationError(f"ag.load_metadata: {name} has corrupted metadata ({exc})") from None
