"""How tensors print: PyTorch's format."""
import numpy as np

from . import _core


def format_tensor(t):
    a = np.asarray(t.detach())
    extras = []
    if t._dtype_code not in (_core.F32, _core.I64, _core.BOOL):
        extras.append(f"dtype=autograd_core.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if t.numel() == 0:
        body = "[]"
        if t.ndim > 1:
            extras.insert(0, f"size={tuple(t.shape)}")
    else:
        if t._dtype_code == _core.BOOL:
            body = np.array2string(a, separator=", ", prefix="tensor(",
                                   formatter={"bool": lambda v: "True" if v else "False"})
        elif t._dtype_code in (0, 1):
            body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, threshold=1000,
                                   edgeitems=3, floatmode="maxprec_equal")
        else:
            body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    if extras:
        return f"tensor({body}, {', '.join(extras)})"
    return f"tensor({body})"
