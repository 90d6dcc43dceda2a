"""Draw the computation graph behind a tensor.

    dot = ag.viz.draw_graph(loss, params=model)     # Graphviz DOT text (a str), always available
    dot.save("graph.dot")                            # the text
    dot.save("graph.svg")                            # rendered: needs `pip install graphviz` and the
                                                     # Graphviz `dot` program (apt-get install graphviz)

Boxes are ops (the backward node of each forward op), with the shape of what they produced;
ellipses are leaf tensors (parameters are named when `params` is given); the double ellipse is the
tensor you asked about. Arrows follow the forward direction. With `trace=` (from
autograd.trace_backward) each op also shows the gradient norm that reached it, and flagged ops are
coloured (red: NaN/Inf, orange: exploding, blue: vanishing).
"""

import os
import shutil

import numpy as np

from .autograd.grad_mode import no_grad
from .ops.creation import from_numpy
from .tensor import Tensor

__all__ = ["GraphSource", "draw_graph", "plot_decision_boundary"]

_FLAG_COLOURS = {"nan/inf": "#f4a6a6", "exploding": "#ffd08a", "vanishing": "#a9c8f5"}


def _shape_text(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


class GraphSource(str):
    """DOT text of a graph (it is a str); save(path) writes .dot/.gv text or renders .svg/.png/.pdf."""

    @property
    def source(self):
        """The DOT text, as in the graphviz package's ``Source.source``."""
        return str(self)

    def render(self, format="svg"):
        """The rendered graph as bytes (needs the graphviz Python package and the `dot` program)."""
        try:
            import graphviz  # optional: only render() needs it
        except ImportError as exc:
            raise ImportError(
                "rendering needs the graphviz Python package (pip install graphviz) and the Graphviz "
                "program `dot` (e.g. apt-get install graphviz); the DOT text itself is always available"
            ) from exc
        if shutil.which("dot") is None:
            raise RuntimeError(
                "rendering needs the Graphviz program `dot` on PATH (e.g. apt-get install graphviz or "
                "brew install graphviz); save the graph as .dot text instead"
            )
        return graphviz.Source(str(self)).pipe(format=format)

    def save(self, path):
        """Write to `path`: .dot or .gv gives the text; any other extension (svg, png, pdf) renders."""
        path = os.fspath(path)
        extension = os.path.splitext(path)[1].lower().lstrip(".")
        if extension in ("dot", "gv", "txt", ""):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(str(self))
        else:
            data = self.render(extension)
            with open(path, "wb") as handle:
                handle.write(data)
        return path

    def _repr_svg_(self):  # notebooks draw the graph when Graphviz is installed
        try:
            return self.render("svg").decode("utf-8")
        except (ImportError, RuntimeError):
            return None


def _parameter_names(params):
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    if not isinstance(params, dict):
        raise TypeError(f"draw_graph: params must be a Module or a dict name -> tensor, got {type(params).__name__}")
    return {id(t): name for name, t in params.items()}


def draw_graph(tensors, params=None, trace=None, show_shapes=True, path=None, rankdir="BT"):
    """The computation graph that produced `tensors` (one tensor or several) as DOT text.

    params: a Module or {name: tensor} to label leaf tensors. trace: a BackwardTrace to annotate ops
    with gradient norms and flags. path: also save it (see GraphSource.save). rankdir: "BT" draws
    inputs at the bottom and the output on top; "TB", "LR" also work.
    Returns a GraphSource (a str holding the DOT text).
    """
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError("draw_graph: expected a tensor or a list of tensors")
    names = _parameter_names(params)
    traced = trace.by_node() if trace is not None else {}
    lines = [
        "digraph autograd {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    ids = {}

    def node_id(obj, prefix):
        key = id(obj)
        if key not in ids:
            ids[key] = f"{prefix}{len(ids)}"
        return ids[key]

    def leaf_label(t):
        label = names.get(id(t), "leaf" if t.requires_grad else "tensor")
        return label + (f"\\n{_shape_text(t.shape)}" if show_shapes else "")

    seen = set()
    stack = []
    for i, t in enumerate(roots):
        out_id = f"out{i}"
        label = "output" + (f" {i}" if len(roots) > 1 else "") + (f"\\n{_shape_text(t.shape)}" if show_shapes else "")
        lines.append(f'  {out_id} [label="{label}", shape=doublecircle, style=filled, fillcolor="#c8e6c9"];')
        if t.grad_fn is not None:
            lines.append(f"  {node_id(t.grad_fn, 'op')} -> {out_id};")
            stack.append(t.grad_fn)
        else:
            lines.append(f"  {node_id(t, 'leaf')} -> {out_id};")
            if id(t) not in seen:
                seen.add(id(t))
                lines.append(f'  {node_id(t, "leaf")} [label="{leaf_label(t)}", shape=ellipse];')
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        op = fn.name()
        label = (op[:-len("Backward")] if op.endswith("Backward") and len(op) > 8 else op).lstrip("_") or op
        shapes = [m[0] for m in (getattr(fn, "_out_meta", None) or []) if m is not None]
        if show_shapes and shapes:
            label += "\\n" + ", ".join(_shape_text(s) for s in shapes)
        style = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"'
        entry = traced.get(id(fn))
        if entry is not None:
            label += f"\\n|grad| = {entry.grad_norm:.3g}"
            for flag in ("nan/inf", "exploding", "vanishing"):
                if flag in entry.flags:
                    label += f"\\n{flag}"
                    style = f'shape=box, style="rounded,filled", fillcolor="{_FLAG_COLOURS[flag]}"'
                    break
        this = node_id(fn, "op")
        lines.append(f'  {this} [label="{label}", {style}];')
        for edge in fn.next_edges:
            if edge is None:
                continue
            source = edge[0]
            if isinstance(source, Tensor):
                src_id = node_id(source, "leaf")
                if id(source) not in seen:
                    seen.add(id(source))
                    fill = ', style=filled, fillcolor="#bbdefb"' if id(source) in names else ""
                    lines.append(f'  {src_id} [label="{leaf_label(source)}", shape=ellipse{fill}];')
            else:
                src_id = node_id(source, "op")
                stack.append(source)
            lines.append(f"  {src_id} -> {this};")
    lines.append("}")
    graph = GraphSource("\n".join(lines) + "\n")
    if path is not None:
        graph.save(path)
    return graph


def plot_decision_boundary(model, x, y=None, path=None, resolution=200, margin=0.5, ax=None):
    """Colour the plane by the class `model` predicts, with the points of a 2-D dataset on top.

    model maps (n, 2) inputs to logits (n, classes), or to one logit per row (n, 1) / (n,) for two
    classes (positive means class 1). x: (n, 2) points; y: their labels (optional). path: save the
    figure there. Returns the matplotlib Figure (or draws into `ax` when given).
    """
    Figure = require_matplotlib("plot_decision_boundary")
    points = np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: expected points of shape (n, 2), got {points.shape}")
    gx, gy, classes = _decision_grid(model, points, resolution, margin)
    fig = None
    if ax is None:
        fig = Figure(figsize=(5.0, 4.2), layout="constrained")
        ax = fig.subplots()
    labels = None if y is None else np.asarray(y.numpy() if hasattr(y, "numpy") else y).reshape(-1)
    n_classes = int(max(classes.max(), 0 if labels is None else labels.max())) + 1
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm", alpha=0.35)
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3,
               vmin=-0.5, vmax=n_classes - 0.5)
    ax.set(xlabel="x1", ylabel="x2", title="decision regions")
    if path is not None and fig is not None:
        fig.savefig(os.fspath(path), dpi=110)
    return fig if fig is not None else ax.figure


def _decision_grid(model, points, resolution, margin):
    """A grid over the points' bounding box (plus margin) and the class the model predicts at each node."""
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            out = model(from_numpy(grid))
    finally:
        model.train(was_training)
    scores = np.asarray(out.numpy(), dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] > 1:
        classes = scores.argmax(axis=1)
    else:
        classes = (scores.reshape(len(grid)) > 0).astype(np.int64)
    return gx, gy, classes.reshape(gx.shape)


def require_matplotlib(what):
    """matplotlib's Figure class, or an ImportError saying that `what` needs the optional extra."""
    try:
        from matplotlib.figure import Figure  # optional extra [plot], heavy to import
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, which is an optional extra: pip install autograd_core[plot] "
            "(or pip install matplotlib)"
        ) from exc
    return Figure
