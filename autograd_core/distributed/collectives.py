"""Collectives on tensors over MPI, with torch.distributed's names, arguments and in-place semantics.

MPI reads and writes the tensors' own memory through the buffer protocol (np.asarray(t) shares it),
so a contiguous tensor is communicated without a copy. A non-contiguous one is packed into a
contiguous buffer first and, for outputs, written back afterwards (what MPI would do internally
with a derived datatype). With async_op=True the call starts an MPI nonblocking collective
(MPI_Iallreduce, ...) and returns a Work whose wait() completes it; the tensors must not be
touched until then.

Reductions per dtype: floats and integers map to MPI_SUM/PROD/MAX/MIN; bool tensors, like torch's,
treat SUM and MAX as logical or, PRODUCT and MIN as logical and. AVG (floating point only) is a SUM
divided by the world size. uint8 and int sums wrap around, as in NumPy.

uint8 SUM, MIN and MAX reduce int32 copies, cast back (wrapping, as NumPy's uint8 sum does): the
MPIs of Debian 12 get uint8 wrong there. Open MPI 4.1.4's AVX reductions saturate 8- and 16-bit
sums at the type's limit (its issue 8045) and MPICH 4.0.2 compares unsigned types as signed in MIN
and MAX (its issue 6083). int32, int64, PRODUCT and the bitwise ops are right in both, and in the
MPICH 5 of the wheel.
"""
import enum
import numbers

import numpy as np

from ..tensor import Tensor
from .process_group import Work, _check_group, _mpi, _require_group, _watch, _watched

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce",
           "broadcast", "broadcast_object_list", "gather", "gather_object", "irecv", "isend", "recv", "reduce",
           "reduce_scatter", "reduce_scatter_tensor", "scatter", "send"]


class ReduceOp(enum.Enum):
    """How all_reduce, reduce and reduce_scatter combine the ranks' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self):
        return f"ReduceOp.{self.name}"


_FLOAT_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN",
              ReduceOp.MAX: "MAX"}
_INT_OPS = {ReduceOp.SUM: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX",
            ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR", ReduceOp.PRODUCT: "LAND",
             ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND", ReduceOp.BXOR: "LXOR"}


_KIND_TABLES = {"f": (_FLOAT_OPS, "floating-point"), "b": (_BOOL_OPS, "bool")}
_resolved = {}  # (op, dtype kind) -> MPI operation, filled on first use


def _mpi_op(op, dtype, name):
    """For `op` on arrays of numpy dtype `dtype`: the MPI operation, whether to divide by the world
    size (AVG), and the dtype to reduce in instead (int32 for uint8 SUM, MIN and MAX) or None."""
    kind = dtype.kind if dtype.kind in "fb" else "i"
    found = _resolved.get((op, kind))
    if found is not None:
        mpi_op, average, widened = found
        return mpi_op, average, (np.int32 if widened and dtype == np.uint8 else None)
    if isinstance(op, str):
        try:
            op = ReduceOp[op.upper()]
        except KeyError:
            op = None
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR), got {op!r}")
    table, kind_name = _KIND_TABLES.get(kind, (_INT_OPS, "integer"))
    if op not in table:
        hint = " (AVG averages floating-point tensors only; use SUM and divide)" if op is ReduceOp.AVG else ""
        raise ValueError(f"{name}: ReduceOp.{op.name} is not defined for {kind_name} tensors ({dtype.name}){hint}")
    found = _resolved[(op, kind)] = (getattr(_mpi(), table[op]), op is ReduceOp.AVG,
                                     op in (ReduceOp.SUM, ReduceOp.MIN, ReduceOp.MAX))
    return _mpi_op(op, dtype, name)


def _narrow_into(a, wide):
    """Write the widened result back: the cast wraps, so a sum is the uint8 sum modulo 256."""
    if wide is not a:
        np.copyto(a, wide, casting="unsafe")


# ------------------------------------------------------------------------------------------ buffers


def _tensor(t, what, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be an autograd_core Tensor, got {type(t).__name__}")
    return t


class _Buf:
    """The memory MPI works on for one tensor: the tensor's own if it is contiguous, else a packed
    copy (written back by `done()` when the tensor is an output)."""

    __slots__ = ("array", "packed", "tensor", "view", "write")

    def __init__(self, t, what, name, write):
        _tensor(t, what, name)
        view = np.asarray(t)
        self.tensor, self.view, self.write = t, view, write
        self.packed = not view.flags.c_contiguous
        if self.packed:
            if write and any(s == 0 and n > 1 for s, n in zip(view.strides, view.shape)):
                raise ValueError(f"{name}: {what} of shape {tuple(t.shape)} has overlapping memory (an expanded "
                                 "view); the result cannot be written into it: pass a contiguous tensor "
                                 "(.contiguous())")
            self.array = np.ascontiguousarray(view)
        else:
            self.array = view

    def done(self):
        if self.write:
            if self.packed:
                np.copyto(self.view, self.array)
            self.tensor._bump_version()


def _check_rank(value, what, size, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not 0 <= value < size:
        raise ValueError(f"{name}: {what} must be a rank in [0, {size}), got {value!r}")
    return int(value)


def _check_like(tensors, like, what, name, size):
    """tensors: a list of `size` tensors with the shape and dtype of `like`."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: {what} must be a list of tensors, got {type(tensors).__name__}")
    if len(tensors) != size:
        raise ValueError(f"{name}: {what} must hold one tensor per rank ({size}), got {len(tensors)}")
    for i, t in enumerate(tensors):
        _tensor(t, f"{what}[{i}]", name)
        if tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype:
            raise ValueError(f"{name}: {what}[{i}] is {t.dtype.name} of shape {tuple(t.shape)}, expected "
                             f"{like.dtype.name} of shape {tuple(like.shape)} (like the tensor argument)")


def _launch(name, async_op, start, run, finish, outputs, keep=()):
    """Run a collective: blocking (run) or nonblocking (start, returning an MPI request)."""
    if async_op:
        return Work(start(), name, finish, outputs, keep)
    if _watched():
        with _watch(name):
            run()
    else:
        run()
    finish()
    return None


def _setup(name, group):
    _check_group(group, name)
    return _require_group(name)


# ------------------------------------------------------------------------------------- collectives


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across all ranks with `op`; every rank receives the result in place."""
    name = "all_reduce"
    world = _setup(name, group)
    buf = _Buf(tensor, "tensor", name, write=True)
    mpi_op, average, wide = _mpi_op(op, buf.array.dtype, name)
    MPI, comm, a = _mpi(), world.comm, buf.array
    data = a if wide is None else a.astype(wide)

    def finish():
        _narrow_into(a, data)
        if average:
            np.divide(a, world.size, out=a)
        buf.done()

    return _launch(name, async_op, lambda: comm.Iallreduce(MPI.IN_PLACE, data, mpi_op),
                   lambda: comm.Allreduce(MPI.IN_PLACE, data, mpi_op), finish, [tensor], (buf, data))


def broadcast(tensor, src, group=None, async_op=False):
    """Copy `tensor` of rank `src` into `tensor` on every other rank."""
    name = "broadcast"
    world = _setup(name, group)
    src = _check_rank(src, "src", world.size, name)
    buf = _Buf(tensor, "tensor", name, write=world.rank != src)
    comm, a = world.comm, buf.array
    return _launch(name, async_op, lambda: comm.Ibcast(a, root=src), lambda: comm.Bcast(a, root=src), buf.done,
                   [tensor], buf)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across ranks with `op` into `tensor` on rank `dst` (the others keep theirs)."""
    name = "reduce"
    world = _setup(name, group)
    dst = _check_rank(dst, "dst", world.size, name)
    root = world.rank == dst
    buf = _Buf(tensor, "tensor", name, write=root)
    mpi_op, average, wide = _mpi_op(op, buf.array.dtype, name)
    MPI, comm, a = _mpi(), world.comm, buf.array
    data = a if wide is None else a.astype(wide)
    send, recv = (MPI.IN_PLACE, data) if root else (data, None)

    def finish():
        if root:
            _narrow_into(a, data)
        if average and root:
            np.divide(a, world.size, out=a)
        buf.done()

    return _launch(name, async_op, lambda: comm.Ireduce(send, recv, mpi_op, root=dst),
                   lambda: comm.Reduce(send, recv, mpi_op, root=dst), finish, [tensor], (buf, data))


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] receives `tensor` of rank r, on every rank."""
    name = "all_gather"
    world = _setup(name, group)
    send = _Buf(tensor, "tensor", name, write=False)
    _check_like(tensor_list, tensor, "tensor_list", name, world.size)
    outs = [_Buf(t, f"tensor_list[{i}]", name, write=True) for i, t in enumerate(tensor_list)]
    gathered = np.empty((world.size,) + send.array.shape, dtype=send.array.dtype)
    comm = world.comm

    def finish():
        for out, part in zip(outs, gathered):
            np.copyto(out.view, part)
            out.tensor._bump_version()

    return _launch(name, async_op, lambda: comm.Iallgather(send.array, gathered),
                   lambda: comm.Allgather(send.array, gathered), finish, tensor_list, (send, gathered))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size * n rows, or a leading world_size axis) receives every rank's
    input_tensor, in rank order."""
    name = "all_gather_into_tensor"
    world = _setup(name, group)
    send = _Buf(input_tensor, "input_tensor", name, write=False)
    _tensor(output_tensor, "output_tensor", name)
    _check_total(output_tensor, input_tensor, world.size, "output_tensor", "input_tensor", name)
    out = _Buf(output_tensor, "output_tensor", name, write=True)
    comm = world.comm
    return _launch(name, async_op, lambda: comm.Iallgather(send.array, out.array),
                   lambda: comm.Allgather(send.array, out.array), out.done, [output_tensor], (send, out))


def _check_total(big, small, size, big_name, small_name, name):
    if big.dtype != small.dtype:
        raise ValueError(f"{name}: {big_name} is {big.dtype.name} but {small_name} is {small.dtype.name}")
    if big.numel() != size * small.numel():
        raise ValueError(f"{name}: {big_name} of shape {tuple(big.shape)} must have world_size ({size}) times the "
                         f"elements of {small_name} of shape {tuple(small.shape)}")


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """On rank `dst`, gather_list[r] receives `tensor` of rank r (other ranks pass no gather_list)."""
    name = "gather"
    world = _setup(name, group)
    dst = _check_rank(dst, "dst", world.size, name)
    send = _Buf(tensor, "tensor", name, write=False)
    comm = world.comm
    if world.rank == dst:
        if gather_list is None:
            raise ValueError(f"{name}: gather_list must be given on the destination rank {dst}")
        _check_like(gather_list, tensor, "gather_list", name, world.size)
        outs = [_Buf(t, f"gather_list[{i}]", name, write=True) for i, t in enumerate(gather_list)]
        gathered = np.empty((world.size,) + send.array.shape, dtype=send.array.dtype)
    else:
        if gather_list:
            raise ValueError(f"{name}: gather_list must not be given on rank {world.rank}, only on the "
                             f"destination rank {dst}")
        outs, gathered = [], None

    def finish():
        for out, part in zip(outs, gathered if gathered is not None else ()):
            np.copyto(out.view, part)
            out.tensor._bump_version()

    return _launch(name, async_op, lambda: comm.Igather(send.array, gathered, root=dst),
                   lambda: comm.Gather(send.array, gathered, root=dst), finish, list(gather_list or ()),
                   (send, gathered))


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank r receives scatter_list[r] of rank `src` into `tensor` (other ranks pass no scatter_list)."""
    name = "scatter"
    world = _setup(name, group)
    src = _check_rank(src, "src", world.size, name)
    out = _Buf(tensor, "tensor", name, write=True)
    comm = world.comm
    if world.rank == src:
        if scatter_list is None:
            raise ValueError(f"{name}: scatter_list must be given on the source rank {src}")
        _check_like(scatter_list, tensor, "scatter_list", name, world.size)
        parts = np.empty((world.size,) + out.array.shape, dtype=out.array.dtype)
        for part, t in zip(parts, scatter_list):
            np.copyto(part, np.asarray(t))
    else:
        if scatter_list:
            raise ValueError(f"{name}: scatter_list must not be given on rank {world.rank}, only on the source "
                             f"rank {src}")
        parts = None
    return _launch(name, async_op, lambda: comm.Iscatter(parts, out.array, root=src),
                   lambda: comm.Scatter(parts, out.array, root=src), out.done, [tensor], (out, parts))


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce input_list element-wise across ranks; rank r receives the reduction of the ranks'
    input_list[r] in `output`."""
    name = "reduce_scatter"
    world = _setup(name, group)
    out = _Buf(output, "output", name, write=True)
    _check_like(input_list, output, "input_list", name, world.size)
    mpi_op, average, wide = _mpi_op(op, out.array.dtype, name)
    parts = np.empty((world.size,) + out.array.shape, dtype=wide or out.array.dtype)
    for part, t in zip(parts, input_list):
        np.copyto(part, np.asarray(t))
    return _reduce_scatter_into(name, world, parts, out, mpi_op, average, wide, async_op, [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Like reduce_scatter with `input` the concatenation of the list (world_size * output.numel()
    elements, rank r's share being the r-th block)."""
    name = "reduce_scatter_tensor"
    world = _setup(name, group)
    out = _Buf(output, "output", name, write=True)
    send = _Buf(input, "input", name, write=False)
    _check_total(input, output, world.size, "input", "output", name)
    mpi_op, average, wide = _mpi_op(op, out.array.dtype, name)
    data = send.array if wide is None else send.array.astype(wide)
    return _reduce_scatter_into(name, world, data, out, mpi_op, average, wide, async_op, [output])


def _reduce_scatter_into(name, world, send, out, mpi_op, average, wide, async_op, outputs):
    """send: the (world_size, ...) blocks, already in `wide` if given; out receives this rank's."""
    comm, a = world.comm, out.array
    recv = a if wide is None else np.empty(a.shape, dtype=wide)

    def finish():
        _narrow_into(a, recv)
        if average:
            np.divide(a, world.size, out=a)
        out.done()

    return _launch(name, async_op, lambda: comm.Ireduce_scatter_block(send, recv, mpi_op),
                   lambda: comm.Reduce_scatter_block(send, recv, mpi_op), finish, outputs, (send, out, recv))


# ------------------------------------------------------------------------------------ point to point


def send(tensor, dst, group=None, tag=0):
    """Send `tensor` to rank `dst` (blocks until it may be reused)."""
    world = _setup("send", group)
    dst = _check_rank(dst, "dst", world.size, "send")
    buf = _Buf(tensor, "tensor", "send", write=False)
    with _watch("send"):
        world.comm.Send(buf.array, dest=dst, tag=tag)


def recv(tensor, src=None, group=None, tag=0):
    """Receive into `tensor` from rank `src` (any rank if None); returns the sender's rank."""
    MPI = _mpi()
    world = _setup("recv", group)
    source = MPI.ANY_SOURCE if src is None else _check_rank(src, "src", world.size, "recv")
    buf = _Buf(tensor, "tensor", "recv", write=True)
    status = MPI.Status()
    with _watch("recv"):
        world.comm.Recv(buf.array, source=source, tag=tag, status=status)
    buf.done()
    return status.Get_source()


def isend(tensor, dst, group=None, tag=0):
    """Start sending `tensor` to rank `dst`; returns a Work."""
    world = _setup("isend", group)
    dst = _check_rank(dst, "dst", world.size, "isend")
    buf = _Buf(tensor, "tensor", "isend", write=False)
    return Work(world.comm.Isend(buf.array, dest=dst, tag=tag), "isend", None, [tensor], buf)


def irecv(tensor, src=None, group=None, tag=0):
    """Start receiving into `tensor` from rank `src` (any rank if None); returns a Work."""
    MPI = _mpi()
    world = _setup("irecv", group)
    source = MPI.ANY_SOURCE if src is None else _check_rank(src, "src", world.size, "irecv")
    buf = _Buf(tensor, "tensor", "irecv", write=True)
    return Work(world.comm.Irecv(buf.array, source=source, tag=tag), "irecv", buf.done, [tensor], buf)


# ------------------------------------------------------------------------------------------ objects


def all_gather_object(object_list, obj, group=None):
    """object_list[r] receives the picklable `obj` of rank r, on every rank."""
    world = _setup("all_gather_object", group)
    _check_object_list(object_list, world.size, "all_gather_object")
    with _watch("all_gather_object"):
        gathered = world.comm.allgather(obj)
    object_list[:] = gathered


def gather_object(obj, object_gather_list=None, dst=0, group=None):
    """On rank `dst`, object_gather_list[r] receives the picklable `obj` of rank r."""
    world = _setup("gather_object", group)
    dst = _check_rank(dst, "dst", world.size, "gather_object")
    if world.rank == dst:
        _check_object_list(object_gather_list, world.size, "gather_object")
    with _watch("gather_object"):
        gathered = world.comm.gather(obj, root=dst)
    if world.rank == dst:
        object_gather_list[:] = gathered


def broadcast_object_list(object_list, src=0, group=None):
    """Replace the entries of object_list on every rank by those of rank `src` (same length everywhere)."""
    world = _setup("broadcast_object_list", group)
    src = _check_rank(src, "src", world.size, "broadcast_object_list")
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list must be a list, got {type(object_list).__name__}")
    with _watch("broadcast_object_list"):
        received = world.comm.bcast(object_list if world.rank == src else None, root=src)
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {src} sent {len(received)} objects but this rank's "
                         f"object_list holds {len(object_list)}")
    object_list[:] = received


def _check_object_list(object_list, size, name):
    if not isinstance(object_list, list):
        raise TypeError(f"{name}: expected a list to fill, got {type(object_list).__name__}")
    if len(object_list) != size:
        raise ValueError(f"{name}: the list must have one slot per rank ({size}), got {len(object_list)}")
