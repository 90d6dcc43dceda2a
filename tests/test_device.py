"""ag.device, ag.cuda, ag.accelerator, ag.backends, .to(device), device= keywords: PyTorch's
behaviour without a GPU (compared with torch when installed)."""
import inspect
import pickle

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn


def test_device_objects():
    cpu = ag.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None
    assert str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')"
    assert str(ag.device("cpu:0")) == "cpu:0" and repr(ag.device("cpu", 0)) == "device(type='cpu', index=0)"
    assert ag.device("cpu") == ag.device(cpu) and ag.device("cpu") != ag.device("cpu:0")
    assert ag.device("cpu") != "cpu"  # as in PyTorch: a device is not equal to its string
    assert hash(ag.device("cpu")) == hash(ag.device("cpu"))
    assert pickle.loads(pickle.dumps(ag.device("cpu:0"))) == ag.device("cpu:0")
    # an accelerator device object can be made; using it is what fails
    assert ag.device("cuda:1").type == "cuda" and ag.device("cuda:1").index == 1
    for bad, error in (("cdua", RuntimeError), ("cpu:x", RuntimeError), ("cpu:-1", RuntimeError),
                       (1.5, TypeError), (0, RuntimeError)):
        with pytest.raises(error):
            ag.device(bad)
    with ag.device("cpu"):
        assert ag.zeros(1).device == ag.device("cpu")


def test_device_matches_torch():
    torch = pytest.importorskip("torch")
    for spec in ("cpu", "cpu:0", "cuda", "cuda:3", "mps", "meta"):
        ours, theirs = ag.device(spec), torch.device(spec)
        assert (str(ours), repr(ours), ours.type, ours.index) == (str(theirs), repr(theirs), theirs.type, theirs.index)
    assert (ag.device("cpu") == ag.device("cpu:0")) == (torch.device("cpu") == torch.device("cpu:0"))
    assert repr(ag.zeros(1).device) == repr(torch.zeros(1).device)


def test_accelerator_queries():
    assert ag.cuda.is_available() is False and ag.cuda.device_count() == 0
    assert ag.cuda.manual_seed(1) is None and ag.cuda.manual_seed_all(1) is None
    assert ag.cuda.memory_allocated() == 0 and ag.cuda.empty_cache() is None
    assert ag.accelerator.is_available() is False and ag.accelerator.current_accelerator() is None
    assert ag.accelerator.device_count() == 0
    assert ag.backends.mps.is_available() is False and ag.backends.cudnn.is_available() is False
    ag.backends.cudnn.benchmark = True  # a flag programs set; no effect here
    for call in (ag.cuda.current_device, ag.cuda.get_device_name, ag.cuda.synchronize,
                 ag.accelerator.current_device_index):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    # the quickstart tutorial's device choice picks the CPU
    device = ag.accelerator.current_accelerator().type if ag.accelerator.is_available() else "cpu"
    assert device == "cpu"


def test_tensor_to_and_device_queries():
    x = ag.arange(6.0).reshape(2, 3)
    assert x.device == ag.device("cpu") and x.is_cpu and not x.is_cuda and not x.is_xpu and not x.is_mps
    assert x.get_device() == -1 and x.pin_memory() is x and not x.is_pinned()
    assert x.to("cpu") is x and x.to(ag.device("cpu")) is x and x.cpu() is x
    assert x.to("cpu", copy=True) is not x
    y = x.to("cpu", ag.float64)
    assert y.dtype == ag.float64
    assert x.to(device="cpu", dtype=ag.int64).dtype == ag.int64
    assert x.to(ag.zeros(1, dtype=ag.float64)).dtype == ag.float64
    assert x.to(ag.float64, non_blocking=True).dtype == ag.float64
    for request in ("cuda", "cuda:0", ag.device("mps"), "xpu"):
        with pytest.raises(RuntimeError, match="CPU only"):
            x.to(request)
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()
    with pytest.raises(RuntimeError, match="does not exist"):
        x.to("cpu:1")
    # gradients flow through a device-and-dtype conversion
    w = ag.ones(3, requires_grad=True)
    (w.to("cpu", ag.float64) * 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(w.grad), [2, 2, 2])


CREATION = {
    "tensor": lambda d: ag.tensor([1.0], device=d),
    "as_tensor": lambda d: ag.as_tensor([1.0], device=d),
    "zeros": lambda d: ag.zeros(2, device=d), "ones": lambda d: ag.ones(2, device=d),
    "empty": lambda d: ag.empty(2, device=d), "full": lambda d: ag.full((2,), 3.0, device=d),
    "arange": lambda d: ag.arange(3, device=d), "linspace": lambda d: ag.linspace(0, 1, 3, device=d),
    "logspace": lambda d: ag.logspace(0, 1, 3, device=d), "eye": lambda d: ag.eye(2, device=d),
    "rand": lambda d: ag.rand(2, device=d), "randn": lambda d: ag.randn(2, device=d),
    "randint": lambda d: ag.randint(0, 3, (2,), device=d), "randperm": lambda d: ag.randperm(3, device=d),
    "zeros_like": lambda d: ag.zeros_like(ag.ones(2), device=d),
    "ones_like": lambda d: ag.ones_like(ag.ones(2), device=d),
    "empty_like": lambda d: ag.empty_like(ag.ones(2), device=d),
    "full_like": lambda d: ag.full_like(ag.ones(2), 1.0, device=d),
    "rand_like": lambda d: ag.rand_like(ag.ones(2), device=d),
    "randn_like": lambda d: ag.randn_like(ag.ones(2), device=d),
    "randint_like": lambda d: ag.randint_like(ag.ones(2), 3, device=d),
    "normal": lambda d: ag.normal(0.0, 1.0, (2,), device=d),
    "new_tensor": lambda d: ag.ones(2).new_tensor([1.0], device=d),
    "new_zeros": lambda d: ag.ones(2).new_zeros(2, device=d),
    "new_ones": lambda d: ag.ones(2).new_ones(2, device=d),
    "new_full": lambda d: ag.ones(2).new_full((2,), 1.0, device=d),
    "new_empty": lambda d: ag.ones(2).new_empty(2, device=d),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_functions_take_device(name):
    make = CREATION[name]
    for d in (None, "cpu", "cpu:0", ag.device("cpu")):
        assert make(d).device == ag.device("cpu")
    op = name.replace("new_", "") if name.startswith("new_") else name
    with pytest.raises(RuntimeError, match=f"{op}: device 'cuda' is not available: autograd_core runs on the CPU"):
        make("cuda")


MODULES = {
    "Linear": lambda **kw: nn.Linear(3, 2, **kw),
    "Bilinear": lambda **kw: nn.Bilinear(2, 3, 2, **kw),
    "Conv1d": lambda **kw: nn.Conv1d(2, 3, 3, **kw),
    "Conv2d": lambda **kw: nn.Conv2d(2, 3, 3, **kw),
    "ConvTranspose1d": lambda **kw: nn.ConvTranspose1d(2, 3, 3, **kw),
    "ConvTranspose2d": lambda **kw: nn.ConvTranspose2d(2, 3, 3, **kw),
    "BatchNorm1d": lambda **kw: nn.BatchNorm1d(3, **kw),
    "BatchNorm2d": lambda **kw: nn.BatchNorm2d(3, **kw),
    "InstanceNorm1d": lambda **kw: nn.InstanceNorm1d(3, affine=True, **kw),
    "InstanceNorm2d": lambda **kw: nn.InstanceNorm2d(3, affine=True, **kw),
    "LayerNorm": lambda **kw: nn.LayerNorm(4, **kw),
    "GroupNorm": lambda **kw: nn.GroupNorm(2, 4, **kw),
    "Embedding": lambda **kw: nn.Embedding(5, 3, **kw),
    "RNN": lambda **kw: nn.RNN(3, 4, **kw),
    "LSTM": lambda **kw: nn.LSTM(3, 4, **kw),
    "GRU": lambda **kw: nn.GRU(3, 4, **kw),
    "RNNCell": lambda **kw: nn.RNNCell(3, 4, **kw),
    "LSTMCell": lambda **kw: nn.LSTMCell(3, 4, **kw),
    "GRUCell": lambda **kw: nn.GRUCell(3, 4, **kw),
    "MultiheadAttention": lambda **kw: nn.MultiheadAttention(4, 2, **kw),
    "TransformerEncoderLayer": lambda **kw: nn.TransformerEncoderLayer(4, 2, 8, **kw),
    "TransformerDecoderLayer": lambda **kw: nn.TransformerDecoderLayer(4, 2, 8, **kw),
    "Transformer": lambda **kw: nn.Transformer(4, 2, 1, 1, 8, **kw),
    "PReLU": lambda **kw: nn.PReLU(**kw),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_constructors_take_device_and_dtype(name):
    make = MODULES[name]
    for d in ("cpu", ag.device("cpu")):
        module = make(device=d, dtype=ag.float64)
        params = list(module.parameters())
        assert params and all(p.dtype == ag.float64 and p.device == ag.device("cpu") for p in params)
    with pytest.raises(RuntimeError, match=f"{name}: device 'cuda:0' is not available"):
        make(device="cuda:0")
    module = make(device=None, dtype=None)
    assert module.to("cpu") is module and module.to(ag.device("cpu"), ag.float64) is module
    assert all(p.dtype == ag.float64 for p in module.parameters())
    with pytest.raises(RuntimeError, match="CPU only"):
        module.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        module.cuda()


def test_module_constructor_signatures_match_torch():
    torch = pytest.importorskip("torch")
    for name in MODULES:
        theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
        ours = inspect.signature(getattr(nn, name).__init__).parameters
        assert "device" in ours and "dtype" in ours, name
        # the two keywords come in PyTorch's order
        assert list(ours).index("device") < list(ours).index("dtype"), name
        if "device" in theirs:  # (torch's RNN, LSTM and GRU take *args, **kwargs)
            assert list(theirs).index("device") < list(theirs).index("dtype"), name


def test_module_to_keeps_integer_buffers():
    bn = nn.BatchNorm1d(3).to("cpu", ag.float64)
    assert bn.weight.dtype == ag.float64 and bn.num_batches_tracked.dtype == ag.int64
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2).to(ag.int64)
