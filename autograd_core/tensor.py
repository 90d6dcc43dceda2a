"""Tensor: a strided view of C storage (metadata lives in _core.TensorBase) plus the autograd fields,
with PyTorch's methods and operators."""
import numbers
import weakref

import numpy as np

from . import _core
from ._core import TensorBase
from ._core import binary as _binary
from ._format import format_tensor as _format_tensor
from .autograd import engine
from .autograd.engine import backward
from .autograd.function import Function
from .autograd.grad_mode import state
from .device import CPU, parse_to, raise_cpu_only
from .dtypes import BY_CODE, to_code
from .ops import _registry
from .ops import binary as _bin
from .ops.binary import floor_divide, remainder
from .ops.binary import pow as _pow
from .ops.creation import empty, full, full_like, ones, tensor, zeros
from .ops.index import _Key, _put, getitem, setitem
from .ops.linalg import matmul
from .ops.shape import basic_index, expand
from .ops.unary import _pow_scalar, neg

_B = _core.BINARY_OPS
_OPS, _ROPS = _bin.OPERATORS, _bin.REFLECTED
_operand = _bin._operator_operand
_CODE_OPS = {_B[name]: op for name, op in _OPS.items()}  # in-place add_, sub_, mul_, div_ with a graph


class Tensor(TensorBase):
    """An n-dimensional array that can record the operations applied to it for backpropagation."""

    __array_priority__ = 1000  # numpy defers to our reflected operators

    def __init__(self, *args, **kwargs):
        # Tensor(data) / Tensor(*shape), like torch.Tensor: float32
        if not args:
            src = empty(0)
        elif len(args) == 1 and not isinstance(args[0], numbers.Integral):
            src = tensor(args[0], dtype=kwargs.get("dtype", "float32"))
        else:
            src = empty(*args, dtype=kwargs.get("dtype", "float32"))
        _core.assign_meta(self, src)

    # ------------------------------------------------------------------ metadata
    @property
    def dtype(self):
        """The element type: ``ag.float32``, ``ag.float64``, ``ag.int64``, ``ag.int32``, ``ag.uint8`` or
        ``ag.bool``.
        """
        return BY_CODE[self._dtype_code]

    @property
    def device(self):
        """The device holding the data: always ``device(type='cpu')``."""
        return CPU

    @property
    def is_leaf(self):
        """True for a tensor not produced by a recorded operation: one made by the user or a
        Parameter (or any tensor that does not require grad). Only leaves get ``.grad`` filled by
        ``backward()`` (others need :meth:`retain_grad`).
        """
        return self.grad_fn is None

    @property
    def T(self):
        """The tensor with its dimensions reversed (a view); for a matrix, its transpose.

        Example:
            >>> ag.tensor([[1, 2, 3]]).T.shape
            Size([3, 1])
        """
        if self.ndim <= 2:
            return self.t() if self.ndim == 2 else self
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        """The last two dimensions swapped (a view): a batch of transposed matrices."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices, got {self.ndim}-D")
        return self.transpose(-2, -1)

    @property
    def data(self):
        """The same memory, cut from the graph."""
        return _core.alias(self)

    @data.setter
    def data(self, other):
        _core.assign_meta(self, other)

    @property
    def is_cuda(self):
        """False: autograd_core has no CUDA device."""
        return False

    @property
    def is_cpu(self):
        """True: every tensor lives on the CPU."""
        return True

    @property
    def is_xpu(self):
        """False: autograd_core has no XPU device."""
        return False

    @property
    def is_mps(self):
        """False: autograd_core has no MPS device."""
        return False

    @property
    def is_meta(self):
        """False: there are no meta tensors."""
        return False

    def get_device(self):
        """-1, PyTorch's answer for a tensor on the CPU."""
        return -1

    @property
    def nbytes(self):
        """The number of bytes of the elements: ``numel() * element_size()``."""
        return self.numel() * self.itemsize

    def element_size(self):
        """The size of one element in bytes (4 for float32)."""
        return self.itemsize

    def is_floating_point(self):
        """True when the dtype is float32, float64, float16 or bfloat16."""
        code = self._dtype_code
        return code <= 1 or code >= _core.F16

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ conversion
    def numpy(self, force=False):
        """A numpy array sharing this tensor's memory (float16 is np.float16; bfloat16, which NumPy lacks,
        raises TypeError as in PyTorch: convert with ``.float()`` first)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return np.asarray(self)

    def __array__(self, dtype=None, copy=None):
        if self._dtype_code == _core.BF16:
            raise TypeError("Got unsupported ScalarType BFloat16: NumPy has no bfloat16 dtype; convert with "
                            ".float() first")
        a = np.asarray(memoryview(self))
        if dtype is not None and a.dtype != dtype:
            a = a.astype(dtype)
        elif copy:
            a = a.copy()
        return a

    def item(self):
        """The value of a one-element tensor as a Python number.

        Example:
            >>> ag.tensor([[2.5]]).item()
            2.5
        """
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar "
                               f"(shape {tuple(self.shape)})")
        return np.asarray(_numpy_readable(self.detach())).reshape(()).item()

    def tolist(self):
        """The elements as nested Python lists of Python numbers (a number for a 0-d tensor).

        Example:
            >>> ag.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return np.asarray(_numpy_readable(self.detach())).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.is_floating_point():
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} elements is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self.item())

    def __format__(self, spec):
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __repr__(self):
        return _format_tensor(self)

    def __reduce_ex__(self, protocol):
        if self._dtype_code == _core.BF16:  # through float32, which holds every bfloat16 value exactly
            return (_rebuild, (np.asarray(self.detach().float()).copy(), self.requires_grad, "bfloat16"))
        return (_rebuild, (np.asarray(self.detach()).copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        new = _core.clone(self.detach())
        if self.requires_grad:
            new.requires_grad = True
        if self.grad is not None:
            new.grad = _core.clone(self.grad.detach())
        memo[id(self)] = new
        return new

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype) or to(other tensor), as in PyTorch. The only
        device is the CPU: asking for another raises. Returns self when nothing changes (unless
        copy=True)."""
        dtype, copy = parse_to(args, kwargs, "Tensor.to")
        code = self._dtype_code if dtype is None else to_code(dtype, "to")
        if code == self._dtype_code:
            return self.clone() if copy else self
        if state.enabled and self.requires_grad and (code <= 1 or code >= _core.F16):
            return _Cast.apply(self, code)
        return _core.cast(self, code)

    def type(self, dtype=None):
        """Without an argument, the dtype's name (``'autograd_core.float32'``); with a dtype, :meth:`to` that
        dtype.
        """
        if dtype is None:
            return f"autograd_core.{self.dtype.name}"
        return self.to(dtype)

    def type_as(self, other):
        """This tensor converted to ``other``'s dtype."""
        return self.to(other._dtype_code)

    def float(self):
        """A float32 copy (self if already float32); differentiable."""
        return self.to(_core.F32)

    def double(self):
        """A float64 copy (self if already float64); differentiable."""
        return self.to(_core.F64)

    def long(self):
        """An int64 copy (self if already int64)."""
        return self.to(_core.I64)

    def int(self):
        """An int32 copy (self if already int32)."""
        return self.to(_core.I32)

    def bool(self):
        """A bool copy (nonzero is True; self if already bool)."""
        return self.to(_core.BOOL)

    def half(self):
        """A float16 copy (self if already float16); differentiable. Ops on it compute in float32 and
        round their results to float16."""
        return self.to(_core.F16)

    def bfloat16(self):
        """A bfloat16 copy (self if already bfloat16); differentiable. Ops on it compute in float32 and
        round their results to bfloat16."""
        return self.to(_core.BF16)

    def cpu(self, memory_format=None):
        """The tensor itself: it is already on the CPU."""
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Raise a RuntimeError: autograd_core runs on the CPU only."""
        raise_cpu_only("Tensor.cuda()", "cuda")

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor from ``data``, with this tensor's dtype unless ``dtype`` is given."""
        return tensor(data, dtype=self._dtype_code if dtype is None else dtype, device=device,
                      requires_grad=requires_grad)

    def new_zeros(self, *shape, dtype=None, device=None, requires_grad=False):
        """A new tensor of zeros of the given shape, with this tensor's dtype unless ``dtype`` is given."""
        return zeros(*shape, dtype=self._dtype_code if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def new_ones(self, *shape, dtype=None, device=None, requires_grad=False):
        """A new tensor of ones of the given shape, with this tensor's dtype unless ``dtype`` is given."""
        return ones(*shape, dtype=self._dtype_code if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_full(self, shape, fill_value, dtype=None, device=None, requires_grad=False):
        """A new tensor of the given shape filled with ``fill_value``, with this tensor's dtype unless
        ``dtype`` is given.
        """
        return full(shape, fill_value, dtype=self._dtype_code if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_empty(self, *shape, dtype=None, device=None, requires_grad=False):
        """A new uninitialised tensor of the given shape, with this tensor's dtype unless ``dtype`` is given.
        """
        return empty(*shape, dtype=self._dtype_code if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def pin_memory(self, device=None):
        """The tensor itself: pinned memory speeds up copies to a GPU, and there is none here."""
        return self

    def is_pinned(self, device=None):
        """False: there is no pinned memory (there is no GPU to transfer to)."""
        return False

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad."""
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def requires_grad_(self, requires_grad=True):
        """Set whether autograd records operations on this tensor (a leaf); returns self.

        Example:
            >>> w = ag.zeros(3).requires_grad_()
            >>> w.requires_grad, w.is_leaf
            (True, True)
        """
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        self._retains_grad = True
        self._register_on_node()

    @property
    def retains_grad(self):
        """True when :meth:`retain_grad` was called on this non-leaf tensor."""
        return self.__dict__.get("_retains_grad", False)

    def _register_on_node(self):
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
            node._special = True
        node._retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """hook(grad) runs when the gradient for this tensor is computed; it may return a new grad.
        Returns a handle whose remove() unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self.__dict__.setdefault("_hooks", {})
        key = object()
        hooks[key] = hook
        if self.grad_fn is not None:
            self._register_on_node()
        return _HookHandle(hooks, key)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs on a leaf once backward has accumulated this run's gradient into .grad
        (as soon as that gradient is complete, while backward goes on). Returns a handle whose
        remove() unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        hooks = self.__dict__.setdefault("_post_acc_hooks", {})
        key = object()
        hooks[key] = hook
        engine._post_hooked[id(self)] = self
        return _PostHookHandle(self, hooks, key)

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad."""
        self._detach_graph()
        return self

    # ------------------------------------------------------------------ operators
    # +, -, *, / are the ops themselves (ops/binary.py OPERATORS: C straight, or a graph node)
    __add__ = __radd__ = _OPS["add"]
    __sub__ = _OPS["sub"]
    __mul__ = __rmul__ = _OPS["mul"]
    __truediv__ = _OPS["div"]

    def __rsub__(self, other):
        return _ROPS["sub"](other, self)

    def __rtruediv__(self, other):
        return _ROPS["div"](other, self)

    def __floordiv__(self, other):
        return floor_divide(self, _operand(other))

    def __rfloordiv__(self, other):
        return floor_divide(_operand(other), self)

    def __mod__(self, other):
        return remainder(self, _operand(other))

    def __rmod__(self, other):
        return remainder(_operand(other), self)

    def __pow__(self, other):
        other = _operand(other)
        if isinstance(other, (int, float)) and not isinstance(other, bool) and self._dtype_code <= 1:
            if state.enabled and self.requires_grad:
                return _pow_scalar(self, float(other))
            return _core.unary(_core.UNARY_OPS["pow_scalar"], self, float(other))
        return _pow(self, other)

    def __rpow__(self, other):
        return _pow(_operand(other), self)

    def __matmul__(self, other):
        return matmul(self, _operand(other))

    def __rmatmul__(self, other):
        return matmul(_operand(other), self)

    def __neg__(self):
        if state.enabled and self.requires_grad:
            return neg(self)
        if self._dtype_code == _core.BOOL:
            raise TypeError("negation, the `-` operator, on a bool tensor is not supported; use ~ or logical_not")
        return _core.unary(0, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __invert__(self):
        if self._dtype_code == _core.BOOL:
            return _core.unary(_core.UNARY_OPS["logical_not"], self)
        if self.is_floating_point():
            raise TypeError("bitwise not (~) is only supported on integer and bool tensors")
        return -self - 1

    def __and__(self, other):
        return _binary(_B["logical_and"], self, _operand(other))

    __rand__ = __and__

    def __or__(self, other):
        return _binary(_B["logical_or"], self, _operand(other))

    __ror__ = __or__

    def __xor__(self, other):
        return _binary(_B["logical_xor"], self, _operand(other))

    __rxor__ = __xor__

    def __eq__(self, other):
        if other is None:
            return False
        return _binary(_B["eq"], self, _operand(other))

    def __ne__(self, other):
        if other is None:
            return True
        return _binary(_B["ne"], self, _operand(other))

    def __lt__(self, other):
        return _binary(_B["lt"], self, _operand(other))

    def __le__(self, other):
        return _binary(_B["le"], self, _operand(other))

    def __gt__(self, other):
        return _binary(_B["gt"], self, _operand(other))

    def __ge__(self, other):
        return _binary(_B["ge"], self, _operand(other))

    # in-place arithmetic: x += y writes into x
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        for k in key:
            if not (k is None or k is Ellipsis or isinstance(k, (slice, numbers.Integral)) and
                    not isinstance(k, bool)):
                return getitem(self, key if len(key) != 1 else key[0])
        return basic_index(self, key)

    def __setitem__(self, key, value):
        setitem(self, key, value)

    # ------------------------------------------------------------------ in-place ops
    def _inplace(self, result, op):
        """Write result (computed out of place, with graph if needed) into self."""
        _check_inplace(self, op)
        if self._base is not None:
            # a view: the write is recorded on its base too (PyTorch's CopySlices), so gradients of
            # the base and of the view both see it
            _put(self, _Key(()), result, False, True, op)
            return self
        prev = state.enabled
        state.enabled = False
        try:
            _core.copy_(self, result)
        finally:
            state.enabled = prev
        if result.grad_fn is not None:
            self._attach(result.grad_fn, result._output_nr)
        return self

    def _inplace_binary(self, code, other, op, alpha=1):
        _check_inplace(self, op)
        other = _operand(other)
        if alpha != 1:
            other = other * alpha
        if state.enabled and (self.requires_grad or (isinstance(other, TensorBase) and other.requires_grad)):
            src = self.clone() if self.requires_grad else self
            return self._inplace(_CODE_OPS[code](src, other), op)
        _core.binary(code, self, other, out=self)
        return self

    def add_(self, other, alpha=1):
        """In place ``self += alpha * other`` (broadcast into self's shape); returns self."""
        return self._inplace_binary(_B["add"], other, "add_", alpha)

    def sub_(self, other, alpha=1):
        """In place ``self -= alpha * other``; returns self."""
        return self._inplace_binary(_B["sub"], other, "sub_", alpha)

    def mul_(self, other):
        """In place ``self *= other``; returns self."""
        return self._inplace_binary(_B["mul"], other, "mul_")

    def div_(self, other):
        """In place ``self /= other``; returns self."""
        if not self.is_floating_point():
            raise RuntimeError(f"div_: result type Float can't be cast to the desired output type {self.dtype.name}")
        return self._inplace_binary(_B["div"], other, "div_")

    def pow_(self, other):
        """In place ``self = self ** other``; returns self."""
        return self._inplace_op(lambda x: x ** other, "pow_")

    def _inplace_op(self, fn, op):
        _check_inplace(self, op)
        grad = state.enabled and self.requires_grad
        res = fn(self.clone() if grad else self)
        if tuple(res.shape) != tuple(self.shape):
            # say so here: the copy below would blame copy_ for the caller's broadcast
            raise RuntimeError(f"{op}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                               f"shape {tuple(res.shape)}")
        if grad:
            return self._inplace(res, op)
        _core.copy_(self, res)
        return self

    def clamp_(self, min=None, max=None):
        """In place clamp into ``[min, max]`` (either may be None); returns self."""
        return self._inplace_op(lambda x: x.clamp(min, max), "clamp_")

    def neg_(self):
        """In place ``self = -self``; returns self."""
        return self._inplace_op(lambda x: -x, "neg_")

    def exp_(self):
        """In place ``self = exp(self)``; returns self."""
        return self._inplace_op(lambda x: x.exp(), "exp_")

    def log_(self):
        """In place natural logarithm; returns self."""
        return self._inplace_op(lambda x: x.log(), "log_")

    def sqrt_(self):
        """In place square root; returns self."""
        return self._inplace_op(lambda x: x.sqrt(), "sqrt_")

    def abs_(self):
        """In place absolute value; returns self."""
        return self._inplace_op(lambda x: x.abs(), "abs_")

    def relu_(self):
        """In place ``max(self, 0)``; returns self."""
        return self._inplace_op(lambda x: x.relu(), "relu_")

    def sigmoid_(self):
        """In place logistic sigmoid ``1 / (1 + exp(-self))``; returns self."""
        return self._inplace_op(lambda x: x.sigmoid(), "sigmoid_")

    def tanh_(self):
        """In place hyperbolic tangent; returns self."""
        return self._inplace_op(lambda x: x.tanh(), "tanh_")

    def floor_(self):
        """In place floor; returns self."""
        return self._inplace_op(lambda x: x.floor(), "floor_")

    def round_(self):
        """In place rounding to the nearest integer (halves to even); returns self."""
        return self._inplace_op(lambda x: x.round(), "round_")

    def addcmul_(self, t1, t2, value=1):
        """In place ``self += value * t1 * t2``; returns self."""
        return self._inplace_op(lambda x: x.addcmul(t1, t2, value=value), "addcmul_")

    def addcdiv_(self, t1, t2, value=1):
        """In place ``self += value * t1 / t2``; returns self."""
        return self._inplace_op(lambda x: x + value * t1 / t2, "addcdiv_")

    def lerp_(self, end, weight):
        """In place ``self += weight * (end - self)``; returns self."""
        return self._inplace_op(lambda x: x + weight * (end - x), "lerp_")

    def masked_fill_(self, mask, value):
        """In place: set the elements where ``mask`` (bool, broadcast) is True to ``value``; returns self.

        Example:
            >>> x = ag.tensor([1.0, 2.0, 3.0])
            >>> x.masked_fill_(x > 1.5, 0.0)
            tensor([1., 0., 0.])
        """
        return self._inplace_op(lambda x: x.masked_fill(mask, value), "masked_fill_")

    def zero_(self):
        """Fill with zeros in place; returns self."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` in place; returns self."""
        if isinstance(value, TensorBase):
            value = value.item()
        _check_inplace(self, "fill_", overlap_ok=True)
        if state.enabled and self.requires_grad:
            return self._inplace(_Overwrite.apply(self, full_like(self, value)), "fill_")
        _core.fill_(self, value)
        return self

    def copy_(self, src, non_blocking=False):
        """Copy src (broadcast, cast) into self; differentiable with respect to src."""
        src = _operand(src)
        if not isinstance(src, TensorBase):
            return self.fill_(src)
        _check_inplace(self, "copy_")
        if state.enabled and (self.requires_grad or src.requires_grad):
            val = expand(src, self.shape)
            val = val.to(self._dtype_code) if val._dtype_code != self._dtype_code else val.clone()
            return self._inplace(val + 0 if val.grad_fn is None and val.requires_grad else val, "copy_")
        _core.copy_(self, src)
        return self

    def _random_inplace(self, op, draw):
        """Overwrite self with draw(t), which fills a tensor t like self with random values. In a graph
        the new values are constants: the gradient to what self held before is zero, as in PyTorch."""
        _check_inplace(self, op)
        if state.enabled and self.requires_grad:
            return self._inplace(_Overwrite.apply(self, draw(_core.empty(self.shape, self._dtype_code))), op)
        draw(self)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill ``self`` in place with values drawn uniformly from :math:`[a, b)`; returns ``self``.

        In a graph the new values are constants (the gradient to the old values is zero).

        Example:
            >>> x = ag.empty(4).uniform_(2.0, 3.0)
            >>> bool(((x >= 2) & (x < 3)).all())
            True
        """
        return self._random_inplace("uniform_", lambda t: _core.uniform_(t, a, b, generator))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        r"""Fill ``self`` in place with values drawn from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`;
        returns ``self``. In a graph the new values are constants.

        Example:
            >>> ag.zeros(2, 2).normal_(0.0, 0.1).shape
            Size([2, 2])
        """
        return self._random_inplace("normal_", lambda t: _core.normal_(t, mean, std, generator))

    def bernoulli_(self, p=0.5, generator=None):
        """Fill ``self`` in place with 1 with probability ``p`` and 0 otherwise; returns ``self``. In a
        graph the new values are constants.

        Example:
            >>> x = ag.empty(5).bernoulli_(1.0)
            >>> x
            tensor([1., 1., 1., 1., 1.])
        """
        return self._random_inplace("bernoulli_", lambda t: _core.bernoulli_(t, p, generator))

    def random_(self, low=0, high=None, *, generator=None):
        """Fill ``self`` in place with integers drawn uniformly from ``[low, high)``; with one argument,
        from ``[0, low)``. Returns ``self``. In a graph the new values are constants.

        Example:
            >>> x = ag.zeros(6, dtype=ag.int64).random_(3)
            >>> bool(((x >= 0) & (x < 3)).all())
            True
        """
        if high is None:
            low, high = 0, low
        return self._random_inplace("random_", lambda t: _core.randint_(t, low, high, generator))

    def exponential_(self, lambd=1.0, *, generator=None):
        r"""Fill ``self`` in place with values drawn from the exponential distribution of rate ``lambd``,
        density :math:`\lambda e^{-\lambda x}` for :math:`x \ge 0` (by inverting the CDF:
        :math:`-\ln(1 - u) / \lambda` for uniform :math:`u`). Returns ``self``.

        Example:
            >>> bool((ag.empty(4).exponential_(2.0) >= 0).all())
            True
        """
        def draw(t):
            u = _core.uniform_(_core.empty(self.shape, self._dtype_code), 0.0, 1.0, generator)
            return _core.copy_(t, -(1 - u).log() / lambd)

        return self._random_inplace("exponential_", draw)

    def share_memory_(self):
        """A no-op returning self: tensors cross process boundaries by pickling (a copy) here, never
        through shared memory (see ag.multiprocessing)."""
        return self

    def is_shared(self):
        """False: storage is never placed in shared memory (see share_memory_)."""
        return False

    def set_(self, source):
        """Make this tensor share ``source``'s storage, shape and strides; returns self."""
        _core.assign_meta(self, source)
        return self


def _rebuild(array, requires_grad, dtype=None):
    return tensor(array, dtype=dtype, requires_grad=requires_grad)


def _numpy_readable(t):
    """t, or a float32 copy when its dtype (bfloat16) has no NumPy counterpart."""
    return _core.cast(t, _core.F32) if t._dtype_code == _core.BF16 else t


class _HookHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class _PostHookHandle(_HookHandle):
    def __init__(self, tensor, hooks, key):
        super().__init__(hooks, key)
        self.tensor = weakref.ref(tensor)

    def remove(self):
        super().remove()
        t = self.tensor()
        if t is not None and not self.hooks:
            engine._post_hooked.pop(id(t), None)


def _check_inplace(t, op, overlap_ok=False):
    """Raise unless t may be modified in place: writable memory, no two elements sharing memory (unless
    overlap_ok: fill_ writes one value), and not a leaf that requires grad while grad mode is on."""
    _core.check_write_target(t, op, overlap_ok)
    if state.enabled and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                           "(wrap it in `with ag.no_grad():` to modify it without recording)")



class _Overwrite:
    """Differentiable overwrite: forward gives `value` (a tensor computed without graph), backward gives
    x a zero gradient. What fill_ and the random in-place writers record: the old values are gone."""

    @staticmethod
    def apply(x, value):
        class Overwrite(Function):
            @staticmethod
            def forward(ctx, x, value):
                return value

            @staticmethod
            def backward(ctx, g):
                return full_like(g, 0), None

        _Overwrite.apply = staticmethod(Overwrite.apply)
        return Overwrite.apply(x, value)


class _Cast:
    """Differentiable dtype conversion between float dtypes."""

    @staticmethod
    def apply(x, code):
        class Cast(Function):
            @staticmethod
            def forward(ctx, x, code):
                ctx.code = x._dtype_code
                return _core.cast(x, code)

            @staticmethod
            def backward(ctx, g):
                return g.to(ctx.code), None

        _Cast.apply = staticmethod(Cast.apply)
        return Cast.apply(x, code)


def is_tensor(obj):
    """True when ``obj`` is a :class:`Tensor` (a Parameter included)."""
    return isinstance(obj, Tensor)


# ---------------------------------------------------------------------------------------- repr
_core._set_tensor_class(Tensor)
_registry.install(Tensor)
