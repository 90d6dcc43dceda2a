"""The backward engine: an iterative walk of the graph (no recursion, so a 100,000-op chain is fine).

Nodes are `Function` instances; an edge is `(node, output_nr)` or `(leaf_tensor, None)`. The engine
counts, for each node reachable from the roots, how many edges point at it; a node runs once all of
them have delivered their gradient. Gradients arriving at one node output are summed.

Post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook) run on a leaf as soon as its
gradient for this run is complete and accumulated, not at the end of the run: distributed data
parallel starts each bucket's all-reduce from them while backward goes on. Only when such hooks
exist does the engine count the edges into hooked leaves (a second walk of the graph); otherwise
leaves are accumulated at the end of the run as before.
"""
import weakref

from .._core import BINARY_OPS, F16, TensorBase
from .._core import binary as _binary
from ..ops.creation import as_tensor, ones_like, zeros, zeros_like
from .function import _FREED, Function
from .grad_mode import state

# Callables obs(node, grad_outputs, grad_inputs) called for every node the engine runs, in order
# (used by autograd.diagnostics.trace_backward). grad_outputs: the gradients flowing into the node
# (one per forward output), grad_inputs: what its backward returned (one per forward input).
_node_observers = []
_ADD = BINARY_OPS["add"]
# id -> leaf, for leaves with at least one post-accumulate-grad hook (weak values: a dropped tensor
# leaves it; keyed by id because Tensor's == is elementwise)
_post_hooked = weakref.WeakValueDictionary()


def _zeros_for(meta):
    shape, dtype_code = meta
    return zeros(shape, dtype=dtype_code)


def _check_anomaly(node, grads):
    for i, g in enumerate(grads):
        if g is None or not isinstance(g, TensorBase) or 1 < g._dtype_code < F16:
            continue
        bad = g.isnan().any().item()
        kind = "nan"
        if not bad and state.anomaly_check_inf:
            bad = (~g.isfinite()).any().item()
            kind = "inf"
        if bad:
            where = getattr(node, "_trace", None)
            msg = (f"Function '{node.name()}' returned {kind} values in its {i}th output (the gradient "
                   f"for input {i} of the forward op).")
            if where:
                msg += "\nThe forward op was created at:\n" + where
            raise RuntimeError(msg)


def _run_hook(h, g):
    """A tensor hook's result: g itself when it returns None, else its replacement, which must keep g's
    shape and dtype (PyTorch raises too: .grad and the next nodes rely on them)."""
    r = h(g)
    if r is None:
        return g
    name = getattr(h, "__name__", type(h).__name__)
    if not isinstance(r, TensorBase):
        raise TypeError(f"hook '{name}' returned {type(r).__name__}; a tensor hook must return a tensor "
                        "or None")
    if tuple(r.shape) != tuple(g.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(g.shape)}, got "
                           f"{tuple(r.shape)})")
    if r._dtype_code != g._dtype_code:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype}, got {r.dtype})")
    return r


def _leaf_accumulate(t, g):
    hooks = t.__dict__.get("_hooks") if hasattr(t, "__dict__") else None
    if hooks:
        for h in list(hooks.values()):
            g = _run_hook(h, g)
    if t.grad is None:
        if state.enabled:
            t.grad = g
        else:
            # a gradient owned by the leaf: never an alias of a tensor the caller can see
            t.grad = g if g._base is None and g.grad_fn is None and not g.requires_grad else g.detach().clone()
    else:
        if state.enabled:
            t.grad = t.grad + g
        else:
            if t.grad.shape == g.shape and t.grad._dtype_code == g._dtype_code and not t.grad.requires_grad:
                _binary(BINARY_OPS["add"], t.grad, g, out=t.grad)
            else:
                t.grad = t.grad + g


def _run_post_hooks(t):
    hooks = t.__dict__.get("_post_acc_hooks")
    if hooks:
        for h in list(hooks.values()):
            h(t)


def _count_hooked_leaf_edges(root_edges):
    """{id(leaf): number of edges into it} for the hooked leaves reachable from the roots."""
    hooked = _post_hooked
    pending = {}
    seen = set()
    stack = [t for (t, _), _ in root_edges if isinstance(t, Function)]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.next_edges:
            if e is None:
                continue
            if e[1] is not None:
                stack.append(e[0])
            elif id(e[0]) in hooked:
                pending[id(e[0])] = pending.get(id(e[0]), 0) + 1
    return pending


def _leaf_edge_done(target, pending, leaves):
    """One edge into a hooked leaf has delivered (or had nothing to deliver); after the last one,
    accumulate the leaf's gradient now and run its post-accumulate-grad hooks."""
    key = id(target)
    n = pending.get(key)
    if n is None:
        return
    if n > 1:
        pending[key] = n - 1
        return
    del pending[key]
    entry = leaves.pop(key, None)
    if entry is not None:
        _leaf_accumulate(target, entry[1])
        _run_post_hooks(target)


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, allow_unused=False,
                 accumulate=True):
    """Backpropagate from `roots` (tensors) seeded with `grad_roots`. With `inputs`, return their
    gradients instead of accumulating into leaves' .grad (autograd.grad)."""
    root_edges = []
    for t, g in zip(roots, grad_roots):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        fn = t.grad_fn
        root_edges.append(((fn, t._output_nr) if fn is not None else (t, None), g))

    capture = results = nonleaf = None
    if inputs is not None:
        capture = {}
        nonleaf = {}
        for k, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"autograd.grad: input {k} does not require grad")
            if t.grad_fn is not None:
                nonleaf.setdefault(id(t.grad_fn), []).append((t._output_nr, k))
            else:
                capture[id(t)] = k
        results = [None] * len(inputs)

    # 1. count, for every node reachable from the roots, the edges that point at it
    stack = []
    for (target, _), _ in root_edges:
        if isinstance(target, Function) and target._deps is None:
            target._deps = 0
            stack.append(target)
    while stack:
        node = stack.pop()
        while node is not None:  # along a chain without touching the stack (see step 3)
            follow = None
            for e in node.next_edges:
                if e is not None and e[1] is not None:  # an edge to a node, not to a leaf
                    nxt = e[0]
                    d = nxt._deps
                    if d is None:
                        nxt._deps = 1
                        if follow is None:
                            follow = nxt
                        else:
                            stack.append(nxt)
                    else:
                        nxt._deps = d + 1
            node = follow

    leaves = {} if accumulate and capture is None else None
    pending = _count_hooked_leaf_edges(root_edges) if _post_hooked and leaves is not None else None
    prev_mode = state.enabled
    state.enabled = create_graph
    try:
        # 2. seed
        for (target, nr), g in root_edges:
            _deliver(target, nr, g, capture, results, leaves)
        ready = []
        for (target, _), _ in root_edges:
            if isinstance(target, Function) and target._deps == 0 and target not in ready:
                ready.append(target)
        observers = _node_observers
        anomaly = state.anomaly
        # the common run: no create_graph, observers, anomaly mode or non-leaf inputs to capture.
        # Then a trusted node without hooks whose single output got a gradient takes the short
        # path below; everything else goes through _run_node.
        fast = not (create_graph or observers or anomaly or nonleaf is not None)
        # 3. run nodes whose every consumer has delivered. A node's _buf holds what has arrived for
        # its outputs: None, the gradient itself for a node with one output, or else a list with
        # one entry per output.
        # (the node made ready last is kept in `nxt`, outside the list: on a chain the list would
        # otherwise grow and shrink by one element per node, and CPython reallocates it each time)
        nxt = None
        while True:
            if nxt is not None:
                node = nxt
                nxt = None
            elif ready:
                node = ready.pop()
            else:
                break
            grads = node._buf
            node._buf = None
            node._deps = None
            if fast and not node._special and grads is not None and type(grads) is not list:
                grad_inputs = type(node).backward(node, grads)
                edges = node.next_edges
                if type(grad_inputs) is not tuple:
                    grad_inputs = (grad_inputs,)
                if len(grad_inputs) != len(edges):
                    _check_count(node, grad_inputs, edges)
                special = False
            else:
                if grads is None:
                    grads = [None] * len(node._out_meta)
                elif type(grads) is not list:
                    grads = [grads]
                special = node._special or anomaly
                edges = node.next_edges
                grad_inputs = _run_node(node, grads, special, edges, observers, anomaly, nonleaf, results)
            if not retain_graph and node._saved is not None:
                node._saved = _FREED
            for e, g in zip(edges, grad_inputs):
                if e is None:
                    continue
                target, nr = e
                if nr is not None:  # a node (a leaf's edge has nr None)
                    if g is not None:
                        if special:
                            g = _checked_grad(node, edges, e, g, target._out_meta[nr])
                        buf = target._buf
                        if buf is None:
                            n_out = len(target._out_meta)
                            if n_out == 1:
                                target._buf = g
                            else:
                                buf = target._buf = [None] * n_out
                                buf[nr] = g
                        elif type(buf) is list:
                            old = buf[nr]
                            buf[nr] = g if old is None else (old + g if create_graph else _binary(_ADD, old, g))
                        else:
                            target._buf = buf + g if create_graph else _binary(_ADD, buf, g)
                    d = target._deps - 1
                    target._deps = d
                    if d == 0:
                        if nxt is None:
                            nxt = target
                        else:
                            ready.append(target)
                else:
                    if g is not None:
                        if special:
                            g = _checked_grad(node, edges, e, g, (target.shape, target._dtype_code))
                        if fast and leaves is not None:
                            entry = leaves.get(id(target))
                            if entry is None:
                                leaves[id(target)] = [target, g]
                            else:
                                entry[1] = _binary(_ADD, entry[1], g)
                        else:
                            _deliver(target, nr, g, capture, results, leaves)
                    if pending:
                        _leaf_edge_done(target, pending, leaves)
        if leaves:
            for t, g in leaves.values():
                _leaf_accumulate(t, g)
                if pending is not None:
                    _run_post_hooks(t)
    except BaseException:
        _reset_nodes(root_edges)
        raise
    finally:
        state.enabled = prev_mode

    if capture is not None:
        for k, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"autograd.grad: one of the differentiated tensors (input {k}) appears to "
                                   "not have been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        return tuple(results)
    return None


def _run_node(node, grads, special, edges, observers, anomaly, nonleaf, results):
    """Run one node's backward on the general path: hooks, retained outputs, several outputs,
    missing gradients, observers, anomaly checks and non-leaf inputs of autograd.grad. Returns one
    gradient per edge."""
    if special:
        if node._pre_hooks:
            grads = _run_pre_hooks(node, grads)
        if node._retained:
            _run_retained(node, grads)
    if nonleaf is not None:
        for nr, idx in nonleaf.get(id(node), ()):
            g = grads[nr]
            if g is not None:
                results[idx] = g if results[idx] is None else results[idx] + g
    if len(grads) == 1:
        if grads[0] is None:
            grad_inputs = (None,) * len(edges)
        else:
            grad_inputs = type(node).backward(node, grads[0])
    elif all(g is None for g in grads):
        grad_inputs = (None,) * len(edges)
    else:
        if node._materialize:
            grads = [g if g is not None or m is None else _zeros_for(m) for g, m in zip(grads, node._out_meta)]
        grad_inputs = type(node).backward(node, *grads)
    if type(grad_inputs) is not tuple:
        grad_inputs = (grad_inputs,)
    if len(grad_inputs) != len(edges):
        _check_count(node, grad_inputs, edges)
    if special and node._hooks:
        for h in node._hooks:
            r = h(grad_inputs, grads)
            if r is not None:
                grad_inputs = tuple(r)
    if observers:
        for obs in observers:
            obs(node, grads, grad_inputs)
    if anomaly:
        _check_anomaly(node, grad_inputs)
    return grad_inputs


def _reset_nodes(root_edges):
    """After a failed backward: clear the per-run fields of every node still marked."""
    stack = [t for (t, _), _ in root_edges if isinstance(t, Function)]
    while stack:
        node = stack.pop()
        if node._deps is None and node._buf is None:
            continue
        node._deps = None
        node._buf = None
        stack.extend(e[0] for e in node.next_edges if e is not None and e[1] is not None)


def _run_pre_hooks(node, grads):
    for h in node._pre_hooks:
        r = h(grads)
        if r is not None:
            grads = list(r)
    return grads


def _check_count(node, grad_inputs, edges):
    extra = grad_inputs[len(edges):]
    if len(grad_inputs) < len(edges) or any(g is not None for g in extra):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(edges)}, got {len(grad_inputs)})")


def _edge_index(edges, e):
    for i, x in enumerate(edges):
        if x is e:
            return i
    return -1


def _checked_grad(node, edges, e, g, meta):
    """What an untrusted node (a custom Function, a hooked node) returned for edge e, checked against
    the (shape, dtype code) of the tensor it is the gradient of: a wrong shape raises; another dtype is
    converted, as PyTorch's engine does."""
    shape, code = meta
    if not g._shape_is(shape):
        raise RuntimeError(f"function {node.name()} returned an invalid gradient at index "
                           f"{_edge_index(edges, e)}: got shape {tuple(g.shape)} but expected {tuple(shape)}")
    if g._dtype_code != code:
        g = g.to(code)
    return g


def _deliver(target, nr, g, capture, results, leaves):
    """Gradient g arrives at a root node's buffer, or at a leaf tensor: gradients for one leaf are
    summed over the whole run and accumulated (hooks, .grad) once at its end, as PyTorch does."""
    if isinstance(target, Function):
        buf = target._buf
        if buf is None:
            n_out = len(target._out_meta)
            if n_out == 1:
                target._buf = g
                return
            buf = target._buf = [None] * n_out
        elif type(buf) is not list:
            target._buf = buf + g
            return
        old = buf[nr]
        buf[nr] = g if old is None else old + g
        return
    if capture is not None:
        k = capture.get(id(target))
        if k is not None:
            results[k] = g if results[k] is None else results[k] + g
        return
    if leaves is not None:
        entry = leaves.get(id(target))
        if entry is None:
            leaves[id(target)] = [target, g]
        else:
            entry[1] = entry[1] + g if state.enabled else _binary(_ADD, entry[1], g)


def _run_retained(node, grads):
    """Tensor hooks and retain_grad for non-leaf outputs of node."""
    for nr, ref in node._retained.items():
        t = ref()
        if t is None or grads[nr] is None:
            continue
        gg = grads[nr]
        hooks = t.__dict__.get("_hooks")
        if hooks:
            for h in list(hooks.values()):
                gg = _run_hook(h, gg)
            grads[nr] = gg
        if t.__dict__.get("_retains_grad"):
            t.grad = gg if t.grad is None else t.grad + gg


def _make_grads(outputs, grad_outputs, op):
    grads = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"{op}: grad can be implicitly created only for scalar outputs; output "
                                   f"{i} has shape {tuple(t.shape)}: pass gradient= (a tensor of that shape)")
            g = ones_like(t)
        else:
            g = as_tensor(g, dtype=t.dtype)
            if tuple(g.shape) != tuple(t.shape):
                if g.numel() == t.numel() and t.numel() == 1:
                    g = g.reshape(t.shape)
                else:
                    raise RuntimeError(f"{op}: mismatch in shape: grad_output[{i}] has a shape of "
                                       f"{tuple(g.shape)} and output[{i}] has a shape of {tuple(t.shape)}")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute gradients of `tensors` and accumulate them into the leaves' .grad."""
    if isinstance(tensors, TensorBase):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, TensorBase):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors, "backward")
    if inputs is not None:
        if isinstance(inputs, TensorBase):
            inputs = (inputs,)
        res = run_backward(tensors, grads, retain_graph, create_graph, inputs=tuple(inputs),
                           allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                prev = state.enabled
                state.enabled = create_graph
                try:
                    _leaf_accumulate(t, g)
                finally:
                    state.enabled = prev
                _run_post_hooks(t)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         materialize_grads=False):
    """Return the gradients of `outputs` with respect to `inputs` (nothing is accumulated)."""
    single = isinstance(inputs, TensorBase)
    if isinstance(outputs, TensorBase):
        outputs = (outputs,)
    if single:
        inputs = (inputs,)
    outputs, inputs = tuple(outputs), tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, TensorBase):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs, "grad")
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        res = tuple(r if r is not None else zeros_like(i) for r, i in zip(res, inputs))
    return res


class detect_anomaly:
    """Inside this block a NaN (and, with check_inf=True, an Inf) produced by backward raises,
    naming the forward op that created it and where it was created."""

    def __init__(self, check_nan=True, check_inf=False):
        self.check_nan = check_nan
        self.check_inf = check_inf

    def __enter__(self):
        self._prev = (state.anomaly, state.anomaly_check_inf)
        state.anomaly = self.check_nan
        state.anomaly_check_inf = self.check_inf
        return self

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_inf = self._prev
        return False


def set_detect_anomaly(mode):
    """Switch anomaly detection on or off for this thread (see :class:`detect_anomaly`)."""
    state.anomaly = bool(mode)


def is_anomaly_enabled():
    """Whether anomaly detection is on in this thread."""
    return state.anomaly

