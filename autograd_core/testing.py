"""ag.testing.assert_close, as torch.testing.assert_close.

Tensors (or numbers, NumPy arrays, and lists / tuples / dicts of them, compared element by element)
must agree in shape, and by default in dtype, with |actual - expected| <= atol + rtol * |expected|
everywhere. Default tolerances depend on the dtype: float32 rtol 1.3e-6, atol 1e-5; float64 rtol
1e-7, atol 1e-7; integers and bools exactly. NaN equals NaN only with equal_nan=True.
"""
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .tensor import Tensor

__all__ = ["assert_allclose", "assert_close"]

_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                       "float64": (1e-7, 1e-7)}


def _as_array(value):
    if isinstance(value, Tensor):
        return np.asarray(value.detach()), value.dtype.name, tuple(value.shape)
    if isinstance(value, np.ndarray):
        return value, value.dtype.name, value.shape
    if isinstance(value, (numbers.Number, np.generic)):
        a = np.asarray(value)
        return a, type(value).__name__, ()
    return None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError (naming the worst element) unless actual and expected are close."""
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path="")


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path):
    where = f" at {path}" if path else ""
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match{where}: {sorted(map(str, actual))} != "
                                 f"{sorted(map(str, expected))}")
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, msg, f"{path}[{key!r}]")
        return
    seq = (Sequence,)
    if isinstance(actual, seq) and isinstance(expected, seq) and not isinstance(actual, str):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch{where}: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, msg, f"{path}[{i}]")
        return
    a_info, e_info = _as_array(actual), _as_array(expected)
    if a_info is None or e_info is None:
        if actual != expected:
            raise AssertionError(msg or f"Objects are not equal{where}: {actual!r} != {expected!r}")
        return
    (a, a_dtype, a_shape), (e, e_dtype, e_shape) = a_info, e_info
    both_tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    if not isinstance(actual, Tensor) == isinstance(expected, Tensor) and not (
            isinstance(actual, (numbers.Number, np.generic)) and isinstance(expected, (numbers.Number, np.generic))):
        raise AssertionError(f"Expected {type(expected).__name__}{where} but got {type(actual).__name__}")
    if tuple(a_shape) != tuple(e_shape):
        raise AssertionError(msg or f"The values for attribute 'shape' do not match{where}: {tuple(a_shape)} != "
                                    f"{tuple(e_shape)}.")
    if check_dtype and both_tensors and a_dtype != e_dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match{where}: {actual.dtype} != "
                                    f"{expected.dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is None:
        names = [n for n in (a_dtype, e_dtype) if n in _DEFAULT_TOLERANCES]
        rtol, atol = max((_DEFAULT_TOLERANCES[n] for n in names), default=(0.0, 0.0))
        if a.dtype.kind == "f" and not names:  # Python floats compare as float64
            rtol, atol = _DEFAULT_TOLERANCES["float64"]
    a64 = a.astype(np.float64) if a.dtype.kind in "fc" or e.dtype.kind in "fc" else a
    e64 = e.astype(np.float64) if a.dtype.kind in "fc" or e.dtype.kind in "fc" else e
    if a64.dtype.kind != "f":
        bad = a64 != e64
    else:
        with np.errstate(invalid="ignore"):
            diff = np.abs(a64 - e64)
            bad = ~(diff <= atol + rtol * np.abs(e64))
        both_nan = np.isnan(a64) & np.isnan(e64)
        same_inf = np.isinf(a64) & (a64 == e64)
        bad &= ~same_inf
        if equal_nan:
            bad &= ~both_nan
    if np.any(bad):
        count = int(np.sum(bad))
        total = max(int(np.size(bad)), 1)
        if msg:
            raise AssertionError(msg)
        if a64.dtype.kind != "f":
            raise AssertionError(f"Scalars/tensors are not equal{where}!\n\nMismatched elements: {count} / {total}")
        with np.errstate(invalid="ignore", divide="ignore"):
            absdiff = np.where(bad, np.abs(a64 - e64), -np.inf)
            worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(absdiff), np.inf, absdiff))), np.shape(bad)) \
                if np.ndim(bad) else ()
            rel = np.abs(a64 - e64) / np.abs(e64)
        raise AssertionError(
            f"Tensor-likes are not close{where}!\n\nMismatched elements: {count} / {total} ({100 * count / total:.1f}%)\n"
            f"Greatest absolute difference: {np.abs(a64 - e64)[worst]} at index {tuple(int(i) for i in worst)} "
            f"(up to {atol} allowed)\nGreatest relative difference: {rel[worst]} at index "
            f"{tuple(int(i) for i in worst)} (up to {rtol} allowed)")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The older spelling: dtypes need not match; NaN equals NaN."""
    _compare(actual, expected, rtol, atol, equal_nan, False, msg or None, path="")
