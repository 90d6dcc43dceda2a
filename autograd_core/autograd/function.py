"""Function: a differentiable op. Its instance is both the `ctx` of forward/backward and the node of
the backward graph (its `next_edges` lead to the nodes that made its inputs).

An edge is (node, output_nr) for an input made by a graph node, or (leaf tensor, None) for a leaf:
the engine tells the two apart by the None, without a type check."""
import inspect
import traceback

from .._core import F16, TensorBase, alias, data_alias
from .grad_mode import state

_FREED = object()


class _SavedOutput:
    """An output of a node, saved by that node for its backward. Kept as the tensor itself it would
    hold the node (its grad_fn) while the node holds it: a reference cycle that only the garbage
    collector frees, so memory would grow between collections when graphs are dropped without a
    backward (an evaluation loop without no_grad). So the node keeps an alias of the data, with no
    grad_fn; unpacked while a graph is recorded (create_graph), the alias is attached to the node
    again as its output `nr`, so higher-order gradients flow through it."""

    __slots__ = ("data", "nr")

    def __init__(self, data, nr):
        self.data = data
        self.nr = nr

    def unpack(self, node):
        if not state.enabled:
            return self.data
        t = alias(self.data)
        t._attach(node, self.nr)
        return t


def _unlink_outputs(node, outs):
    """Replace every output of node among its saved tensors by a _SavedOutput."""
    saved = list(node._saved)
    for i, t in enumerate(saved):
        for nr, o in enumerate(outs):
            if t is o and o is not None:
                saved[i] = _SavedOutput(data_alias(o), nr)
                break
    node._saved = tuple(saved)


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call with `.apply`.

    `backward` returns one gradient (or None) per argument of `forward`. Inside forward the graph is
    not recorded. Write backward with Tensor ops so that `create_graph=True` can differentiate it.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_buf",
        "_deps",
        "_needs",
        "_out_meta",
        "_saved",
        "_saved_versions",
        "next_edges",
    )
    # rarely set per node: class-level defaults, so creating a node does not pay for them
    _hooks = None
    _pre_hooks = None
    _retained = None
    _non_differentiable = None
    _materialize = True
    _trace = None
    # True for Functions whose forward calls only _core kernels (never a recording Tensor op): apply
    # can then skip switching grad mode off around forward
    _core_forward = False
    # The library's composite ops (a forward built from other ops): `compute`, a staticmethod, gives
    # forward's outputs without a ctx, and `grad_args` are the positions of the arguments that may
    # require grad. __init_subclass__ then makes `call`, the op's record-or-compute decision (see
    # composite below), which the op's function calls; apply also computes straight when it records
    # no node.
    compute = None
    grad_args = (0,)
    # True for the library's own Functions (set by __init_subclass__): their backward is tested to
    # return gradients of the right shapes, so the engine checks shapes only for users' Functions
    # (and for every Function under detect_anomaly)
    _trusted = False
    # True when the engine must take its slow path for this node: a Function not trusted (above),
    # or a node with hooks, pre-hooks or retained outputs (set per node when one is added)
    _special = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._trusted = cls.__module__.startswith("autograd_core.")
        cls._special = not cls._trusted
        if "compute" in cls.__dict__ or "grad_args" in cls.__dict__:
            cls.call = staticmethod(composite(cls))

    # ------------------------------------------------------------------ ctx API
    @property
    def needs_input_grad(self):
        """One bool per forward argument: whether its gradient is wanted."""
        needs = self._needs
        if needs is None:
            needs = self._needs = tuple(e is not None for e in self.next_edges)
        return needs

    def save_for_backward(self, *tensors):
        """Keep tensors (or other values) for ``backward``, which reads them from :attr:`saved_tensors`.

        Saving through ctx (not as attributes) lets autograd check that they were not modified in
        place before backward runs, and free them after it.
        """
        self._saved = tensors
        if len(tensors) == 1:
            t = tensors[0]
            self._saved_versions = (t._version if isinstance(t, TensorBase) else 0,)
        else:
            self._saved_versions = [t._version if isinstance(t, TensorBase) else 0 for t in tensors]

    @property
    def saved_tensors(self):
        """The values given to :meth:`save_for_backward`, as a tuple.

        Raises RuntimeError if the graph was already freed by an earlier backward (use
        ``retain_graph=True``), or if a saved tensor was modified in place since it was saved.
        """
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or directly access "
                "saved tensors after they have already been freed). Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you "
                "need to backward through the graph a second time or access saved tensors after calling "
                "backward.")
        versions = self._saved_versions
        result = saved
        for i, t in enumerate(saved):
            if type(t) is _SavedOutput:
                if result is saved:
                    result = list(saved)
                result[i] = t.unpack(self)
                t = t.data
            if isinstance(t, TensorBase) and t._version != versions[i]:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype} {list(t.shape)}], which is output/input {i} of {self.name()}, is "
                    f"at version {t._version}; expected version {versions[i]} instead.")
        return saved if result is saved else tuple(result)

    def mark_non_differentiable(self, *tensors):
        """Mark outputs (e.g. integer indices) that have no gradient: they do not require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """With True (the default) ``backward`` gets zeros for outputs that received no gradient; with
        False it gets None for them.
        """
        self._materialize = bool(value)

    @classmethod
    def name(cls):
        """The node's name as shown in ``grad_fn`` reprs, e.g. ``'MulBackward'``."""
        n = cls.__name__
        return n if n.endswith("Backward") else n + "Backward"

    def _free_saved(self):
        if self._saved is not None:
            self._saved = _FREED

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after this node's backward; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        self._special = True

    def register_prehook(self, fn):
        """fn(grad_outputs) before this node's backward; may return replacement grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        self._special = True

    @property
    def next_functions(self):
        """``((node, output index), ...)``: the graph nodes that produced this node's inputs (None for inputs
        that need no gradient).
        """
        return tuple((e[0], e[1] or 0) if e is not None else (None, 0) for e in self.next_edges)

    # ------------------------------------------------------------------ apply
    @staticmethod
    def forward(ctx, *args):
        """Compute the outputs from the inputs; override as a staticmethod.

        ``ctx`` is the graph node: save what backward needs with ``ctx.save_for_backward``. Operations
        here are not recorded.
        """
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        """Given the gradient of the loss with respect to each output, return the gradient with respect
        to each input of forward (None for an input without one); override as a staticmethod. Write
        it with Tensor operations so it can itself be differentiated (``create_graph=True``).
        """
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` and, when grad mode is on and an input requires grad, record a graph node so
        ``backward`` is called in the backward pass. Returns forward's outputs.

        Example:
            >>> class Square(ag.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x * x
            ...     @staticmethod
            ...     def backward(ctx, g):
            ...         (x,) = ctx.saved_tensors
            ...         return 2 * x * g
            >>> x = ag.tensor([3.0], requires_grad=True)
            >>> Square.apply(x).backward()
            >>> x.grad
            tensor([6.])
        """
        if state.enabled:
            edges = None
            for i, a in enumerate(args):
                if isinstance(a, TensorBase) and a.requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                    fn = a.grad_fn
                    edges[i] = (fn, a._output_nr) if fn is not None else (a, None)
            if edges is not None:
                return _apply_with_graph(cls, args, edges)
        compute = cls.compute
        if compute is not None:
            return compute(*args)
        ctx = cls.__new__(cls)
        ctx._saved = None
        ctx.next_edges = (None,) * len(args)
        ctx._needs = None  # needs_input_grad derives (False, ...) from next_edges
        if state.enabled:
            state.enabled = False
            try:
                return cls.forward(ctx, *args)
            finally:
                state.enabled = True
        return cls.forward(ctx, *args)


def apply_one(cls, x, *rest):
    """cls.apply(x, *rest) for the library's hottest case, which the caller has established: grad
    mode is on, x is a float tensor that requires grad and no other argument does, cls._core_forward
    is True and its forward returns one new tensor without saving it (the library's forwards save
    data_alias(out) instead; tests/test_autograd_fastpath.py checks every class used here). The
    same node as apply's, built without the generic argument scan."""
    node = cls.__new__(cls)
    node._saved = node._deps = node._buf = node._needs = None
    fn = x.grad_fn
    e = (fn, x._output_nr) if fn is not None else (x, None)
    if state.anomaly:
        node._trace = "".join(traceback.format_stack()[:-1])
    n = len(rest)
    if n == 0:  # (the common arities called without re-packing *rest)
        node.next_edges = (e,)
        out = cls.forward(node, x)
    elif n == 1:
        node.next_edges = (e, None)
        out = cls.forward(node, x, rest[0])
    else:
        node.next_edges = (e,) + (None,) * n
        out = cls.forward(node, x, *rest)
    node._out_meta = out._attach_out_like(node, x)
    return out


def apply_two(cls, a, b):
    """cls.apply(a, b) for two tensors, at least one of which requires grad, with grad mode on,
    cls._core_forward True and a forward that returns one new tensor without saving it:
    apply_one's two-input twin."""
    node = cls.__new__(cls)
    node._saved = node._deps = node._buf = node._needs = None
    ea = eb = None
    if a.requires_grad:
        fn = a.grad_fn
        ea = (fn, a._output_nr) if fn is not None else (a, None)
    if b.requires_grad:
        fn = b.grad_fn
        eb = (fn, b._output_nr) if fn is not None else (b, None)
    node.next_edges = (ea, eb)
    if state.anomaly:
        node._trace = "".join(traceback.format_stack()[:-1])
    out = cls.forward(node, a, b)
    node._out_meta = out._attach_out_like(node, a if a.requires_grad else b)
    return out


def _apply_with_graph(cls, args, edges):
    node = cls.__new__(cls)
    node._saved = None
    node._deps = None
    node._buf = None
    node.next_edges = edges
    node._needs = None
    if state.anomaly:
        node._trace = "".join(traceback.format_stack()[:-2])
    if cls._core_forward:
        out = cls.forward(node, *args)
    else:
        state.enabled = False
        try:
            out = cls.forward(node, *args)
        finally:
            state.enabled = True
    nondiff = node._non_differentiable
    if type(out) is tuple:
        outs = list(out)
        meta = []
        for i, o in enumerate(outs):
            if isinstance(o, TensorBase):
                if in_args(o, args):
                    o = outs[i] = alias(o)
                meta.append(o._meta())
                if not 1 < o._dtype_code < F16 and not (nondiff and in_args(o, nondiff)):
                    o._attach(node, i)
            else:
                meta.append(None)
        node._out_meta = meta
        if node._saved is not None:
            _unlink_saved_outputs(node, outs)
        return tuple(outs)
    for a in args:
        if out is a:
            out = alias(out)
            break
    if nondiff and in_args(out, nondiff):
        node._out_meta = [out._meta()]
    else:
        node._out_meta = [out._attach_out(node, 0)]
        if node._saved is not None:
            _unlink_saved_outputs(node, (out,))
    return out


def _unlink_saved_outputs(node, outs):
    """Replace node's outputs among its saved tensors by _SavedOutput entries (see there)."""
    for t in node._saved:
        for o in outs:
            if t is o and isinstance(o, TensorBase) and o.grad_fn is node:
                _unlink_outputs(node, [o if isinstance(o, TensorBase) and o.grad_fn is node else None
                                       for o in outs])
                return


def in_args(o, seq):
    for a in seq:
        if o is a:
            return True
    return False


class once_differentiable:
    """Decorator for a backward that cannot itself be differentiated: it runs without recording, and
    asking for a double backward through it raises."""

    def __init__(self, fn):
        self.fn = fn

    def __get__(self, obj, objtype=None):
        return self

    def __call__(self, ctx, *grads):
        if state.enabled and any(isinstance(g, TensorBase) and g.requires_grad for g in grads):
            raise RuntimeError(f"{type(ctx).__name__}: double backward is not supported for this function")
        prev = state.enabled
        state.enabled = False
        try:
            return self.fn(ctx, *grads)
        finally:
            state.enabled = prev


# ---------------------------------------------------------------------- composite ops
def composite(fn_cls):
    """The record-or-compute decision of a composite op (fn_cls.call): with grad mode on and an
    argument at one of fn_cls.grad_args that requires grad, fn_cls.apply records a node; otherwise
    fn_cls.compute gives the outputs straight, with no ctx and no grad-mode switch.

    It is the whole per-call cost the op adds to compute, so it is written out for the Function's
    arity (forward's parameters after ctx) from a template, as collections.namedtuple writes its
    classes: a closure taking *args, or apply's generic scan, costs some 1500 or 3000 instructions a
    call (benchmarks/callgrind_overhead.py), a tenth or a fifth of `ag.where` without grad. The
    first argument of an op whose only grad_args is (0,) is a tensor; others are tested with
    isinstance (numbers, None)."""
    names = [f"a{i}" for i in range(len(inspect.signature(fn_cls.forward).parameters) - 1)]
    if fn_cls.grad_args == (0,):
        test = "a0.requires_grad"
    else:
        test = " or ".join(f"(isinstance(a{i}, TensorBase) and a{i}.requires_grad)" for i in fn_cls.grad_args)
    params = ", ".join(names)
    source = (f"def call({params}):\n"
              f"    if ({test}) and state.enabled:\n"
              f"        return apply({params})\n"
              f"    return compute({params})\n")
    namespace = {"apply": fn_cls.apply, "compute": fn_cls.compute, "state": state, "TensorBase": TensorBase}
    exec(source, namespace)  # noqa: S102 (a template of this module's own, see the docstring)
    call = namespace["call"]
    call.__qualname__ = f"{fn_cls.__name__}.call"
    call.__module__ = fn_cls.__module__
    return call


# ---------------------------------------------------------------------- primitive ops
# The one decision of every op that is one C kernel (ops/unary.py, ops/binary.py): with grad mode on
# and a tensor argument that requires grad, apply the op's Function (a graph node); otherwise call the
# kernel straight, with no node, no ctx and no grad-mode switch. The closures below are this decision
# specialised by arity and argument types: they are the per-op overhead of every +, * and exp in a
# model, so they test the commonest cases first, hold what they use in cells, and ask requires_grad
# before grad mode (a tensor without grad, the common case, then costs one attribute lookup).

def unary_primitive(fn_cls, kernel, code):
    """(op, public) for the unary kernel `code`: op(x, p0=0.0, p1=0.0) for the library's calls with
    parameters, public(x) the one-argument function users call (ag.exp(x), x.exp()). fn_cls meets
    apply_one's contract and takes (x) or (x, p0, p1)."""

    def op(x, p0=0.0, p1=0.0):
        if x.requires_grad and state.enabled:
            return apply_one(fn_cls, x, p0, p1) if p0 or p1 else apply_one(fn_cls, x)
        return kernel(code, x, p0, p1)

    def public(x):
        if x.requires_grad and state.enabled:
            return apply_one(fn_cls, x)
        return kernel(code, x)

    return op, public


def _requires_grad(x):
    return isinstance(x, TensorBase) and x.requires_grad


def records(*xs):
    """Whether an op on xs records a node: grad mode is on and one of xs is a tensor that requires
    grad. The test of the ops (shape, index, linalg) that choose between their Function and a direct
    call at several points of one function, so they cannot hand the choice to `call`."""
    if not state.enabled:
        return False
    for x in xs:  # a loop, not any(<generator>): the generator cost 0.5 us a call (10% of a 64^3 matmul)
        if isinstance(x, TensorBase) and x.requires_grad:
            return True
    return False


def binary_primitive(fn_cls, kernel, code, record=None, convert=None, a_is_tensor=False, scalar_cls=None):
    """The function (a, b) of the binary kernel `code`. Two tensors that need a node are applied with
    apply_two when fn_cls meets its contract (fn_cls._core_forward), else fn_cls.apply; any other
    recorded call (a Python number beside a tensor) goes to record(a, b), by default fn_cls.apply, or
    for a commutative op with scalar_cls to apply_one(scalar_cls, tensor, number) straight (x * 2.0
    with grad: a node with nothing to save; measured 7% fewer instructions than through record).

    convert: for Tensor's operators, which also take NumPy scalars, arrays and lists (a + [1, 2]),
    converts such an operand first; the functions (ag.add) take only tensors and numbers. a_is_tensor:
    the caller guarantees it (an operator called on the tensor a), which saves an isinstance test per
    call (measured: 7% of a * b on 4-element tensors)."""
    record = record or fn_cls.apply
    two = apply_two if fn_cls._core_forward else None

    def general(a, b):
        if convert is not None:
            a, b = convert(a), convert(b)
        if (_requires_grad(a) or _requires_grad(b)) and state.enabled:
            return record(a, b)
        return kernel(code, a, b)

    def operator(a, b):  # a is a tensor
        tb = type(b)
        if tb is float or tb is int:
            if a.requires_grad and state.enabled:
                return apply_one(scalar_cls, a, b) if scalar_cls is not None else record(a, b)
            return kernel(code, a, b)
        if isinstance(b, TensorBase):
            if (a.requires_grad or b.requires_grad) and state.enabled:
                return two(fn_cls, a, b) if two is not None else fn_cls.apply(a, b)
            return kernel(code, a, b)
        return general(a, b)

    def function(a, b):
        tb = type(b)
        if tb is float or tb is int:
            if isinstance(a, TensorBase):
                if a.requires_grad and state.enabled:
                    return apply_one(scalar_cls, a, b) if scalar_cls is not None else record(a, b)
                return kernel(code, a, b)
        elif isinstance(b, TensorBase):
            if isinstance(a, TensorBase):
                if (a.requires_grad or b.requires_grad) and state.enabled:
                    return two(fn_cls, a, b) if two is not None else fn_cls.apply(a, b)
                return kernel(code, a, b)
            ta = type(a)
            if ta is float or ta is int:  # a number first: 1 - x
                if b.requires_grad and state.enabled:
                    return apply_one(scalar_cls, b, a) if scalar_cls is not None else record(a, b)
                return kernel(code, a, b)
        return general(a, b)

    return operator if a_is_tensor else function
