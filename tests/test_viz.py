"""ag.viz.draw_graph: DOT text naming every op, leaves named from a model, trace annotations."""

import shutil

import pytest

import autograd_core as ag
from autograd_core import nn
from autograd_core.autograd.diagnostics import trace_backward
from autograd_core.viz import GraphSource, draw_graph


def all_ops(t):
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.add(fn.name())
        stack.extend(e[0] for e in fn.next_edges if e is not None and not isinstance(e[0], ag.Tensor))
    return names


def test_draw_graph_names_every_op_and_shape():
    x = ag.randn(4, 3, requires_grad=True)
    w = ag.randn(3, 5, requires_grad=True)
    b = ag.randn(5, requires_grad=True)
    y = ((x @ w + b).relu().exp() * 2 - x.sum()).mean()
    dot = draw_graph(y)
    assert isinstance(dot, GraphSource) and isinstance(dot, str)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    ops = all_ops(y)
    assert len(ops) >= 7
    for op in ops:
        assert op.replace("Backward", "").lstrip("_") in dot
    assert "(4, 5)" in dot and "(3, 5)" in dot and "(5)" in dot
    # one box per op node, one ellipse per leaf
    assert dot.count("shape=box") == len(ops) and dot.count("shape=ellipse") == 3


def test_draw_graph_names_parameters_of_a_model(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    out = model(ag.randn(5, 2)).sum()
    dot = draw_graph(out, params=model)
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in dot
    path = draw_graph(out, params=model).save(tmp_path / "g.dot")
    with open(path) as handle:
        assert handle.read() == dot


def test_draw_graph_with_trace_shows_gradient_norms_and_flags():
    x = ag.randn(3, requires_grad=True)
    y = (x * 1e6).sum()
    with trace_backward() as trace:
        y.backward(retain_graph=True)
    dot = draw_graph(y, trace=trace)
    assert "|grad|" in dot and "exploding" in dot


def test_draw_graph_leaf_and_errors():
    t = ag.randn(2, requires_grad=True)
    assert "output" in draw_graph(t)
    with pytest.raises(TypeError, match="tensor"):
        draw_graph([1, 2])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` program not installed")
def test_draw_graph_renders_svg(tmp_path):
    pytest.importorskip("graphviz")
    y = (ag.randn(2, requires_grad=True) * 3).sum()
    path = draw_graph(y).save(tmp_path / "g.svg")
    with open(path) as handle:
        assert "<svg" in handle.read()


def test_render_without_graphviz_explains(monkeypatch):
    y = (ag.randn(2, requires_grad=True) * 3).sum()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        import graphviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install graphviz"):
            draw_graph(y).render()
    else:
        with pytest.raises(RuntimeError, match="dot"):
            draw_graph(y).render()


def test_decision_grid_matches_a_known_boundary(tmp_path):
    import numpy as np

    from autograd_core.viz import _decision_grid, plot_decision_boundary

    model = nn.Linear(2, 1)  # logit = x1 - x2: class 1 below the diagonal
    with ag.no_grad():
        model.weight.copy_(ag.tensor([[1.0, -1.0]]))
        model.bias.zero_()
    points = np.array([[-1.0, -1.0], [1.0, 1.0]])
    gx, gy, classes = _decision_grid(model, points, resolution=41, margin=0.0)
    off_diagonal = np.abs(gx - gy) > 1e-9
    assert np.array_equal(classes[off_diagonal], (gx > gy)[off_diagonal].astype(np.int64))
    three = nn.Linear(2, 3)
    _, _, classes3 = _decision_grid(three, points, resolution=11, margin=0.0)
    assert set(np.unique(classes3)) <= {0, 1, 2}
    pytest.importorskip("matplotlib")
    fig = plot_decision_boundary(model, ag.tensor(points, dtype=ag.float32), ag.tensor([0, 1]),
                                 path=tmp_path / "regions.png")
    assert (tmp_path / "regions.png").exists() and len(fig.axes) == 1
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot_decision_boundary(model, ag.randn(4, 3))
