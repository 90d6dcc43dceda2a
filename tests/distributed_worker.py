"""Run by tests/test_distributed.py under mpiexec: every rank runs every check, and rank 0 prints one
JSON line {check name: "ok" or the failure on each rank}.

    mpiexec -n 3 python tests/distributed_worker.py suite
    mpiexec -n 2 python tests/distributed_worker.py crash   (rank 1 raises: the job must abort)
"""
import copy
import json
import sys
import time
import traceback

import numpy as np

import autograd_core as ag
import autograd_core.distributed as dist
from autograd_core import nn
from autograd_core.nn.parallel import DistributedDataParallel as DDP
from autograd_core.utils.data.distributed import DistributedSampler

CHECKS = []
SUITE_TIMEOUT = 45  # seconds one collective may wait in the suite (tests/test_distributed.py gives a launch 120)


def check(fn):
    CHECKS.append(fn)
    return fn


def rank_data(r, shape, dtype, seed):
    """The array rank r contributes (every rank can compute every rank's)."""
    return np.asarray(_rank_data(r, shape, dtype, seed))


def _rank_data(r, shape, dtype, seed):
    rng = np.random.default_rng([seed, r])
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-50, 50, shape).astype(dtype)
    return (rng.standard_normal(shape) * 3).astype(dtype)


DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]
OPS = ["SUM", "AVG", "PRODUCT", "MIN", "MAX"]


def numpy_reduce(arrays, op):
    stack = np.stack(arrays)
    if stack.dtype == np.bool_:
        fn = {"SUM": np.any, "MAX": np.any, "PRODUCT": np.all, "MIN": np.all}[op]
        return fn(stack, axis=0)
    if op == "AVG":
        return (stack.astype(np.float64).sum(axis=0) / len(arrays)).astype(stack.dtype)
    if op in ("MIN", "MAX"):
        return (np.min if op == "MIN" else np.max)(stack, axis=0)
    return (np.sum if op == "SUM" else np.prod)(stack, axis=0, dtype=stack.dtype)


def assert_same(got, want, what):
    got = np.asarray(got)
    if got.dtype.kind == "f":
        tol = 1e-5 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def layouts(a):
    """(name, tensor holding a) in several memory layouts."""
    yield "contiguous", ag.from_numpy(a.copy())
    if a.ndim == 2:
        t = ag.from_numpy(np.ascontiguousarray(a.T)).T  # transposed view
        yield "transposed", t
        wide = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
        wide[:, ::2] = a
        yield "sliced", ag.from_numpy(wide)[:, ::2]


@check
def all_reduce_every_dtype_op_layout():
    r, n = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        for op in OPS:
            if op == "AVG" and np.dtype(dtype).kind != "f":
                t = ag.from_numpy(rank_data(r, (3,), dtype, 1))
                try:
                    dist.all_reduce(t, op=dist.ReduceOp.AVG)
                except ValueError as exc:
                    assert "AVG" in str(exc) and np.dtype(dtype).name in str(exc), exc
                else:
                    raise AssertionError(f"AVG on {dtype} did not raise")
                continue
            for shape in [(4, 5), (), (7,)]:
                arrays = [rank_data(q, shape, dtype, OPS.index(op) * 10 + len(shape)) for q in range(n)]
                want = numpy_reduce(arrays, op)
                for layout, _ in layouts(arrays[r]):
                    for async_op in (False, True):
                        t2 = _relayout(arrays[r], layout)
                        work = dist.all_reduce(t2, op=getattr(dist.ReduceOp, op), async_op=async_op)
                        if async_op:
                            assert work.wait() and work.is_completed()
                        assert_same(np.asarray(t2), want, f"all_reduce {op} {np.dtype(dtype).name} {shape} "
                                    f"{layout} async={async_op}")


@check
def all_reduce_bitwise_ops():
    r, n = dist.get_rank(), dist.get_world_size()
    bitwise = {"BAND": np.bitwise_and, "BOR": np.bitwise_or, "BXOR": np.bitwise_xor}
    for dtype in DTYPES:
        for op, fn in bitwise.items():
            if np.dtype(dtype).kind == "f":
                try:
                    dist.all_reduce(ag.from_numpy(rank_data(r, (3,), dtype, 1)), op=getattr(dist.ReduceOp, op))
                except ValueError as exc:
                    assert f"ReduceOp.{op}" in str(exc) and np.dtype(dtype).name in str(exc), exc
                else:
                    raise AssertionError(f"{op} on {dtype} did not raise")
                continue
            arrays = [rank_data(q, (4, 5), dtype, 30 + len(op)) for q in range(n)]
            want = fn.reduce(np.stack(arrays), axis=0)
            for layout, t in layouts(arrays[r]):
                dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
                assert_same(np.asarray(t), want, f"all_reduce {op} {np.dtype(dtype).name} {layout}")


def _relayout(a, layout):
    return dict(layouts(a))[layout]


@check
def reduce_and_reduce_scatter():
    r, n = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        for op in OPS:
            if op == "AVG" and np.dtype(dtype).kind != "f":
                continue
            arrays = [rank_data(q, (3, 2), dtype, 7) for q in range(n)]
            want = numpy_reduce(arrays, op)
            dst = n - 1
            t = ag.from_numpy(arrays[r].copy())
            dist.reduce(t, dst=dst, op=getattr(dist.ReduceOp, op))
            assert_same(np.asarray(t), want if r == dst else arrays[r], f"reduce {op} {np.dtype(dtype).name}")
            # reduce_scatter: rank q's input_list[j] is block j of its (n, 3, 2) data
            blocks = [rank_data(q, (n, 3, 2), dtype, 8) for q in range(n)]
            want_all = numpy_reduce(blocks, op)
            out = ag.from_numpy(np.zeros((3, 2), dtype=dtype))
            work = dist.reduce_scatter(out, [ag.from_numpy(b.copy()) for b in blocks[r]],
                                       op=getattr(dist.ReduceOp, op), async_op=True)
            work.wait()
            assert_same(np.asarray(out), want_all[r], f"reduce_scatter {op} {np.dtype(dtype).name}")
            out = ag.from_numpy(np.zeros((3, 2), dtype=dtype))
            dist.reduce_scatter_tensor(out, ag.from_numpy(blocks[r].reshape(n * 3, 2).copy()),
                                       op=getattr(dist.ReduceOp, op))
            assert_same(np.asarray(out), want_all[r], f"reduce_scatter_tensor {op} {np.dtype(dtype).name}")


@check
def broadcast_gather_scatter_every_dtype():
    r, n = dist.get_rank(), dist.get_world_size()
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        arrays = [rank_data(q, (3, 4), dtype, 11) for q in range(n)]
        for src in range(n):
            for layout, t in layouts(arrays[r]):
                work = dist.broadcast(t, src=src, async_op=src % 2 == 1)
                if work is not None:
                    work.wait()
                assert_same(np.asarray(t), arrays[src], f"broadcast {name} src={src} {layout}")
        outs = [ag.from_numpy(np.zeros((3, 4), dtype=dtype)) for _ in range(n)]
        dist.all_gather(outs, ag.from_numpy(arrays[r].copy()))
        for q in range(n):
            assert_same(np.asarray(outs[q]), arrays[q], f"all_gather {name}")
        outs = [_relayout(np.zeros((3, 4), dtype=dtype), "transposed") for _ in range(n)]
        dist.all_gather(outs, _relayout(arrays[r], "sliced"), async_op=True).wait()
        for q in range(n):
            assert_same(np.asarray(outs[q]), arrays[q], f"all_gather non-contiguous {name}")
        big = ag.from_numpy(np.zeros((n * 3, 4), dtype=dtype))
        dist.all_gather_into_tensor(big, ag.from_numpy(arrays[r].copy()))
        assert_same(np.asarray(big), np.concatenate(arrays), f"all_gather_into_tensor {name}")
        dst = n - 1
        gl = [ag.from_numpy(np.zeros((3, 4), dtype=dtype)) for _ in range(n)] if r == dst else None
        dist.gather(ag.from_numpy(arrays[r].copy()), gl, dst=dst)
        if r == dst:
            for q in range(n):
                assert_same(np.asarray(gl[q]), arrays[q], f"gather {name}")
        parts = [rank_data(q, (2, 2), dtype, 12) for q in range(n)]
        out = ag.from_numpy(np.zeros((2, 2), dtype=dtype))
        work = dist.scatter(out, [ag.from_numpy(p) for p in parts] if r == 0 else None, src=0, async_op=True)
        work.wait()
        assert_same(np.asarray(out), parts[r], f"scatter {name}")


@check
def objects_barrier_p2p_and_group_queries():
    r, n = dist.get_rank(), dist.get_world_size()
    assert dist.is_available() and dist.is_initialized() and dist.get_backend() == "mpi"
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "text": "x" * r})
    assert objs == [{"rank": q, "text": "x" * q} for q in range(n)], objs
    shared = [r, "hello"] if r == 0 else [None, None]
    dist.broadcast_object_list(shared, src=0)
    assert shared == [0, "hello"]
    got = [None] * n if r == 0 else None
    dist.gather_object(r * 10, got, dst=0)
    if r == 0:
        assert got == [q * 10 for q in range(n)]
    dist.barrier()
    dist.barrier(async_op=True).wait()
    # ring of sends
    t = ag.tensor([float(r)] * 3, dtype=ag.float64)
    into = ag.zeros(3, dtype=ag.float64)
    recv = dist.irecv(into, src=(r - 1) % n)
    dist.send(t, dst=(r + 1) % n)
    recv.wait()
    assert into.tolist() == [float((r - 1) % n)] * 3


@check
def collective_argument_errors():
    n = dist.get_world_size()
    cases = [
        (lambda: dist.all_reduce(np.zeros(3)), TypeError, "all_reduce: tensor must be an autograd_core Tensor"),
        (lambda: dist.all_reduce(ag.zeros(3), op="mean"), TypeError, "op must be a ReduceOp"),
        (lambda: dist.broadcast(ag.zeros(3), src=n), ValueError, "src must be a rank"),
        (lambda: dist.all_gather([ag.zeros(3)] * (n + 1), ag.zeros(3)), ValueError, "one tensor per rank"),
        (lambda: dist.all_gather([ag.zeros(2)] * n, ag.zeros(3)), ValueError, "expected float32 of shape"),
        (lambda: dist.all_gather_into_tensor(ag.zeros(n * 3 + 1), ag.zeros(3)), ValueError, "world_size"),
        (lambda: dist.all_reduce(ag.zeros(1).expand(4)), ValueError, "overlapping memory"),
        (lambda: dist.all_reduce(ag.zeros(3, dtype=ag.bool), op=dist.ReduceOp.AVG), ValueError, "bool"),
        (lambda: dist.init_process_group("mpi"), RuntimeError, "twice"),
        (lambda: dist.all_reduce(ag.zeros(3), group=object()), ValueError, "default group"),
    ]
    for fn, exc_type, pattern in cases:
        try:
            fn()
        except exc_type as exc:
            assert pattern in str(exc), (pattern, str(exc))
        else:
            raise AssertionError(f"no {exc_type.__name__} ({pattern})")


# ------------------------------------------------------------------------------------------- DDP


def make_model(seed=0):
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 16), nn.Tanh(), nn.Linear(16, 5))
    return model.double()


def global_batches(steps, global_batch, seed=5):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield (ag.from_numpy(rng.standard_normal((global_batch, 1, 8, 8))),
               ag.from_numpy(rng.integers(0, 5, global_batch).astype(np.int64)))


def my_share(x, y):
    r, n = dist.get_rank(), dist.get_world_size()
    per = x.shape[0] // n
    return x[r * per:(r + 1) * per], y[r * per:(r + 1) * per]


@check
def ddp_training_equals_single_process():
    n = dist.get_world_size()
    reference = make_model()
    model = make_model(seed=100 + dist.get_rank())  # different start everywhere: DDP copies rank 0's
    model.load_state_dict(reference.state_dict()) if dist.get_rank() == 0 else None
    ddp = DDP(model, bucket_cap_mb=0.002)  # ~2 KB buckets: several of them
    assert len(ddp._buckets) >= 3, len(ddp._buckets)
    loss_fn = nn.CrossEntropyLoss()
    opt = ag.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = ag.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for x, y in global_batches(4, 6 * n):
        ref_opt.zero_grad()
        loss_fn(reference(x), y).backward()
        ref_opt.step()
        opt.zero_grad()
        xs, ys = my_share(x, y)
        loss_fn(ddp(xs), ys).backward()
        opt.step()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=0, atol=1e-12, err_msg=name)
    assert list(ddp.state_dict()) == ["module." + k for k in reference.state_dict()]
    assert ddp.module is model


@check
def ddp_no_sync_accumulation_equals_one_large_batch():
    n = dist.get_world_size()
    reference = make_model()
    ddp = DDP(make_model())
    loss_fn = nn.CrossEntropyLoss()
    micro = 3
    (x, y), = global_batches(1, 4 * micro * n, seed=9)
    loss_fn(reference(x), y).backward()
    xs, ys = my_share(x, y)
    per = xs.shape[0] // micro
    for k in range(micro):
        context = ddp.no_sync() if k < micro - 1 else _null()
        with context:
            (loss_fn(ddp(xs[k * per:(k + 1) * per]), ys[k * per:(k + 1) * per]) / micro).backward()
        if k == 0:  # inside no_sync: local gradients only, so the ranks differ
            local = next(ddp.module.parameters()).grad.numpy().copy()
            everyone = [None] * n
            dist.all_gather_object(everyone, local)
            assert n == 1 or not np.allclose(everyone[0], everyone[1])
    for (name, p), q in zip(ddp.module.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@check
def ddp_starts_all_reduce_before_backward_ends():
    ddp = DDP(make_model(), bucket_cap_mb=0.002)
    events = []
    original = ddp._launch_ready_buckets

    def launch(reduction):
        events.append(("launch", reduction["next"]))
        original(reduction)

    ddp._launch_ready_buckets = launch
    (x, y), = global_batches(1, 4)
    x.requires_grad_(True)
    out = ddp(x)
    x.register_hook(lambda g: events.append(("input grad",)))
    nn.CrossEntropyLoss()(out, y).backward()
    first_launch = events.index(("launch", 0))
    assert first_launch < events.index(("input grad",)), events
    assert len(ddp._buckets) >= 3


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 3)
        self.rank0_only = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x):
        h = self.body(x)
        if dist.get_rank() == 0:
            h = self.rank0_only(h)
        return h


@check
def ddp_find_unused_parameters():
    n = dist.get_world_size()
    ag.manual_seed(0)
    model = Branchy().double()
    reference = copy.deepcopy(model)
    ddp = DDP(model, find_unused_parameters=True)
    x = ag.from_numpy(np.random.default_rng(dist.get_rank()).standard_normal((5, 4)))
    ddp(x).sum().backward()
    # expected: each parameter's gradient summed over the ranks that used it, divided by n
    grads = {}
    for q in range(n):
        ref = copy.deepcopy(reference)
        xq = ag.from_numpy(np.random.default_rng(q).standard_normal((5, 4)))
        h = ref.body(xq)
        if q == 0:
            h = ref.rank0_only(h)
        h.sum().backward()
        for name, p in ref.named_parameters():
            if p.grad is not None:
                grads[name] = grads.get(name, 0) + p.grad.numpy() / n
    for name, p in model.named_parameters():
        if name.startswith("never"):
            assert p.grad is None, name  # unused on every rank: left alone
        else:
            np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=0, atol=1e-12, err_msg=name)
    # the same model without find_unused_parameters: the next forward names what got no gradient
    ddp = DDP(Branchy().double())
    ddp(x).sum().backward()
    try:
        ddp(x)
    except RuntimeError as exc:
        assert "find_unused_parameters=True" in str(exc) and "never.weight" in str(exc), exc
    else:
        raise AssertionError("no error for unused parameters")


@check
def ddp_broadcasts_buffers_before_forward():
    r = dist.get_rank()
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    with ag.no_grad():
        model[1].running_mean.fill_(float(r))  # differ before wrapping: rank 0's wins
    ddp = DDP(model)
    assert model[1].running_mean.tolist() == [0.0] * 4
    x1 = ag.from_numpy(np.random.default_rng(r).standard_normal((6, 3)) + r)
    ddp(x1).sum().backward()
    after_first = model[1].running_mean.numpy().copy()
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, after_first)
    x2 = ag.from_numpy(np.random.default_rng(50 + r).standard_normal((6, 3)))
    ddp(x2).sum().backward()
    # the second forward started from rank 0's statistics
    with ag.no_grad():
        batch_mean = model[0](x2).numpy().mean(axis=0)
    np.testing.assert_allclose(model[1].running_mean.numpy(), 0.9 * everyone[0] + 0.1 * batch_mean, atol=1e-12)


@check
def ddp_rejects_different_models():
    r = dist.get_rank()
    model = nn.Linear(3, 4 + (r == dist.get_world_size() - 1 and r > 0))
    try:
        DDP(model)
    except RuntimeError as exc:
        if dist.get_world_size() > 1:
            assert "models differ" in str(exc) and "weight" in str(exc) and "(4, 3)" in str(exc), exc
        else:
            raise
    else:
        assert dist.get_world_size() == 1, "no error for different models"


@check
def sampler_partitions_exactly():
    n = dist.get_world_size()
    for size in (10, 11, 1):
        for drop_last in (False, True):
            sampler = DistributedSampler(range(size), shuffle=True, seed=3, drop_last=drop_last)
            sampler.set_epoch(2)
            mine = list(sampler)
            everyone = [None] * n
            dist.all_gather_object(everyone, mine)
            assert all(len(s) == len(sampler) for s in everyone), everyone
            flat = sorted(i for s in everyone for i in s)
            if drop_last:
                assert len(set(flat)) == len(flat) == (size // n) * n, (size, flat)
            else:
                assert set(flat) == set(range(size)) and len(flat) == -(-size // n) * n, (size, flat)


@check
def fit_distributed_equals_single_process_fit():
    n = dist.get_world_size()
    rng = np.random.default_rng(4)
    x = ag.from_numpy(rng.standard_normal((8 * n * 3, 1, 8, 8)))
    y = ag.from_numpy(rng.integers(0, 5, 8 * n * 3).astype(np.int64))
    reference = make_model()
    ref_hist = ag.train.fit(reference, nn.CrossEntropyLoss(), ag.optim.SGD(reference.parameters(), lr=0.05),
                            (x, y), epochs=2, batch_size=4 * n, shuffle=False, progress=False, distributed=False)
    model = make_model()
    hist = ag.train.fit(model, nn.CrossEntropyLoss(), ag.optim.SGD(model.parameters(), lr=0.05), (x, y),
                        epochs=2, batch_size=4, shuffle=False, progress=False, distributed=True,
                        metrics=("accuracy",))
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(hist["loss"], ref_hist["loss"], rtol=1e-12)


def run_suite():
    # a check that fails on some ranks only leaves the others in a collective the failed ones never
    # join: the watchdog then ends the job well before the test's launch timeout, and each failure
    # is on stderr already
    dist.init_process_group(backend="mpi", timeout=SUITE_TIMEOUT)
    results = {}
    for fn in CHECKS:
        started = time.perf_counter()
        try:
            fn()
            results[fn.__name__] = None
        except Exception:  # noqa: BLE001  (reported to the test, which fails)
            results[fn.__name__] = traceback.format_exc()
            sys.stderr.write(f"rank {dist.get_rank()}: {fn.__name__} failed:\n{results[fn.__name__]}")
            sys.stderr.flush()
        dist.barrier()
        results[fn.__name__ + ":seconds"] = time.perf_counter() - started
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, results)
    if dist.get_rank() == 0:
        merged = {}
        for fn in CHECKS:
            failures = [f"rank {q}:\n{res[fn.__name__]}" for q, res in enumerate(everyone) if res[fn.__name__]]
            merged[fn.__name__] = "\n".join(failures) or "ok"
            merged[fn.__name__ + ":seconds"] = round(everyone[0][fn.__name__ + ":seconds"], 3)
        print("RESULTS " + json.dumps(merged), flush=True)
    dist.destroy_process_group()


def run_crash():
    dist.init_process_group(backend="mpi")
    if dist.get_rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    t = ag.ones(3)
    dist.all_reduce(t)  # the other ranks would wait here forever without the abort
    print("UNREACHABLE", flush=True)


def run_timeout():
    # rank 1 never joins the collective (it sleeps); the watchdog of the others aborts the job
    dist.init_process_group(backend="mpi", timeout=1.0)
    if dist.get_rank() == 1:
        time.sleep(60)
    dist.all_reduce(ag.ones(3))
    print("UNREACHABLE", flush=True)


if __name__ == "__main__":
    {"suite": run_suite, "crash": run_crash, "timeout": run_timeout}[sys.argv[1]]()
