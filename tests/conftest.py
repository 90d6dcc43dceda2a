"""Fixtures shared by the tests: the SIMD target to run under, thread-count restore, and a random
generator seeded from the test's id."""
import zlib

import numpy as np
import pytest

import autograd_core  # noqa: F401  (registers the Tensor class with _core)
from autograd_core import _core

# The adaptive thread cap (csrc/cpu.c) runs kernels on fewer threads while workers start late, as
# they do on a machine busy with other processes (a test machine often is). Tests ask for thread
# counts in order to exercise the threaded paths, so the cap is off for the test session; the tests
# of the cap itself (tests/test_threads.py) turn it on where they need it.
_core.set_adaptive_threads(False)

# Every SIMD tier the library knows (csrc/cpu.c's registry), narrowest first; the kernel tests run
# each one this CPU has and skip the others with the reason.
TARGETS = list(_core.SIMD_TARGETS)
AVAILABLE = _core.simd_targets()


def require_target(name):
    """Skip the calling test, with the reason, when this CPU lacks the SIMD tier `name`."""
    if name not in AVAILABLE:
        pytest.skip(f"this CPU (or OS) lacks the {name} tier; it has {AVAILABLE}")


VECTOR_TIERS = TARGETS[1:]


def require_native(name):
    """require_target for the families written with a tier's intrinsics rather than on vec.h (GEMM, the
    conv panel builder, the optimizer updates): in the emulation build (tools/emu512.sh) the avx512
    tier runs their AVX2 code, so their avx512 tests skip there, with the reason."""
    require_target(name)
    if name == "avx512" and _core.SIMD_EMULATED:
        pytest.skip("emulation build: this family's avx512 code needs a CPU with AVX-512 (it runs AVX2 here)")


@pytest.fixture(params=VECTOR_TIERS, name="tier")
def vector_tier(request):
    """Each vector tier (the portable reference against itself would test nothing), skipped with the
    reason where the CPU lacks it. Tests switch tiers themselves; the active one is restored after."""
    require_target(request.param)
    old = _core.simd_target()
    yield request.param
    _core.set_simd_target(old)


def two_vector_tiers():
    """The vector tiers this CPU has, skipping the calling test unless there are two to compare."""
    tiers = [t for t in VECTOR_TIERS if t in AVAILABLE]
    if len(tiers) < 2:
        pytest.skip(f"needs two vector tiers; this CPU has {AVAILABLE}")
    return tiers


@pytest.fixture(params=TARGETS)
def target(request):
    require_target(request.param)
    old = _core.simd_target()
    _core.set_simd_target(request.param)
    yield request.param
    _core.set_simd_target(old)


@pytest.fixture
def threads():
    old = _core.get_num_threads()
    yield
    _core.set_num_threads(old)


def T(a):
    """A tensor sharing a's memory, strides included."""
    return _core.from_buffer(a)


@pytest.fixture
def rng(request):
    """A generator seeded from a stable hash (crc32) of the test id, so a failure reproduces in any
    process, alone or in the whole suite."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(autouse=True)
def _module_generators_per_test(request):
    """Modules that draw from one module-level generator (RNG, R or rng) get it reseeded from the
    test id before each test: a test's inputs then do not depend on which tests ran before it, so
    `pytest -k name` reproduces what the whole run saw."""
    module = request.module
    for name in ("RNG", "R", "rng"):
        if isinstance(getattr(module, name, None), np.random.Generator):
            setattr(module, name, np.random.default_rng(zlib.crc32(request.node.nodeid.encode())))
    yield
