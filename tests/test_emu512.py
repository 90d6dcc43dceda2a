"""The AVX-512 emulation test build (tools/emu512.sh, csrc/vec_emu512.h) and its bitwise check.

In a normal build SIMD_EMULATED is False and the avx512 tier exists only where the CPU has AVX-512;
in the emulation build it exists wherever AVX2 does. tools/tier_fingerprint.py is what checks the
emulated kernels against the native ones: here it must find its own results equal and must notice a
single changed bit or a changed NaN-ness.
"""
import os
import sys

import numpy as np
import pytest

from autograd_core import _core
from conftest import require_target

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import tier_fingerprint  # noqa: E402


def test_emulation_flag_matches_the_tiers():
    if _core.SIMD_EMULATED:
        assert "avx512" in _core.simd_targets() and "avx2" in _core.simd_targets()
    else:
        assert isinstance(_core.SIMD_EMULATED, bool)


def test_fingerprint_finds_its_own_results_equal_and_a_changed_bit(tmp_path):
    require_target("avx512")
    results = tier_fingerprint.run_all()
    assert len(results) > 1000 and any(k.startswith("layer_norm") for k in results)
    path = str(tmp_path / "fp.npz")
    tier_fingerprint.write(path, results)
    bad, total = tier_fingerprint.compare(path, results)
    assert bad == [] and total == len(results)

    name = "unary exp float32 n=33"
    flipped = dict(results)
    a = results[name].copy()
    a.view(np.uint32)[5] ^= 1
    flipped[name] = a
    bad, _ = tier_fingerprint.compare(path, flipped)
    assert len(bad) == 1 and bad[0].startswith(name) and "1 of 33 differ (first at 5" in bad[0]

    name = "binary add float64 n=17"
    b = results[name].copy()
    b[3] = np.nan if not np.isnan(b[3]) else 1.0
    flipped = dict(results, **{name: b})
    bad, _ = tier_fingerprint.compare(path, flipped)
    assert len(bad) == 1 and bad[0].startswith(name)
