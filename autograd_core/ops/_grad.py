"""What every VJP of a broadcasting op needs, in one place below the op families: undo broadcasting
(`sum_to`) and dtype promotion (`_grad_to`) from an input's recorded meta. The ops/ modules import
this and `_registry`, and otherwise use Tensor methods in their VJPs, so no family imports another
to differentiate (tests/test_layering.py checks it)."""
from .._core import SAME_META, TensorBase

# the meta of an input that had the output's shape and dtype: its gradient is the output's
_SAME = SAME_META


def _meta(x):
    return (x.shape, x._dtype_code) if isinstance(x, TensorBase) else None


def sum_to(g, shape):
    """Sum g over the dimensions that broadcasting expanded, giving a tensor of `shape`."""
    shape = tuple(shape)
    if g._shape_is(shape):
        return g
    gshape = g.shape
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        g = g.sum(dims, keepdim=True)
    if g.shape != shape:
        g = g.reshape(shape)
    return g


def _grad_to(g, meta):
    """The gradient for an input described by meta (TensorBase._input_meta: None for a scalar input,
    _SAME, or (shape, dtype code)), from the gradient g of the op's output."""
    if meta is None:
        return None
    if meta is _SAME:
        return g
    g = sum_to(g, meta[0])
    return g if g._dtype_code == meta[1] else g.to(meta[1])
