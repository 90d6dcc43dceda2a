# cython: freethreading_compatible = False
"""_core: the binding between Python and the C kernels in csrc/.

Owns the storage object and tensor metadata (shape, strides, offset, dtype), checks every argument,
raising Python exceptions that name the op and the shapes, then releases the GIL and calls C.
Tensors are created here directly as instances of the Python class registered with
`_set_tensor_class` (autograd_core.tensor.Tensor), so results need no wrapping.

This file holds what every family shares (dtypes, the op registry read from C, run-time settings);
each family of kernels has its own .pxi file, included at the end: _checks.pxi (the argument checks
and their messages, written once), _tensor.pxi, _copy.pxi, _elementwise.pxi, _reduce.pxi,
_views.pxi, _gemm.pxi, _random.pxi, _index.pxi, _conv.pxi, _nn.pxi, _optim.pxi, _rnn.pxi.
"""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS_RO, PyBUF_WRITABLE
from cpython.buffer cimport PyBUF_FORMAT, PyBUF_ND, PyBUF_STRIDES
cimport cython
from libc.stdint cimport int64_t, uint64_t, uint8_t, int32_t, INT64_MAX
from libc.string cimport memcpy, memset
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdlib cimport malloc, free
from libc.math cimport INFINITY, isnan, isinf

import os as _os
from collections import namedtuple as _namedtuple

# ------------------------------------------------------------------------------------------ dtypes
DTYPE_NAMES = ("float32", "float64", "int64", "bool", "int32", "uint8", "float16", "bfloat16")
cdef int64_t ITEMSIZE[8]
ITEMSIZE[:] = [4, 8, 8, 1, 4, 1, 2, 2]
cdef const char *FORMATS[8]
FORMATS[0] = b"f"
FORMATS[1] = b"d"
FORMATS[2] = b"q"
FORMATS[3] = b"?"
FORMATS[4] = b"i"
FORMATS[5] = b"B"
FORMATS[6] = b"e"
FORMATS[7] = NULL  # bfloat16 has no buffer-protocol format (NumPy has no bfloat16)
F32 = AGC_F32
F64 = AGC_F64
I64 = AGC_I64
BOOL = AGC_BOOL
I32 = AGC_I32
U8 = AGC_U8
F16 = AGC_F16
BF16 = AGC_BF16

# category: 0 bool, 1 integer, 2 floating
cdef int CATEGORY[8]
CATEGORY[:] = [2, 2, 1, 0, 1, 1, 2, 2]

# is_float: the dtypes the kernels compute in; is_half: the storage-only floats, which the compute
# entries below route through float32 (half_call); is_floating: either (what may require grad)
cdef inline bint is_float(int dt) noexcept:
    return dt == AGC_F32 or dt == AGC_F64


cdef inline bint is_half(int dt) noexcept:
    return dt == AGC_F16 or dt == AGC_BF16


cdef inline bint is_floating(int dt) noexcept:
    return is_float(dt) or is_half(dt)


def is_floating_code(int dt):
    return is_floating(dt)

# numpy dtype char -> code
_NP_CODES = {"f": AGC_F32, "d": AGC_F64, "q": AGC_I64, "l": AGC_I64, "?": AGC_BOOL, "i": AGC_I32,
             "B": AGC_U8, "e": AGC_F16}
_NP_NAMES = {"float32": AGC_F32, "float64": AGC_F64, "int64": AGC_I64, "bool": AGC_BOOL,
             "int32": AGC_I32, "uint8": AGC_U8, "float16": AGC_F16}

agc_init()
if agc_init_error() != NULL:
    raise ImportError(f"autograd_core: {agc_init_error().decode()}")

# ------------------------------------------------------------------------------------------ op registry
# agc.h's op rows as csrc/registry.c publishes them: the only place where an op's name, code and
# flags are written. UNARY_OPS / BINARY_OPS / REDUCE_OPS map a name to the code unary(), binary() and
# reduce() take; op_table() describes every row.
OP_FLOAT = AGC_OP_FLOAT
OP_BOOL_OUT = AGC_OP_BOOL_OUT
OP_NO_FLOAT = AGC_OP_NO_FLOAT
OP_HEAVY = AGC_OP_HEAVY
OP_GRAD_OF_X = AGC_OP_GRAD_OF_X
OP_GRAD_OF_Y = AGC_OP_GRAD_OF_Y
OP_PARAMS = AGC_OP_PARAMS


cdef tuple family_names(const agc_op_info *info, int n):
    return tuple([info[i].name.decode() for i in range(n)])


_UNARY_NAMES = family_names(agc_unary_info, AGC_NUNARY)
_BINARY_NAMES = family_names(agc_binary_info, AGC_NBINARY)
_REDUCE_NAMES = family_names(agc_reduce_info, AGC_NREDUCE)
UNARY_OPS = {name: code for code, name in enumerate(_UNARY_NAMES)}
BINARY_OPS = {name: code for code, name in enumerate(_BINARY_NAMES)}
REDUCE_OPS = {name: code for code, name in enumerate(_REDUCE_NAMES)}


class OpInfo(_namedtuple("OpInfo", "family name code arity flags dtypes fused grad_of")):
    """One row of the op registry: family ('unary', 'binary', 'reduce'), name, code (its position in its
    agc.h list), arity, flags (OP_* bits), dtypes (the dtype codes it has kernels for; None for
    reductions), fused (the binary op computing a unary op's backward in one pass, or None), grad_of
    (for such a fused backward, 'x' or 'y': what its first operand is)."""

    __slots__ = ()

    @property
    def float_only(self):
        """Float math: integer inputs compute in float32 (a reduction refuses them)."""
        return bool(self.flags & AGC_OP_FLOAT)

    @property
    def bool_out(self):
        return bool(self.flags & AGC_OP_BOOL_OUT)

    @property
    def params(self):
        """Reads the scalar parameters p0 (and p1)."""
        return bool(self.flags & AGC_OP_PARAMS)


cdef tuple dtype_codes(unsigned mask):
    return tuple([dt for dt in range(AGC_NDTYPES) if mask & (1u << dt)])


cdef object grad_of(unsigned flags):
    return "x" if flags & AGC_OP_GRAD_OF_X else "y" if flags & AGC_OP_GRAD_OF_Y else None


_OP_TABLE = tuple(
    [OpInfo("unary", _UNARY_NAMES[i], i, 1, agc_unary_info[i].flags, dtype_codes(agc_unary_dtypes(i)),
            _BINARY_NAMES[agc_unary_info[i].fused] if agc_unary_info[i].fused != AGC_BINARY_NONE else None, None)
     for i in range(AGC_NUNARY)]
    + [OpInfo("binary", _BINARY_NAMES[i], i, 2, agc_binary_info[i].flags, dtype_codes(agc_binary_dtypes(i)),
              None, grad_of(agc_binary_info[i].flags)) for i in range(AGC_NBINARY)]
    + [OpInfo("reduce", _REDUCE_NAMES[i], i, 1, agc_reduce_info[i].flags, None, None, None)
       for i in range(AGC_NREDUCE)])


def op_table(family=None):
    """The op registry, one OpInfo per row of agc.h's op lists in code order: every op, or those of
    one family ('unary', 'binary', 'reduce')."""
    if family is None:
        return _OP_TABLE
    if family not in ("unary", "binary", "reduce"):
        raise ValueError(f"op_table: family must be 'unary', 'binary' or 'reduce', got {family!r}")
    return tuple([r for r in _OP_TABLE if r[0] == family])


def op_info(family, name):
    """The OpInfo of op `name` of `family`."""
    for r in op_table(family):
        if r[1] == name:
            return r
    raise KeyError(f"op_info: no {family} op named {name!r}")


SIMD_TARGETS = tuple(agc_isa_name(<agc_isa>i).decode() for i in range(AGC_NISA))
# True only in the emulation test build (tools/emu512.sh): 'avx512' is then vec.h's 16 lanes on AVX2
SIMD_EMULATED = bool(agc_isa_emulated())


def simd_target():
    """The SIMD tier in use: 'portable', 'avx2' or 'avx512' (see SIMD_TARGETS, narrowest first)."""
    return agc_simd_target().decode()


def simd_targets():
    """The SIMD tiers this CPU and its operating system can run, narrowest first."""
    return [agc_isa_name(<agc_isa>i).decode() for i in range(AGC_NISA) if agc_isa_available(<agc_isa>i)]


def set_simd_target(str name):
    """Switch kernels to another SIMD tier (tests run every tier in one process)."""
    cdef bytes b = name.encode()
    if agc_set_simd_target(b) != 0:
        if name not in SIMD_TARGETS:
            raise ValueError(f"set_simd_target: unknown target {name!r}; expected one of {SIMD_TARGETS}")
        raise ValueError(f"set_simd_target: target {name!r} is not available on this CPU "
                         f"(available: {simd_targets()})")


def set_num_threads(int n):
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    agc_set_num_threads(n)


def get_num_threads():
    return agc_get_num_threads()


cdef extern from *:
    """
    /* Grad and anomaly mode (inference mode is a no_grad): one copy per OS thread, as in PyTorch.
     * A thread starts with grad enabled and anomaly mode off. */
    static _Thread_local int agc_tls_grad_disabled = 0;
    static _Thread_local int agc_tls_anomaly = 0;
    static _Thread_local int agc_tls_anomaly_inf = 0;
    """
    int agc_tls_grad_disabled
    int agc_tls_anomaly
    int agc_tls_anomaly_inf


cdef class ModeState:
    """The calling thread's autograd modes (autograd.grad_mode.state is the one instance). Each
    attribute reads and writes a C thread-local, so `with no_grad():` in one thread never changes
    what another thread records; a property costs ~20 ns where threading.local costs ~40."""

    @property
    def enabled(self):
        return agc_tls_grad_disabled == 0

    @enabled.setter
    def enabled(self, value):
        global agc_tls_grad_disabled
        agc_tls_grad_disabled = 0 if value else 1

    @property
    def anomaly(self):
        return agc_tls_anomaly != 0

    @anomaly.setter
    def anomaly(self, value):
        global agc_tls_anomaly
        agc_tls_anomaly = 1 if value else 0

    @property
    def anomaly_check_inf(self):
        return agc_tls_anomaly_inf != 0

    @anomaly_check_inf.setter
    def anomaly_check_inf(self, value):
        global agc_tls_anomaly_inf
        agc_tls_anomaly_inf = 1 if value else 0


_PERTURB_MODES = {"off": 0, "victim": 1, "random": 2}


def set_schedule_perturbation(str mode="off", int victim=0, int delay_us=200, seed=0):
    """Test switch: sleep at the threaded kernels' perturbation points so that the interleavings a
    busy machine causes happen on a quiet one. 'victim': thread `victim` of each parallel region
    sleeps `delay_us` at every point; 'random': each thread sleeps a pseudo-random 0..delay_us at a
    quarter of the points (seeded); 'off' (the default) costs one predicted branch per point."""
    if mode not in _PERTURB_MODES:
        raise ValueError(f"set_schedule_perturbation: mode must be one of {sorted(_PERTURB_MODES)}, got {mode!r}")
    if victim < 0 or delay_us < 0 or delay_us > 100000:
        raise ValueError("set_schedule_perturbation: expected victim >= 0 and 0 <= delay_us <= 100000, "
                         f"got victim={victim}, delay_us={delay_us}")
    agc_set_perturbation(_PERTURB_MODES[mode], victim, delay_us, <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF))


def set_adaptive_threads(on):
    """Turn the adaptive thread cap on (True, the default) or off (False). With it on, kernels use
    fewer threads while other processes hold the cores, as seen from late worker starts and from the
    kernel's count of runnable threads (see csrc/cpu.c); results never change, only speed.
    "late": the late-start signal alone (for its tests)."""
    if on == "late":
        agc_set_adaptive_threads(2)
    else:
        agc_set_adaptive_threads(1 if on else 0)


def thread_stats():
    """The adaptive thread cap's state: whether it is on, how many threads a kernel may use now,
    late worker starts seen, how often the late-start cap engaged, fork decisions it reduced, and
    fork decisions the run-queue check reduced (other processes' runnable threads)."""
    cdef int64_t out[6]
    agc_thread_stats(out)
    return {"adaptive": bool(out[0]), "threads_now": out[1], "late_starts": out[2], "engaged": out[3],
            "capped_forks": out[4], "runq_capped_forks": out[5]}


def get_schedule_perturbation():
    """The perturbation mode in force: 'off', 'victim' or 'random'."""
    cdef int m = agc_get_perturbation()
    return {v: k for k, v in _PERTURB_MODES.items()}[m]


# ------------------------------------------------------------------------------------------ the binding, by family
include "_checks.pxi"
include "_tensor.pxi"
include "_copy.pxi"
include "_half.pxi"
include "_elementwise.pxi"
include "_reduce.pxi"
include "_views.pxi"
include "_gemm.pxi"
include "_random.pxi"
include "_index.pxi"
include "_conv.pxi"
include "_nn.pxi"
include "_optim.pxi"
include "_rnn.pxi"
