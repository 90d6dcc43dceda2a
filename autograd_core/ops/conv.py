"""Convolution and pooling: argument checks, the differentiable Functions, and the functional forms
(conv1d, conv2d, conv_transpose2d, max/avg/adaptive pools) exported as ag.nn.functional.

The three convolution Functions close under differentiation, so gradients of any order work:
  Conv2d(x, w)                 -> y
  ConvTranspose2d(y, w)        -> x   (conv2d's gradient for x; also conv_transpose2d's forward)
  Conv2dWeightGrad(x, y)       -> w   (conv2d's gradient for w)
and each one's backward is written with the other two. Max pools save their argmax indices; their
backward is a scatter-add by index (MaxPoolScatter) whose backward is a gather (MaxPoolGather), and back.
Average pools and their backward (AvgPool2dBackward) are each other's adjoint.
Kernels: csrc/conv*.c (conv.c picks the algorithm), csrc/pool.c; binding: _conv.pxi. Tests: tests/test_conv.py.
"""
import operator

from .. import _core
from .._core import TensorBase
from ..autograd.function import Function
from ._registry import op

# dtype codes 2.._F16-1 are the integers and bool; below and from _F16 on are the floating dtypes
_F16 = _core.F16


# ------------------------------------------------------------------------------------------ argument checks
def _shape(t):
    return tuple(t.shape)


def _pair(value, op, name, n=2):
    """An int (or numpy integer) or a sequence of n of them, as an n-tuple of ints."""
    def as_int(v):
        if isinstance(v, bool):
            raise TypeError
        return operator.index(v)

    try:
        if not isinstance(value, (tuple, list)):
            return (as_int(value),) * n
        items = tuple(as_int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(items) == 1:
        items = items * n
    if len(items) != n:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return items


def _check_float(op, **tensors):
    dtype = None
    for name, t in tensors.items():
        if t is None:
            continue
        if not isinstance(t, _core.TensorBase):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if 1 < t._dtype_code < _F16:
            raise TypeError(f"{op}: expected floating point tensors, got {name} of dtype {t.dtype}")
        if dtype is None:
            dtype = t.dtype
        elif t.dtype != dtype:
            others = ", ".join(f"{k} {v.dtype}" for k, v in tensors.items() if v is not None)
            raise TypeError(f"{op}: all tensors must have the same dtype, got {others}")


def _positive(op, name, values):
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")


def _conv_padding(op, padding, kernel, dilation, stride):
    """((top, bottom), (left, right)) from an int, a pair, a pair of pairs, 'same' or 'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, (tuple, list)) for p in padding)):
        pads = tuple(_pair(p, op, "padding") for p in padding)
    else:
        pads = tuple((p, p) for p in _pair(padding, op, "padding"))
    if any(p < 0 for pair in pads for p in pair):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return pads


def _conv_out_size(op, size, kernel, stride, pads, dilation, x, w):
    out = []
    for s, k, st, (p0, p1), d in zip(size, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        if s + p0 + p1 < span:
            raise ValueError(f"{op}: kernel size {tuple(kernel)} (dilation {tuple(dilation)}, effective "
                             f"{span}) is larger than the padded input: input {_shape(x)}, weight "
                             f"{_shape(w)}, padding {pads}")
        out.append((s + p0 + p1 - span) // st + 1)
    return tuple(out)


# ------------------------------------------------------------------------------------------ Functions
# geom = (stride, (pad_top, pad_left), dilation, groups), each a pair of ints except groups.

class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw):
        stride, pad, dilation, groups = geom
        ctx.geom = geom
        ctx.save_for_backward(x, w)
        return _core.conv2d_forward(x, w, b, stride, pad, dilation, groups, out_hw[0], out_hw[1])

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        if need[0] and need[1]:
            # both kernels read g densely: lay out a broadcast or strided g (a .sum()'s gradient) once,
            # not once in each
            g = g.contiguous()
        gx = ConvTranspose2d.apply(g, w, None, ctx.geom, tuple(x.shape[2:])) if need[0] else None
        gw = Conv2dWeightGrad.apply(x, g, ctx.geom, tuple(w.shape[2:])) if need[1] else None
        gb = g.sum(dim=(0, 2, 3)) if need[2] else None
        return gx, gw, gb, None, None


class ConvTranspose2d(Function):
    """y (n, o, oh, ow), w (o, c / groups, kh, kw) -> (n, c, h, w): the adjoint of Conv2d in its input."""

    @staticmethod
    def forward(ctx, y, w, b, geom, in_hw):
        stride, pad, dilation, groups = geom
        ctx.geom = geom
        ctx.save_for_backward(y, w)
        return _core.conv2d_backward_data(y, w, b, in_hw[0], in_hw[1], stride, pad, dilation, groups)

    @staticmethod
    def backward(ctx, gx):
        y, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gy = Conv2d.apply(gx, w, None, ctx.geom, tuple(y.shape[2:])) if need[0] else None
        gw = Conv2dWeightGrad.apply(gx, y, ctx.geom, tuple(w.shape[2:])) if need[1] else None
        gb = gx.sum(dim=(0, 2, 3)) if need[2] else None
        return gy, gw, gb, None, None


class Conv2dWeightGrad(Function):
    """x (n, c, h, w), y (n, o, oh, ow) -> (o, c / groups, kh, kw): sum over n of y_n @ im2col(x_n)^T."""

    @staticmethod
    def forward(ctx, x, y, geom, kernel_hw):
        stride, pad, dilation, groups = geom
        ctx.geom = geom
        ctx.save_for_backward(x, y)
        return _core.conv2d_backward_weight(x, y, kernel_hw[0], kernel_hw[1], stride, pad, dilation, groups)

    @staticmethod
    def backward(ctx, gw):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = ConvTranspose2d.apply(y, gw, None, ctx.geom, tuple(x.shape[2:])) if need[0] else None
        gy = Conv2d.apply(x, gw, None, ctx.geom, tuple(y.shape[2:])) if need[1] else None
        return gx, gy, None, None


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, pad, dilation, out_hw):
        out, idx = _core.max_pool2d(x, kernel, stride, pad, dilation, out_hw[0], out_hw[1])
        ctx.in_hw = tuple(x.shape[-2:])
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        (idx,) = ctx.saved_tensors
        return MaxPoolScatter.apply(g, idx, ctx.in_hw), None, None, None, None, None


class AdaptiveMaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_hw):
        out, idx = _core.adaptive_max_pool2d(x, out_hw[0], out_hw[1])
        ctx.in_hw = tuple(x.shape[-2:])
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        (idx,) = ctx.saved_tensors
        return MaxPoolScatter.apply(g, idx, ctx.in_hw), None


class MaxPoolScatter(Function):
    """g (..., oh, ow) -> (..., h, w): zeros with g added at the flat in-plane indices idx."""

    @staticmethod
    def forward(ctx, g, idx, in_hw):
        ctx.save_for_backward(idx)
        return _core.pool_scatter_add(g, idx, in_hw[0], in_hw[1])

    @staticmethod
    def backward(ctx, gg):
        (idx,) = ctx.saved_tensors
        return MaxPoolGather.apply(gg, idx), None, None


class MaxPoolGather(Function):
    """x (..., h, w) -> (..., oh, ow): x at the flat in-plane indices idx."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.in_hw = tuple(x.shape[-2:])
        ctx.save_for_backward(idx)
        return _core.pool_gather(x, idx)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return MaxPoolScatter.apply(g, idx, ctx.in_hw), None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, params, out_hw):
        kernel, stride, pad, count_include_pad, divisor = params
        ctx.params = params
        ctx.in_hw = tuple(x.shape[-2:])
        return _core.avg_pool2d(x, kernel, stride, pad, count_include_pad, divisor, out_hw[0], out_hw[1])

    @staticmethod
    def backward(ctx, g):
        return AvgPool2dBackward.apply(g, ctx.params, ctx.in_hw), None, None


class AvgPool2dBackward(Function):
    @staticmethod
    def forward(ctx, g, params, in_hw):
        kernel, stride, pad, count_include_pad, divisor = params
        ctx.params = params
        ctx.out_hw = tuple(g.shape[-2:])
        return _core.avg_pool2d_backward(g, in_hw[0], in_hw[1], kernel, stride, pad, count_include_pad, divisor)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.params, ctx.out_hw), None, None


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.in_hw = tuple(x.shape[-2:])
        return _core.adaptive_avg_pool2d(x, out_hw[0], out_hw[1])

    @staticmethod
    def backward(ctx, g):
        return AdaptiveAvgPool2dBackward.apply(g, ctx.in_hw), None


class AdaptiveAvgPool2dBackward(Function):
    @staticmethod
    def forward(ctx, g, in_hw):
        ctx.out_hw = tuple(g.shape[-2:])
        return _core.adaptive_avg_pool2d_backward(g, in_hw[0], in_hw[1])

    @staticmethod
    def backward(ctx, gg):
        return AdaptiveAvgPool2d.apply(gg, ctx.out_hw), None


# ------------------------------------------------------------------------------------------ convolutions
def _batched(op, x, spatial):
    """(x as a batched tensor, whether it was unbatched); x must have spatial + 1 or spatial + 2 dims."""
    if x.ndim == spatial + 2:
        return x, False
    if x.ndim == spatial + 1:
        return x.unsqueeze(0), True
    raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
                     f"got shape {_shape(x)}")


def _check_conv(op, x, weight, bias, groups, spatial):
    _check_float(op, input=x, weight=weight, bias=bias)
    if weight.ndim != spatial + 2:
        raise ValueError(f"{op}: expected a {spatial + 2}-D weight, got shape {_shape(weight)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if bias is not None and bias.ndim != 1:
        raise ValueError(f"{op}: expected a 1-D bias, got shape {_shape(bias)}")


# conv2d's checks and output geometry depend only on the shapes and options: the validated result for a
# (input shape, weight shape, bias shape, stride, padding, dilation, groups) key is kept, so a training
# loop's repeated calls skip ~6 us of Python per call (the dtype checks still run every time). Bounded.
_GEOM_CACHE = {}


def _plain(v):
    """An int, a str, or a (nested) tuple of ints: options that can key _GEOM_CACHE (bools, which compare
    equal to 0 and 1 but are rejected by the checks, and lists are left out)."""
    t = type(v)
    return t is int or t is str or (t is tuple and all(type(e) is int or (type(e) is tuple and all(
        type(f) is int for f in e)) for e in v))


@op(method=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of input (n, c, h, w) with weight (o, c / groups, kh, kw), like torch.

    padding: an int, a pair, 'valid', 'same' (stride 1; an odd total puts the extra row/column at the
    bottom/right, like torch), or ((top, bottom), (left, right)) for explicit asymmetric padding."""
    op = "conv2d"
    _check_float(op, input=input, weight=weight, bias=bias)
    key = hit = None
    if _plain(stride) and _plain(padding) and _plain(dilation) and type(groups) is int:
        # the geometry of argument shapes and options already validated (see _GEOM_CACHE)
        key = (input.shape, weight.shape, None if bias is None else bias.shape, stride, padding, dilation,
               groups)
        hit = _GEOM_CACHE.get(key)
    if hit is not None:
        geom, out_hw, unbatched = hit
        y = Conv2d.apply(input.unsqueeze(0) if unbatched else input, weight, bias, geom, out_hw)
        return y.squeeze(0) if unbatched else y
    _check_conv(op, input, weight, bias, groups, 2)
    x, unbatched = _batched(op, input, 2)
    stride = _pair(stride, op, "stride")
    dilation = _pair(dilation, op, "dilation")
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    c, o = x.shape[1], weight.shape[0]
    if o % groups:
        raise ValueError(f"{op}: groups={groups} must divide the {o} output channels of weight "
                         f"{_shape(weight)}")
    if c % groups:
        raise ValueError(f"{op}: groups={groups} must divide the {c} input channels of input {_shape(input)}")
    if weight.shape[1] * groups != c:
        raise ValueError(f"{op}: input {_shape(input)} has {c} channels, but weight {_shape(weight)} with "
                         f"groups={groups} expects {weight.shape[1] * groups}")
    if bias is not None and bias.shape[0] != o:
        raise ValueError(f"{op}: bias {_shape(bias)} does not match the {o} output channels of weight "
                         f"{_shape(weight)}")
    if x.shape[2] < 1 or x.shape[3] < 1 or c < 1:
        raise ValueError(f"{op}: input {_shape(input)} has an empty channel or spatial dimension")
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(op, padding, kernel, dilation, stride)
    out_hw = _conv_out_size(op, tuple(x.shape[2:]), kernel, stride, pads, dilation, x, weight)
    geom = (stride, (pads[0][0], pads[1][0]), dilation, groups)
    if key is not None:
        if len(_GEOM_CACHE) >= 256:
            _GEOM_CACHE.clear()
        _GEOM_CACHE[key] = (geom, out_hw, unbatched)
    y = Conv2d.apply(x, weight, bias, geom, out_hw)
    return y.squeeze(0) if unbatched else y


@op(method=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of input (n, c, l) with weight (o, c / groups, k): conv2d with height 1."""
    op = "conv1d"
    _check_conv(op, input, weight, bias, groups, 1)
    x, unbatched = _batched(op, input, 1)
    (stride,) = _pair(stride, op, "stride", 1)
    (dilation,) = _pair(dilation, op, "dilation", 1)
    if isinstance(padding, str):
        pad2 = padding
    elif (isinstance(padding, (tuple, list)) and len(padding) == 1
          and isinstance(padding[0], (tuple, list))):
        pad2 = ((0, 0), tuple(padding[0]))
    else:
        (p,) = _pair(padding, op, "padding", 1)
        pad2 = (0, p)
    try:
        y = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), pad2, (1, dilation), groups)
    except (ValueError, TypeError) as e:
        raise type(e)(str(e).replace("conv2d:", f"{op}:", 1) + f" (input {_shape(input)}, weight "
                      f"{_shape(weight)})") from None
    y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


@op(method=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution, like torch: input (n, c_in, l) or (c_in, l), weight (c_in, c_out /
    groups, k); out length (l - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    Computed as conv_transpose2d over a height of 1."""
    op = "conv_transpose1d"
    if not isinstance(input, TensorBase) or input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (unbatched) or 3-D (batched) input, got "
                         f"{_shape(input) if isinstance(input, TensorBase) else type(input).__name__}")
    if not isinstance(weight, TensorBase) or weight.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D weight (c_in, c_out / groups, k), got "
                         f"{_shape(weight) if isinstance(weight, TensorBase) else type(weight).__name__}")

    def one(v, name):
        if isinstance(v, (tuple, list)):
            if len(v) != 1:
                raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
            v = v[0]
        return v

    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, one(stride, "stride")),
                           (0, one(padding, "padding")), (0, one(output_padding, "output_padding")), groups,
                           (1, one(dilation, "dilation")))
    return out.squeeze(-2)


@op(method=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d for its input), like torch: input (n, c_in, h, w),
    weight (c_in, c_out / groups, kh, kw); out size (h - 1) * stride - 2 * padding + dilation * (k - 1)
    + output_padding + 1."""
    op = "conv_transpose2d"
    _check_conv(op, input, weight, bias, groups, 2)
    x, unbatched = _batched(op, input, 2)
    stride = _pair(stride, op, "stride")
    dilation = _pair(dilation, op, "dilation")
    padding = _pair(padding, op, "padding")
    output_padding = _pair(output_padding, op, "output_padding")
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    if any(p < 0 for p in padding) or any(p < 0 for p in output_padding):
        raise ValueError(f"{op}: padding and output_padding must be non-negative, got {padding} and "
                         f"{output_padding}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                             f"{stride} or dilation {dilation}")
    c_in = x.shape[1]
    if weight.shape[0] != c_in:
        raise ValueError(f"{op}: input {_shape(input)} has {c_in} channels, but weight {_shape(weight)} "
                         f"expects {weight.shape[0]}")
    if c_in % groups:
        raise ValueError(f"{op}: groups={groups} must divide the {c_in} input channels of input "
                         f"{_shape(input)}")
    c_out = weight.shape[1] * groups
    if bias is not None and bias.shape[0] != c_out:
        raise ValueError(f"{op}: bias {_shape(bias)} does not match the {c_out} output channels")
    if x.shape[2] < 1 or x.shape[3] < 1 or c_in < 1:
        raise ValueError(f"{op}: input {_shape(input)} has an empty channel or spatial dimension")
    kernel = tuple(weight.shape[2:])
    out_hw = tuple((i - 1) * s - 2 * p + d * (k - 1) + q + 1
                   for i, s, p, d, k, q in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(v < 1 for v in out_hw):
        raise ValueError(f"{op}: the output size {out_hw} would be empty for input {_shape(input)}, weight "
                         f"{_shape(weight)}, stride {stride}, padding {padding}")
    geom = (stride, padding, dilation, groups)
    y = ConvTranspose2d.apply(x, weight, bias, geom, out_hw)
    return y.squeeze(0) if unbatched else y


# ------------------------------------------------------------------------------------------ pooling
def _pool_out_size(op, size, kernel, stride, pad, dilation, ceil_mode, x):
    """torch's pooling output size: floor or ceil, and a ceil window must start inside the input or
    its left padding."""
    out = []
    for s, k, st, p, d in zip(size, kernel, stride, pad, dilation):
        num = s + 2 * p - d * (k - 1) - 1 + (st - 1 if ceil_mode else 0)
        n = (num // st) + 1 if num >= 0 else 0
        if ceil_mode and n > 0 and (n - 1) * st >= s + p:
            n -= 1
        if n < 1:
            raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}, padding {pad}) is larger than the "
                             f"padded input {_shape(x)}: the output would be empty")
        out.append(n)
    return tuple(out)


def _pool_args(op, input, kernel_size, stride, padding, dilation, spatial):
    _check_float(op, input=input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
                         f"got shape {_shape(input)}")
    if any(v < 1 for v in input.shape[-spatial:]):
        raise ValueError(f"{op}: input {_shape(input)} has an empty spatial dimension")
    kernel = _pair(kernel_size, op, "kernel_size", spatial)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _pair(stride, op, "stride", spatial)
    pad = _pair(padding, op, "padding", spatial)
    dilation = _pair(dilation, op, "dilation", spatial)
    _positive(op, "kernel_size", kernel)
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    if any(p < 0 for p in pad):
        raise ValueError(f"{op}: padding must be non-negative, got {pad}")
    if any(2 * p > d * (k - 1) + 1 for p, k, d in zip(pad, kernel, dilation)):
        raise ValueError(f"{op}: padding {pad} should be at most half of the (dilated) kernel size {kernel}")
    return kernel, stride, pad, dilation


@op(method=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (n, c, h, w) or (c, h, w), like torch; indices are flat within each h x w plane.
    """
    op = "max_pool2d"
    kernel, stride, pad, dilation = _pool_args(op, input, kernel_size, stride, padding, dilation, 2)
    out_hw = _pool_out_size(op, tuple(input.shape[-2:]), kernel, stride, pad, dilation, ceil_mode, input)
    out, idx = MaxPool2d.apply(input, kernel, stride, pad, dilation, out_hw)
    return (out, idx) if return_indices else out


@op(method=False)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (n, c, l) or (c, l), like torch."""
    op = "max_pool1d"
    kernel, stride, pad, dilation = _pool_args(op, input, kernel_size, stride, padding, dilation, 1)
    (length,) = _pool_out_size(op, tuple(input.shape[-1:]), kernel, stride, pad, dilation, ceil_mode, input)
    out, idx = MaxPool2d.apply(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + pad, (1,) + dilation,
                               (1, length))
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


@op(method=False)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (n, c, h, w) or (c, h, w), like torch."""
    op = "avg_pool2d"
    kernel, stride, pad, _ = _pool_args(op, input, kernel_size, stride, padding, 1, 2)
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override < 1):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
    out_hw = _pool_out_size(op, tuple(input.shape[-2:]), kernel, stride, pad, (1, 1), ceil_mode, input)
    params = (kernel, stride, pad, bool(count_include_pad), divisor_override or 0)
    return AvgPool2d.apply(input, params, out_hw)


@op(method=False)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (n, c, l) or (c, l), like torch."""
    op = "avg_pool1d"
    kernel, stride, pad, _ = _pool_args(op, input, kernel_size, stride, padding, 1, 1)
    (length,) = _pool_out_size(op, tuple(input.shape[-1:]), kernel, stride, pad, (1,), ceil_mode, input)
    params = ((1,) + kernel, (1,) + stride, (0,) + pad, bool(count_include_pad), 0)
    return AvgPool2d.apply(input.unsqueeze(-2), params, (1, length)).squeeze(-2)


def _adaptive_size(op, input, output_size, spatial):
    _check_float(op, input=input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
                         f"got shape {_shape(input)}")
    if any(v < 1 for v in input.shape[-spatial:]):
        raise ValueError(f"{op}: input {_shape(input)} has an empty spatial dimension")
    if isinstance(output_size, (tuple, list)):
        size = tuple(input.shape[-spatial + i] if v is None else v for i, v in enumerate(output_size))
    else:
        size = (output_size,) * spatial
    size = _pair(size, op, "output_size", spatial)
    _positive(op, "output_size", size)
    return size


@op(method=False)
def adaptive_avg_pool2d(input, output_size):
    """Average over the cells [floor(i h / oh), ceil((i + 1) h / oh)) x (likewise for w), like torch."""
    size = _adaptive_size("adaptive_avg_pool2d", input, output_size, 2)
    return AdaptiveAvgPool2d.apply(input, size)


@op(method=False)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, H, W)`` input to ``output_size``; see
    :class:`~autograd_core.nn.AdaptiveMaxPool2d`.
    """
    size = _adaptive_size("adaptive_max_pool2d", input, output_size, 2)
    out, idx = AdaptiveMaxPool2d.apply(input, size)
    return (out, idx) if return_indices else out


@op(method=False)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling of ``(N, C, L)`` input to length ``output_size``; see
    :class:`~autograd_core.nn.AdaptiveAvgPool1d`.
    """
    (length,) = _adaptive_size("adaptive_avg_pool1d", input, output_size, 1)
    return AdaptiveAvgPool2d.apply(input.unsqueeze(-2), (1, length)).squeeze(-2)


@op(method=False)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, L)`` input to length ``output_size``; see
    :class:`~autograd_core.nn.AdaptiveMaxPool1d`.
    """
    (length,) = _adaptive_size("adaptive_max_pool1d", input, output_size, 1)
    out, idx = AdaptiveMaxPool2d.apply(input.unsqueeze(-2), (1, length))
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out
