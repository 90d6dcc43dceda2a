"""The autodiff engine: accumulation, retain/create graph, hooks, custom Functions, version counters,
grad modes, anomaly detection, long chains."""
import gc
import weakref

import numpy as np
import pytest

import autograd_core as ag


def test_backward_accumulates_into_leaves():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_shared_subexpression_sums_gradients():
    x = ag.tensor(2.0, requires_grad=True)
    y = x * x
    z = y + y * x  # x^2 + x^3
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 2 + 3 * 4)


def test_second_backward_without_retain_graph_raises():
    x = ag.randn(3, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ag.randn(3, requires_grad=True)
    y = x.exp().sum()
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)


def test_create_graph_gives_grad_of_grad():
    x = ag.tensor([0.5, -1.0], dtype=ag.float64, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = ag.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.0]) ** 2)
    (gg,) = ag.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * np.array([0.5, -1.0]))


def test_autograd_grad_does_not_touch_leaf_grad_and_allow_unused():
    x = ag.randn(3, requires_grad=True)
    w = ag.randn(3, requires_grad=True)
    y = (x * 2).sum()
    gx, gw = ag.autograd.grad(y, [x, w], allow_unused=True)
    assert x.grad is None and gw is None
    np.testing.assert_allclose(gx.numpy(), [2, 2, 2])
    with pytest.raises(RuntimeError, match="not have been used"):
        ag.autograd.grad((x * 2).sum(), [x, w])


def test_grad_of_nonleaf_input():
    x = ag.randn(4, requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = ag.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy(), rtol=1e-6)


def test_nonscalar_backward_needs_gradient():
    x = ag.randn(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(ag.ones(2, 3))
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 2.0))


def test_backward_gradient_shape_mismatch():
    x = ag.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="mismatch in shape"):
        (x * 2).backward(ag.ones(3, 2))


def test_retain_grad_and_hooks():
    x = ag.randn(3, requires_grad=True)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.clone()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy(), rtol=1e-6)
    assert len(seen) == 1
    np.testing.assert_allclose(x.grad.numpy(), 10 * 2 * 2 * h.detach().numpy(), rtol=1e-6)


def test_hook_handle_remove():
    x = ag.randn(3, requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])


def test_nonleaf_grad_is_none_without_retain_grad():
    x = ag.randn(3, requires_grad=True)
    h = x * 2
    h.sum().backward()
    assert h.grad is None and not h.is_leaf and x.is_leaf


def test_no_grad_builds_no_graph_and_decorators():
    x = ag.randn(3, requires_grad=True)
    with ag.no_grad():
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad

    @ag.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_custom_function():
    class Cube(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None and "Cube" in y.grad_fn.name()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert ag.autograd.gradcheck(Cube.apply, [ag.randn(4, dtype=ag.float64, requires_grad=True)])
    assert ag.autograd.gradgradcheck(Cube.apply, [ag.randn(4, dtype=ag.float64, requires_grad=True)])


def test_inplace_modification_of_saved_tensor_raises():
    x = ag.randn(3, requires_grad=True)
    y = x.exp()  # saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with ag.no_grad():
        x.add_(1)  # allowed without recording


def test_inplace_on_nonleaf_is_differentiable():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    assert y._version > 0


def test_version_counter_shared_by_views():
    x = ag.zeros(4)
    v = x[1:3]
    before = x._version
    v.fill_(1)
    assert x._version == before + 1
    np.testing.assert_allclose(x.numpy(), [0, 1, 1, 0])


def test_long_chain_is_iterative():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_saved_tensors_freed_after_backward():
    x = ag.randn(100, requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y)
    s = y.sum()
    del y
    s.backward()
    gc.collect()
    assert ref() is None


def test_detect_anomaly_names_forward_op():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.autograd.detect_anomaly():
        y = x.sqrt() * 0  # d sqrt at 0 is inf; times 0 gives nan
        with pytest.raises(RuntimeError, match="Sqrt.*nan"):
            y.sum().backward()


def test_detect_anomaly_inf_option():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.autograd.detect_anomaly(check_inf=True), pytest.raises(RuntimeError, match="inf"):
        x.sqrt().sum().backward()


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2]).requires_grad_()


def test_detach_and_numpy():
    x = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    a = x.detach().numpy()
    a[0] = 42.0
    assert x[0].item() == 42.0  # shares memory


def test_gradcheck_reports_worst_element():
    class Wrong(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(ag.autograd.GradcheckError, match="input element"):
        ag.autograd.gradcheck(Wrong.apply, [ag.randn(3, dtype=ag.float64, requires_grad=True)])


def test_multiple_outputs_and_unused_output():
    x = ag.randn(6, dtype=ag.float64, requires_grad=True)
    a, _b = x.split(3)
    (a * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2, 0, 0, 0])


def test_dtype_of_gradient_matches_leaf():
    x = ag.randn(3, requires_grad=True)  # float32
    w = ag.randn(3, dtype=ag.float64)
    (x * w).sum().backward()
    assert x.grad.dtype == ag.float32


def test_setitem_then_backward_through_clone():
    x = ag.randn(4, requires_grad=True)
    y = x.clone()
    y[1] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 0, 1, 1])


def test_inplace_on_view_updates_base_graph():
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    v = ag.randn(4, dtype=ag.float64, requires_grad=True)
    y = x * 2
    y[0].add_(v)
    y[1].mul_(3)
    (y * y).sum().backward()
    xn, vn = x.detach().numpy(), v.detach().numpy()
    yn = 2 * xn
    yn[0] += vn
    yn[1] *= 3
    gx = 2 * yn * 2
    gx[1] *= 3
    np.testing.assert_allclose(x.grad.numpy(), gx)
    np.testing.assert_allclose(v.grad.numpy(), 2 * yn[0])


def test_inplace_on_view_of_leaf_raises():
    w = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0].add_(1)


def test_failed_backward_leaves_graph_usable():
    x = ag.randn(3, dtype=ag.float64, requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    handle = h.register_hook(lambda g: (_ for _ in ()).throw(ValueError("hook failed")))
    with pytest.raises(ValueError, match="hook failed"):
        y.backward(retain_graph=True)
    handle.remove()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.detach().numpy())


# ---------------------------------------------------------------------- the recording fast paths
# Scalar and unary ops (apply_one) and tensor-tensor arithmetic (apply_two) build their nodes
# without Function.apply's generic scan; the nodes must be the ones apply builds.
def _fast_cases():
    from autograd_core.ops import binary as B
    from autograd_core.ops import unary as U

    return [
        ("x * s", lambda x, w, b: x * 1.5, lambda x, w, b: B.MulScalar.apply(x, 1.5)),
        ("s * x", lambda x, w, b: 1.5 * x, lambda x, w, b: B.MulScalar.apply(x, 1.5)),
        ("x + s", lambda x, w, b: x + 0.25, lambda x, w, b: B.AddScalar.apply(x, 0.25)),
        ("x - s", lambda x, w, b: x - 0.25, lambda x, w, b: B.AddScalar.apply(x, -0.25)),
        ("x / s", lambda x, w, b: x / 4.0, lambda x, w, b: B.MulScalar.apply(x, 0.25)),
        ("tanh", lambda x, w, b: x.tanh(), lambda x, w, b: U.tanh.Function.apply(x)),
        ("x * w", lambda x, w, b: x * w, lambda x, w, b: B.Mul.apply(x, w)),
        ("x + b", lambda x, w, b: x + b, lambda x, w, b: B.Add.apply(x, b)),
        ("b - x", lambda x, w, b: b - x, lambda x, w, b: B.Sub.apply(b, x)),
        ("b / w", lambda x, w, b: b / w, lambda x, w, b: B.Div.apply(b, w)),
    ]


@pytest.mark.parametrize("case", _fast_cases(), ids=lambda c: c[0])
def test_fast_recording_builds_the_generic_node(case):
    _, fast, generic = case
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    w = ag.randn(4, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, 1, dtype=ag.float64)
    y1, y2 = fast(x, w, b), generic(x, w, b)
    n1, n2 = y1.grad_fn, y2.grad_fn
    assert type(n1) is type(n2)
    assert [(e[0] is not None, e[1]) for e in n1.next_functions] == \
           [(e[0] is not None, e[1]) for e in n2.next_functions]
    assert n1.needs_input_grad == n2.needs_input_grad
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
    g = ag.randn(*y1.shape, dtype=ag.float64)
    grads1 = ag.autograd.grad(y1, (x, w), g, allow_unused=True)
    grads2 = ag.autograd.grad(y2, (x, w), g, allow_unused=True)
    for a, c in zip(grads1, grads2):
        assert (a is None) == (c is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_fast_recording_gradients_and_double_backward():
    x = ag.randn(5, dtype=ag.float64, requires_grad=True)
    w = ag.randn(5, dtype=ag.float64, requires_grad=True)

    def f(x, w):
        return ((x * w).tanh() + 0.5) * 2.0 - x / 3.0

    assert ag.autograd.gradcheck(f, (x, w))
    assert ag.autograd.gradgradcheck(f, (x, w))


def test_fast_recording_anomaly_trace_names_the_line():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.autograd.detect_anomaly():
        y = (x * 1.0).sqrt() * 0.0  # the line the error must point at
        with pytest.raises(RuntimeError, match=r"(?s)Sqrt.*nan.*the line the error must point at"):
            y.sum().backward()


def test_user_function_wrong_gradient_shape_is_caught():
    class Bad(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()  # a scalar, not x's shape

    x = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadBackward returned an invalid gradient at index 0.*\(3,\)"):
        Bad.apply(x * 1.0).sum().backward()


def test_hooks_on_library_nodes_still_run():
    x = ag.randn(3, requires_grad=True)
    y = x * 2.0
    seen = []
    y.grad_fn.register_hook(lambda gi, go: seen.append("hook"))
    y.grad_fn.register_prehook(lambda go: seen.append("pre"))
    y.retain_grad()
    y.sum().backward()
    assert seen == ["pre", "hook"]
    np.testing.assert_array_equal(y.grad.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2, np.float32))


# ---------------------------------------------------------------------- saved outputs, no cycles
def _freed_without_gc(make):
    """make() -> a tensor; True if it is freed as soon as the last reference goes, with the garbage
    collector off (so a reference cycle through its graph node would keep it alive)."""
    gc.disable()
    try:
        y = make()
        ref = weakref.ref(y)
        del y
        return ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "exp", "softmax", "log_softmax", "sqrt", "pow"])
def test_ops_saving_their_output_make_no_reference_cycle(op):
    x = ag.rand(4, 5, requires_grad=True)
    fns = {"softmax": lambda: x.softmax(-1), "log_softmax": lambda: x.log_softmax(-1), "pow": lambda: x ** x}
    assert _freed_without_gc(fns.get(op, lambda: getattr(x, op)()))


def _fast_path_ops():
    """Every op recorded through apply_one / apply_two: those skip the check for a forward that
    saves its own output, so each must save data_alias(out) (or nothing) instead."""
    from autograd_core.ops import unary as U

    # the kernel rows of ops/unary.py: public ones (tanh) and the forms with parameters (_clamp)
    unary = sorted(n for n in dir(U) if callable(getattr(U, n)) and hasattr(getattr(U, n), "Function"))
    assert len(unary) > 20 and "tanh" in unary and "_clamp" in unary
    return [("unary", n) for n in unary] + [("binary", op) for op in ("x*w", "x+w", "x-w", "x/w", "x*s", "x+s")]


@pytest.mark.parametrize("kind,name", _fast_path_ops())
def test_fast_path_ops_make_no_reference_cycle(kind, name):
    from autograd_core.ops import unary as U

    x = ag.rand(4, 5, dtype=ag.float64, requires_grad=True)
    w = ag.rand(5, dtype=ag.float64, requires_grad=True)
    if kind == "unary":
        make = lambda: getattr(U, name).op(x, 0.5, 1.5)  # noqa: E731 (parameters for the ops that take them)
    else:
        make = {"x*w": lambda: x * w, "x+w": lambda: x + w, "x-w": lambda: x - w, "x/w": lambda: x / (w + 1),
                "x*s": lambda: x * 3.0, "x+s": lambda: x + 3.0}[name]
    y = make()
    assert y.grad_fn is not None
    assert all(t is not y for t in (y.grad_fn._saved or ())), f"{name} saves its own output"
    assert _freed_without_gc(make)


class _ExpSavingOutput(ag.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_custom_function_saving_its_output():
    x = ag.randn(4, dtype=ag.float64, requires_grad=True)
    assert _freed_without_gc(lambda: _ExpSavingOutput.apply(x))
    assert ag.autograd.gradcheck(_ExpSavingOutput.apply, (x,))
    assert ag.autograd.gradgradcheck(_ExpSavingOutput.apply, (x,))  # the saved output is differentiable
    y = _ExpSavingOutput.apply(x)
    y.mul_(2)  # modifying the saved output in place is still caught
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_dropped_graphs_do_not_accumulate_memory():
    # an evaluation loop without no_grad: each iteration's graph must go with its output
    x = ag.randn(256, 256, requires_grad=True)
    gc.disable()
    try:
        refs = []
        for _ in range(20):
            y = ag.nn.functional.softmax(x.tanh() * 2, -1).sigmoid()
            refs.append(weakref.ref(y))
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


# ---------------------------------------------------------------- post-accumulate-grad hooks
def test_post_accumulate_grad_hook_sees_the_complete_gradient_once():
    w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    y = (w * w).sum() + (w * 3).sum() + w.exp().sum()  # three edges into w
    y.backward()
    expected = 2 * np.array([1.0, 2.0, 3.0]) + 3 + np.exp([1.0, 2.0, 3.0])
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], expected, rtol=1e-6)
    y = (w * w).sum()
    y.backward()  # accumulates: the hook sees the running .grad
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], expected + 2 * np.array([1.0, 2.0, 3.0]), rtol=1e-6)


def test_post_accumulate_grad_hook_runs_while_backward_goes_on():
    # the last layer's weight is complete before the first layer's gradients are computed
    x = ag.randn(4, 3)
    w1 = ag.randn(3, 5, requires_grad=True)
    w2 = ag.randn(5, 2, requires_grad=True)
    events = []
    w2.register_post_accumulate_grad_hook(lambda t: events.append("w2 ready"))
    w1.register_post_accumulate_grad_hook(lambda t: events.append("w1 ready"))
    h = x @ w1
    h.register_hook(lambda g: events.append("grad of h"))
    (h.tanh() @ w2).sum().backward()
    assert events == ["w2 ready", "grad of h", "w1 ready"]


def test_post_accumulate_grad_hook_matches_torch_order_and_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in [(6, 4), (4, 3), (3,), (3, 2)]]

    def run(lib, make):
        x, w1, w2, b2, w3 = (make(a) for a in [rng_x, *arrays])
        seen = []
        for name, p in (("w1", w1), ("w2", w2), ("b2", b2), ("w3", w3)):
            p.register_post_accumulate_grad_hook(lambda t, name=name: seen.append((name, float(t.grad.sum()))))
        ((x @ w1).tanh() @ w2 + b2).relu().matmul(w3).square().sum().backward()
        return seen

    rng_x = rng.standard_normal((5, 6))
    ours = run(ag, lambda a: ag.tensor(a, requires_grad=a is not rng_x))
    theirs = run(torch, lambda a: torch.tensor(a, requires_grad=a is not rng_x))
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    np.testing.assert_allclose([v for _, v in ours], [v for _, v in theirs], rtol=1e-10)


def test_post_accumulate_grad_hook_errors_remove_and_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ag.zeros(2).register_post_accumulate_grad_hook(lambda t: None)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    ag.autograd.grad((w * w).sum(), w)  # nothing accumulated, so no hook
    assert calls == []
    (w * w).sum().backward(inputs=[w])
    assert calls == [1]
    handle.remove()
    (w * w).sum().backward()
    assert calls == [1]
