# _random.pxi: generators and the random fills (csrc/rng.c; included by _core.pyx).

# ------------------------------------------------------------------------------------------ random
cdef class Generator:
    """A random-number generator: a seed and a position in the counter-based (Philox-style)
    stream. Random functions take one as `generator=`; without it they use the global
    `default_generator`, which `manual_seed` reseeds. Same seed, same numbers, at any thread count.

    >>> a = ag.rand(3, generator=ag.Generator().manual_seed(0))
    >>> b = ag.rand(3, generator=ag.Generator().manual_seed(0))
    >>> bool((a == b).all())           # the same numbers after every manual_seed(0)
    True
    """
    cdef public uint64_t _seed
    cdef public uint64_t _offset

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: device {device!r} is not available; autograd_core runs on the CPU "
                               f"only (use device='cpu')")
        self._seed = 67280421310721
        self._offset = 0

    def manual_seed(self, seed):
        """Set the seed (and restart the stream); returns the generator."""
        if isinstance(seed, float) or not hasattr(seed, "__index__"):
            raise TypeError(f"manual_seed: expected an integer seed, got {type(seed).__name__}")
        self._seed = <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF)
        self._offset = 0
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        import os
        value = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(value)
        return value

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor of 16 bytes (seed and offset, little-endian)."""
        import numpy
        raw = numpy.frombuffer(int(self._seed).to_bytes(8, "little") + int(self._offset).to_bytes(8, "little"),
                               dtype=numpy.uint8).copy()
        return from_buffer(raw)

    def set_state(self, new_state):
        """Restore a state returned by get_state (a uint8 tensor or bytes of 16 bytes)."""
        import numpy
        raw = bytes(numpy.asarray(new_state, dtype=numpy.uint8).reshape(-1)) if not isinstance(
            new_state, (bytes, bytearray)) else bytes(new_state)
        if len(raw) != 16:
            raise ValueError(f"Generator.set_state: expected a state of 16 bytes (from get_state), got {len(raw)}")
        self._seed = <uint64_t>int.from_bytes(raw[:8], "little")
        self._offset = <uint64_t>int.from_bytes(raw[8:], "little")
        return self

    @property
    def device(self):
        import autograd_core
        make = getattr(autograd_core, "device", None)
        return make("cpu") if make is not None else "cpu"

    def __reduce__(self):
        return (_rebuild_generator, (int(self._seed), int(self._offset)))

    def __repr__(self):
        return f"<autograd_core.Generator seed={self._seed} offset={self._offset}>"


def _rebuild_generator(seed, offset):
    cdef Generator g = Generator()
    g._seed = <uint64_t>seed
    g._offset = <uint64_t>offset
    return g


default_generator = Generator()
default_generator._seed = 0x2545F4914F6CDD1D
cdef Generator _default = default_generator


def manual_seed(seed):
    """Seed the global generator: every random op after it is reproducible."""
    _default._seed = (<uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF))
    _default._offset = 0


def initial_seed():
    return _default._seed


def get_rng_state():
    return (_default._seed, _default._offset)


def set_rng_state(state):
    _default._seed = <uint64_t>int(state[0])
    _default._offset = <uint64_t>int(state[1])


cdef Generator _generator(object gen):
    if gen is None:
        return _default
    if not isinstance(gen, Generator):
        raise TypeError(f"generator must be an autograd_core.Generator, got {type(gen).__name__}")
    return <Generator>gen


cdef TensorBase random_fill(TensorBase out, int kind, double a, double b, int64_t ia, int64_t ib,
                            object gen=None):
    """Fill out (any layout) with random values: kind 0 uniform[a, b), 1 normal(a, b), 2 randint[ia, ib),
    3 bernoulli(a); drawn from gen (None: the default generator), whose offset advances. Refuses
    read-only memory and tensors whose elements overlap (an expanded view)."""
    cdef str op = ("uniform_", "normal_", "random_", "bernoulli_")[kind]
    check_writable(out, op)
    check_no_internal_overlap(out, op)
    cdef Generator g = _generator(gen)
    # half draws are made in float32 and rounded into out
    cdef TensorBase tgt = out if is_contiguous(out) and not is_half(out._dtype) else \
        new_tensor(AGC_F32 if is_half(out._dtype) else out._dtype, out._ndim, out._shape)
    cdef uint64_t off = g._offset
    g._offset += <uint64_t>agc_rng_advance(out._numel)
    cdef int rc
    cdef int64_t n = out._numel
    cdef uint64_t seed = g._seed
    with nogil:
        if kind == 0:
            rc = agc_rng_uniform(tgt._dtype, n, seed, off, a, b, tgt._data)
        elif kind == 1:
            rc = agc_rng_normal(tgt._dtype, n, seed, off, a, b, tgt._data)
        elif kind == 2:
            rc = agc_rng_randint(tgt._dtype, n, seed, off, ia, ib, tgt._data)
        else:
            rc = agc_rng_bernoulli(tgt._dtype, n, seed, off, a, tgt._data)
    check_rc(rc, "random")
    if tgt is not out:
        copy_(out, tgt)
    else:
        out._storage.version += 1
    return out


def uniform_(TensorBase t, double low=0.0, double high=1.0, generator=None):
    if not is_floating(t._dtype):
        require_float(t._dtype, "uniform_", "a tensor")
    if low > high:
        raise ValueError(f"uniform_: expects low <= high, got low={low}, high={high}")
    return random_fill(t, 0, low, high, 0, 0, generator)


def normal_(TensorBase t, double mean=0.0, double std=1.0, generator=None):
    if not is_floating(t._dtype):
        require_float(t._dtype, "normal_", "a tensor")
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0.0, got std={std}")
    return random_fill(t, 1, mean, std, 0, 0, generator)


def randint_(TensorBase t, int64_t low, int64_t high, generator=None):
    if low >= high:
        raise ValueError(f"randint: expects low < high, got low={low}, high={high}")
    if t._dtype == AGC_BOOL:
        raise TypeError("randint: bool dtype is not supported")
    return random_fill(t, 2, 0, 0, low, high, generator)


def bernoulli_(TensorBase t, double p, generator=None):
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"bernoulli: expects 0 <= p <= 1, got p={p}")
    return random_fill(t, 3, p, 0, 0, 0, generator)
