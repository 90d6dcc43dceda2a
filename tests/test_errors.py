"""Bad input raises a clear Python exception naming the op and the shapes: never a crash or a silent
wrong answer. One row per case: a call, the exception type, a pattern its message must match."""
import numpy as np
import pytest

import autograd_core as ag


def _second_backward():
    x = ag.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _nonscalar_backward():
    (ag.randn(2, 2, requires_grad=True) * 2).backward()


def _view_noncontiguous():
    ag.randn(3, 4).T.view(12)


ERRORS = [
    ("broadcast_add", lambda: ag.ones(2, 3) + ag.ones(4, 3), RuntimeError, r"add.*\(2, 3\).*\(4, 3\)"),
    ("broadcast_mul", lambda: ag.ones(2, 3) * ag.ones(2), RuntimeError, r"mul.*\(2, 3\).*\(2,\)"),
    ("matmul_shapes", lambda: ag.ones(2, 3) @ ag.ones(4, 5), RuntimeError, r"matmul.*\(2, 3\).*\(4, 5\)"),
    ("matmul_batch", lambda: ag.ones(2, 3, 4) @ ag.ones(3, 4, 5), RuntimeError, r"matmul.*batch"),
    ("matmul_0d", lambda: ag.matmul(ag.tensor(1.0), ag.ones(2)), RuntimeError, r"matmul.*at least 1 dim"),
    ("mm_ndim", lambda: ag.mm(ag.ones(2), ag.ones(2, 2)), RuntimeError, r"mm.*2-D"),
    ("index_out_of_range", lambda: ag.ones(3, 4)[3], IndexError, r"index 3 is out of bounds for dimension 0 with size 3"),
    ("index_negative", lambda: ag.ones(3, 4)[:, -5], IndexError, r"-5.*dimension 1 with size 4"),
    ("two_ellipses", lambda: ag.ones(3)[..., ...], IndexError, r"single ellipsis"),
    ("too_many_indices", lambda: ag.ones(3)[0, 0], IndexError, r"too many indices"),
    ("index_tensor_range", lambda: ag.ones(3)[ag.tensor([0, 5])], IndexError, r"5.*size 3|out of"),
    ("dim_out_of_range", lambda: ag.ones(2, 3).sum(2), IndexError, r"dimension out of range.*got 2"),
    ("exp_of_bool_mean", lambda: ag.tensor([True]).mean(), TypeError, r"mean.*floating point"),
    ("requires_grad_int", lambda: ag.tensor([1, 2], requires_grad=True), RuntimeError, r"floating point"),
    ("logical_on_float", lambda: ag.ones(2) & ag.ones(2), TypeError, r"logical_and.*floating"),
    ("view_noncontiguous", _view_noncontiguous, RuntimeError, r"view.*not compatible.*reshape"),
    ("reshape_bad_size", lambda: ag.ones(2, 3).reshape(4, 2), RuntimeError, r"reshape.*\(4, 2\).*size 6"),
    ("reshape_two_infer", lambda: ag.ones(6).reshape(-1, -1), RuntimeError, r"only one dimension can be inferred"),
    ("expand_bad", lambda: ag.ones(2, 3).expand(4, 3), RuntimeError, r"expand.*size of the tensor \(4\).*\(2\)"),
    ("permute_len", lambda: ag.ones(2, 3).permute(0), RuntimeError, r"permute.*number of dims"),
    ("cat_mismatch", lambda: ag.cat([ag.ones(2, 3), ag.ones(2, 4)], 0), RuntimeError, r"cat.*\(2, 4\)"),
    ("stack_mismatch", lambda: ag.stack([ag.ones(2), ag.ones(3)]), RuntimeError, r"stack.*\(2,\).*\(3,\)"),
    ("second_backward", _second_backward, RuntimeError, r"backward through the graph a second time"),
    ("nonscalar_backward", _nonscalar_backward, RuntimeError, r"only for scalar outputs.*\(2, 2\)"),
    ("item_many", lambda: ag.ones(3).item(), RuntimeError, r"3 elements cannot be converted"),
    ("bool_ambiguous", lambda: bool(ag.ones(3)), RuntimeError, r"ambiguous"),
    ("unknown_dtype", lambda: ag.zeros(2, dtype="complex64"), TypeError, r"zeros.*dtype"),
    ("negative_shape", lambda: ag.zeros(2, -1), ValueError, r"negative dimension"),
    ("from_numpy_dtype", lambda: ag.from_numpy(np.zeros(3, dtype=np.complex64)), TypeError, r"from_numpy.*complex"),
    ("from_numpy_type", lambda: ag.from_numpy([1, 2]), TypeError, r"from_numpy.*numpy.ndarray"),
    ("int_div_zero", lambda: ag.tensor([1, 2]) // 0, ZeroDivisionError, r"floor_divide.*zero"),
    ("max_empty", lambda: ag.zeros(0).max(), RuntimeError, r"max.*non-empty"),
    ("softmax_int", lambda: ag.tensor([1, 2]).softmax(0), TypeError, r"softmax.*floating"),
    ("where_cond", lambda: ag.where(ag.ones(2), ag.ones(2), ag.ones(3)), RuntimeError, r"where.*\(2,\).*\(3,\)"),
    ("inplace_shape", lambda: ag.ones(3).add_(ag.ones(2, 3)), RuntimeError, r"add.*\(3,\).*\(2, 3\)"),
    ("inplace_int_float", lambda: ag.tensor([1, 2]).add_(1.5), RuntimeError, r"add.*float32.*int64"),
    ("set_threads", lambda: ag.set_num_threads(0), ValueError, r"set_num_threads"),
    ("linear_features", lambda: ag.nn.functional.linear(ag.ones(2, 3), ag.ones(4, 5)), RuntimeError,
     r"linear.*3 features.*in_features=5"),
    ("gather_dim", lambda: ag.ones(2, 3).gather(2, ag.zeros(2, 3, dtype=ag.int64)), IndexError, r"dimension out of range"),
    ("numpy_requires_grad", lambda: ag.ones(2, requires_grad=True).numpy(), RuntimeError, r"requires grad"),
    ("numel_overflow", lambda: ag.zeros(2 ** 40, 2 ** 40), RuntimeError, r"more than 2\*\*63 elements"),
    ("nbytes_overflow", lambda: ag.empty(2 ** 62), RuntimeError, r"more than 2\*\*63 bytes"),
    ("expand_overflow", lambda: ag.zeros(1).expand(2 ** 40, 2 ** 40), RuntimeError, r"more than 2\*\*63"),
    ("int_too_big", lambda: ag.tensor([2 ** 70]), TypeError, r"tensor: could not infer a dtype.*int64"),
    ("arange_zero_step", lambda: ag.arange(0, 5, 0), ValueError, r"arange.*step"),
]


@pytest.mark.parametrize("name,call,exc,pattern", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_raises(name, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_readonly_numpy_memory_is_not_written():
    a = np.ones(3, dtype=np.float32)
    a.setflags(write=False)
    t = ag.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.fill_(2.0)
    assert (a == 1).all()
