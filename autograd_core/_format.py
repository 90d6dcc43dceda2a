"""How tensors print: PyTorch's format and its print options, written for autograd_core.

set_printoptions(precision, threshold, edgeitems, linewidth, profile, sci_mode) changes the options
below for every tensor printed afterwards, as torch.set_printoptions does (profile 'default', 'short'
or 'full' first resets all four numbers; sci_mode is set on every call, None meaning "chosen per
tensor"); get_printoptions() returns them. The rules, as PyTorch applies them:
- Tensors of more than THRESHOLD elements are summarised: along every dim longer than 2 * EDGEITEMS only
  the first and last EDGEITEMS entries are shown, with '...' (' ...' inside a row) for the rest. The
  number format is chosen from the shown values only.
- Floats: the format is chosen from the finite nonzero values. If all of them are integral, they print
  as '3.' (fixed, no decimals); otherwise with PRECISION decimals ('3.2500'). Scientific notation with
  PRECISION decimals ('1.0000e-05') replaces either when max / min magnitude > 1000 or max > 1e8, or,
  for the non-integral case, min < 1e-4; sci_mode=True or False forces it on or off (a tensor with no
  finite nonzero value never uses it). nan and inf print as 'nan', 'inf', '-inf'.
- With EDGEITEMS 0 a summarised tensor prints as '[...]', and every nonempty tensor gets a size=(...) suffix.
- Every element is left-padded to one width: the widest formatted finite nonzero value for floats (nan,
  inf, -0. and zeros never widen it, and are not cut when wider), the widest value for ints and bools.
- A row holds floor((LINEWIDTH - indent) / (width + 2)) elements (at least one); longer rows wrap.
- Suffixes: size=(...) for empty tensors that are not 1-d, dtype=... unless the dtype is float32, int64
  or bool (for empty tensors: unless float32), then grad_fn=<...> or requires_grad=True. A suffix that
  would take the last line past LINEWIDTH starts a new line. The line-length test uses the length the
  suffix has in PyTorch ('torch.float64' is 8 characters shorter than 'autograd_core.float64'; its
  'MulBackward0' one longer than our 'MulBackward'), so that reprs equal PyTorch's with the names swapped.
"""
import math

import numpy as np

from . import _core

class _Options:
    """The print options in force (PyTorch's defaults until set_printoptions changes them)."""

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None


OPTS = _Options()
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def _check_count(name, value, allow_inf=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise TypeError(f"set_printoptions: {name} must be a number, got {value!r}")
    if value == math.inf and allow_inf:
        return value
    if value < 0 or value != int(value):
        raise ValueError(f"set_printoptions: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Options for printing tensors, as torch.set_printoptions: precision (decimals, default 4),
    threshold (more elements than this are summarised, default 1000; math.inf never summarises),
    edgeitems (entries kept at each end of a summarised dim, default 3), linewidth (characters per
    line, default 80), profile ('default', 'short' or 'full': resets the four numbers before the
    others apply) and sci_mode (True or False forces scientific notation on or off; None, the
    default, chooses it per tensor; every call sets it)."""
    values = {}
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        values.update(_PROFILES[profile])
    if precision is not None:
        values["precision"] = _check_count("precision", precision)
    if threshold is not None:
        values["threshold"] = _check_count("threshold", threshold, allow_inf=True)
    if edgeitems is not None:
        values["edgeitems"] = _check_count("edgeitems", edgeitems)
    if linewidth is not None:
        values["linewidth"] = _check_count("linewidth", linewidth)
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions: sci_mode must be True, False or None, got {sci_mode!r}")
    for k, v in values.items():
        setattr(OPTS, k, v)
    OPTS.sci_mode = sci_mode


def get_printoptions():
    """The print options in force, as a dict (precision, threshold, edgeitems, linewidth, sci_mode)."""
    return {k: getattr(OPTS, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


_PREFIX = "tensor("
_DTYPE_NAME_EXTRA = len("autograd_core.") - len("torch.")


class _Formatter:
    """Formats one element of a tensor; `width` is the common width every element is padded to."""

    def __init__(self, values, floating):
        # values: the elements that will be shown (already summarised), any shape
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not floating:
            flat = values.ravel().tolist()
            if flat:
                self.width = max(len(str(v)) for v in flat)
            return
        v = values.astype(np.float64, copy=False).ravel()
        shown = v[np.isfinite(v) & (v != 0)]
        if shown.size == 0:
            return
        mag = np.abs(shown)
        lo, hi = float(mag.min()), float(mag.max())
        self.int_mode = bool(np.all(np.ceil(shown) == shown))
        if OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
        else:
            self.sci_mode = OPTS.sci_mode
        self.precision = OPTS.precision
        if self.sci_mode:
            spec = f".{self.precision}e"
            extra = 0
        elif self.int_mode:
            spec = ".0f"
            extra = 1  # the trailing '.'
        else:
            spec = f".{self.precision}f"
            extra = 0
        # rounding can widen a value ('9.99995' -> '10.0000'), so every shown value is formatted: at most
        # THRESHOLD of them, or the summarised ones
        self.width = max(len(format(x, spec)) for x in shown.tolist()) + extra

    def __call__(self, value):
        if not self.floating:
            s = str(value)
        elif self.sci_mode:
            s = format(value, f".{self.precision}e")
        elif self.int_mode:
            s = format(value, ".0f")
            if math.isfinite(value):
                s += "."
        else:
            s = format(value, f".{self.precision}f")
        pad = self.width - len(s)
        return " " * pad + s if pad > 0 else s


def _summarised(a):
    """The elements shown when summarising: the first and last EDGEITEMS along every long dim."""
    e = OPTS.edgeitems
    for axis in range(a.ndim):
        if a.shape[axis] > 2 * e:
            n = a.shape[axis]
            keep = np.r_[0:e, n - e:n]
            a = np.take(a, keep, axis=axis)
    return a


def _vector_str(a, indent, fmt, summarise):
    e = OPTS.edgeitems
    per_line = max(1, int((OPTS.linewidth - indent) // (fmt.width + 2)))
    n = a.shape[0]
    if summarise and e == 0:
        items = ["..."]
    elif summarise and n > 2 * e:
        items = ([fmt(v) for v in a[:e].tolist()] + [" ..."]
                 + [fmt(v) for v in a[n - e:].tolist()])
    else:
        items = [fmt(v) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, fmt, summarise):
    if a.ndim == 1:
        return _vector_str(a, indent, fmt, summarise)
    n = a.shape[0]
    e = OPTS.edgeitems
    if summarise and n > 2 * e:
        rows = ([_tensor_str(a[i], indent + 1, fmt, summarise) for i in range(e)] + ["..."]
                + [_tensor_str(a[i], indent + 1, fmt, summarise) for i in range(n - e, n)])
    else:
        rows = [_tensor_str(a[i], indent + 1, fmt, summarise) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def _add_suffixes(text, suffixes, indent):
    # PyTorch's measure, kept so that line breaks fall where its do: the last line counts two more than
    # its characters, and a suffix breaks the line when it and its ', ' would take that past LINEWIDTH
    last_line = len(text) - text.rfind("\n") + 1
    for suffix, torch_len in suffixes:
        if torch_len + 2 + last_line > OPTS.linewidth:
            text += ",\n" + " " * indent + suffix
            last_line = indent + torch_len
        else:
            text += ", " + suffix
            last_line += torch_len + 2
    return text + ")"


def format_tensor(t):
    code = t._dtype_code
    # bfloat16 has no NumPy dtype: its values print through float32, which holds every one exactly
    a = np.asarray(t.detach() if code != _core.BF16 else _core.cast(t.detach(), _core.F32))
    floating = t.is_floating_point()
    dtype_suffix = f"dtype=autograd_core.{t.dtype.name}"
    suffixes = []
    indent = len(_PREFIX)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if code != _core.F32:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if OPTS.edgeitems == 0:  # (as PyTorch: with no edge items the size is always spelled out)
            suffixes.append(f"size={tuple(a.shape)}")
        if code not in (_core.F32, _core.I64, _core.BOOL):
            suffixes.append(dtype_suffix)
        summarise = a.size > OPTS.threshold
        fmt = _Formatter(_summarised(a) if summarise else a, floating)
        if a.ndim == 0:
            body = fmt(a.item())
        else:
            body = _tensor_str(a, indent, fmt, summarise)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    # line breaks are decided on the suffix lengths PyTorch has: 'torch.' and 'MulBackward0'
    sized = [(s, len(s) - _DTYPE_NAME_EXTRA if s.startswith("dtype=") else len(s) + 1 if s.startswith("grad_fn=")
              else len(s)) for s in suffixes]
    return _add_suffixes(_PREFIX + body, sized, indent)
