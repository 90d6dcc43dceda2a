"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

Every rank runs forward and backward on its own share of the batch. Gradients are grouped into
buckets (bucket_cap_mb each, the first one 1 MB so communication starts early) in reverse parameter
order, roughly the order backward produces them. A post-accumulate-grad hook on each parameter
copies its gradient into its bucket; once a bucket is full, its all-reduce (MPI_Iallreduce) starts
while backward goes on computing the gradients of earlier layers. Buckets are started strictly in
order, so every rank issues the same collectives in the same order whatever its graph. When the last
bucket has started, the hook waits for all of them and writes the averaged gradients back into
.grad; by the time loss.backward() returns, every rank holds the same gradients.
"""
import contextlib

import numpy as np

from ... import distributed
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...ops.creation import from_numpy
from ...tensor import Tensor
from ..module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


def _dist():
    return distributed


class _Bucket:
    """Gradients of several parameters of one dtype, flattened into one contiguous buffer."""

    __slots__ = ("buffer", "params", "pending", "slices", "work")

    def __init__(self, params):
        self.params = params
        dtype = params[0].dtype.numpy
        sizes = [p.numel() for p in params]
        self.buffer = np.empty(sum(sizes), dtype=dtype)
        offsets = np.cumsum([0] + sizes)
        self.slices = [self.buffer[a:b].reshape(tuple(p.shape)) for p, a, b in zip(params, offsets, offsets[1:])]
        self.pending = 0
        self.work = None


def _build_buckets(params, cap_bytes, first_cap_bytes):
    """Buckets over params in reverse order; a bucket holds one dtype and at most its cap of bytes
    (a single larger parameter gets a bucket of its own)."""
    buckets, current, size, dtype = [], [], 0, None
    cap = first_cap_bytes
    for p in reversed(params):
        nbytes = p.numel() * p.itemsize
        if current and (p.dtype != dtype or size + nbytes > cap):
            buckets.append(current)
            current, size = [], 0
            cap = cap_bytes
        current.append(p)
        size += nbytes
        dtype = p.dtype
    if current:
        buckets.append(current)
    return [_Bucket(b) for b in buckets]


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _tensors_in(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _tensors_in(item, out)
    return out


def _reachable_leaves(outputs):
    """ids of the leaf tensors the graph of `outputs` reaches (the parameters used this iteration)."""
    found, seen = set(), set()
    stack = []
    for t in _tensors_in(outputs, []):
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            found.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.next_edges:
            if e is None:
                continue
            if e[1] is None:
                found.add(id(e[0]))
            elif isinstance(e[0], Function):
                stack.append(e[0])
    return found


class DistributedDataParallel(Module):
    """Data-parallel training over the default process group (init_process_group first).

    model = DistributedDataParallel(model)       # wraps; the original is model.module
    loss_fn(model(x_local), y_local).backward()  # .grad now holds the average over all ranks

    At construction every rank's parameters and buffers are overwritten by rank 0's, after checking
    that all ranks built the same parameter shapes. bucket_cap_mb: bucket size in MiB (25, as torch).
    find_unused_parameters: look at the graph after each forward and count parameters that did not
    take part as ready (needed when some parameters get no gradient in an iteration). broadcast_buffers:
    copy rank 0's buffers (batch-norm running statistics) to every rank before each forward.
    no_sync(): a context in which backward accumulates local gradients without communicating.
    check_reduction and static_graph are accepted so PyTorch code runs unchanged; both are hints there
    and change nothing here. gradient_as_bucket_view=True, GPUs (device_ids) and process groups other
    than the default one are not supported and raise.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        dist = _dist()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError("DistributedDataParallel: device_ids and output_device are for GPUs; autograd_core "
                             "runs on the CPU: leave them unset")
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim={dim} is not supported; each rank's batch is its own "
                             "input, so there is nothing to scatter")
        if gradient_as_bucket_view:
            raise ValueError("DistributedDataParallel: gradient_as_bucket_view is not supported (gradients are "
                             "copied into the buckets and back)")
        dist.process_group._check_group(process_group, "DistributedDataParallel")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not been initialized; call "
                               "autograd_core.distributed.init_process_group(backend='mpi') first")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        self.module = module
        self.world_size = dist.get_world_size()
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_bytes_cap = int(bucket_cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self._check_same_model()
        self._sync_module_states()
        params = [p for _, p in named]
        self._param_names = {id(p): n for n, p in named}
        self._buckets = _build_buckets(params, self.bucket_bytes_cap, min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap))
        where = {}
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                where[id(p)] = (b, i)
        self._where = where
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._reduction = None

    # ---------------------------------------------------------------------------------- construction
    def _check_same_model(self):
        """Every rank must hold the same parameter names, shapes and dtypes (else collectives would
        mix unrelated memory); all ranks raise together, naming the first difference."""
        dist = _dist()
        mine = [(n, tuple(p.shape), p.dtype.name) for n, p in self.module.named_parameters()]
        everyone = [None] * self.world_size
        dist.all_gather_object(everyone, mine)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone[1:], start=1):
            if theirs == reference:
                continue
            if len(theirs) != len(reference):
                detail = f"rank 0 has {len(reference)} parameters, rank {rank} has {len(theirs)}"
            else:
                a, b = next((a, b) for a, b in zip(reference, theirs) if a != b)
                detail = (f"rank 0 has {a[0]} of shape {a[1]} ({a[2]}), rank {rank} has {b[0]} of shape {b[1]} "
                          f"({b[2]})")
            raise RuntimeError("DistributedDataParallel: the ranks' models differ (every rank must build the same "
                               f"model): {detail}")

    def _broadcast_coalesced(self, tensors):
        """Copy rank 0's values of `tensors` to every rank: one broadcast per dtype."""
        dist = _dist()
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype.name, []).append(t)
        for group in by_dtype.values():
            flat = np.concatenate([np.asarray(t).reshape(-1) for t in group])
            dist.broadcast(from_numpy(flat), src=0)
            if dist.get_rank() != 0:
                start = 0
                for t in group:
                    n = t.numel()
                    np.copyto(np.asarray(t), flat[start:start + n].reshape(tuple(t.shape)))
                    t._bump_version()
                    start += n

    def _sync_module_states(self):
        tensors = [p for p in self.module.parameters()] + [b for b in self.module.buffers()]
        if tensors:
            self._broadcast_coalesced(tensors)

    # -------------------------------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        if self._reduction is not None and self._reduction["started"]:
            self._reduction_not_finished()
        if self.require_forward_param_sync and self.broadcast_buffers and self.world_size > 1:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self._prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
            self._reduction = None
        return output

    def _prepare_for_backward(self, output):
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None
        reduction = {"next": 0, "started": False, "ready": set(), "unused": set()}
        self._reduction = reduction
        if self.find_unused_parameters:
            used = _reachable_leaves(output)
            for p_id in self._where:
                if p_id not in used:
                    reduction["unused"].add(p_id)
            for bucket in self._buckets:
                for p in bucket.params:
                    if id(p) in reduction["unused"]:
                        self._mark_ready(p, reduction)

    def _reduction_not_finished(self):
        missing = [self._param_names[p_id] for p_id in self._where if p_id not in self._reduction["ready"]]
        self._reduction = None
        raise RuntimeError(
            "DistributedDataParallel: expected to have finished reduction in the prior iteration before starting a "
            "new one. Some parameters received no gradient in that backward, so their buckets were never "
            f"all-reduced: {', '.join(missing)}. Pass find_unused_parameters=True to DistributedDataParallel "
            "if parameters can go unused, and make sure every rank computes its loss from all of the forward's "
            "outputs.")

    # ------------------------------------------------------------------------------------- backward
    def _grad_ready(self, param):
        """Post-accumulate-grad hook: param.grad is final for this backward."""
        reduction = self._reduction
        if reduction is None or id(param) in reduction["ready"]:
            return
        reduction["started"] = True
        self._mark_ready(param, reduction)

    def _mark_ready(self, param, reduction):
        b, i = self._where[id(param)]
        bucket = self._buckets[b]
        reduction["ready"].add(id(param))
        slot = bucket.slices[i]
        grad = param.grad
        if grad is None:
            slot.fill(0)
        else:
            np.copyto(slot, np.asarray(grad))
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets(reduction)
        else:
            # let MPI progress the all-reduces already under way
            for earlier in self._buckets[:reduction["next"]]:
                if earlier.work is not None:
                    earlier.work.is_completed()

    def _launch_ready_buckets(self, reduction):
        dist = _dist()
        buckets = self._buckets
        while reduction["next"] < len(buckets) and buckets[reduction["next"]].pending == 0:
            bucket = buckets[reduction["next"]]
            # dividing first (as torch does) keeps the sum of large gradients from overflowing
            np.divide(bucket.buffer, self.world_size, out=bucket.buffer)
            bucket.work = dist.all_reduce(_bucket_tensor(bucket), op=dist.ReduceOp.SUM, async_op=True)
            reduction["next"] += 1
        if reduction["next"] == len(buckets):
            self._finish_reduction(reduction)

    def _finish_reduction(self, reduction):
        dist = _dist()
        for bucket in self._buckets:
            bucket.work.wait()
        globally_used = None
        if self.find_unused_parameters:
            flags = np.array([p_id not in reduction["unused"] for p_id in self._where], dtype=np.uint8)
            dist.all_reduce(from_numpy(flags), op=dist.ReduceOp.MAX)
            globally_used = dict(zip(self._where, flags.astype(bool)))
        self._reduction = None
        with no_grad():
            for bucket in self._buckets:
                for p, slot in zip(bucket.params, bucket.slices):
                    if globally_used is not None and not globally_used[id(p)]:
                        continue  # no rank used it: leave .grad as it was, as torch does
                    if p.grad is None:
                        p.grad = from_numpy(slot.copy())
                    else:
                        np.copyto(np.asarray(p.grad), slot)
                        p.grad._bump_version()

    # ------------------------------------------------------------------------------------ no_sync
    @contextlib.contextmanager
    def no_sync(self):
        """Inside this block, backward only accumulates local gradients (no communication); the first
        backward after it averages everything accumulated."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"


def _bucket_tensor(bucket):
    return from_numpy(bucket.buffer)
