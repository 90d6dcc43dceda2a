"""ag.save / ag.load: round trips of tensors and nested containers in safetensors, no pickle, clear
errors on damaged files, interoperability with plain safetensors files."""
import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn, serialization


def np_of(t):
    return np.asarray(t.detach())


def test_tensor_round_trip_all_dtypes(tmp_path):
    path = tmp_path / "t.safetensors"
    values = {
        "f32": ag.randn(3, 4),
        "f64": ag.randn(2, dtype=ag.float64),
        "i64": ag.tensor([1, -2, 3]),
        "bool": ag.tensor([True, False]),
        "scalar": ag.tensor(2.5),
        "empty": ag.zeros(0, 3),
        "noncontig": ag.randn(4, 3).T,
    }
    serialization.save(values, path)
    loaded = serialization.load(path)
    assert list(loaded.keys()) == list(values.keys())
    for key, value in values.items():
        assert loaded[key].dtype == value.dtype, key
        assert tuple(loaded[key].shape) == tuple(value.shape), key
        np.testing.assert_array_equal(np_of(loaded[key]), np_of(value))
    single = tmp_path / "one.safetensors"
    serialization.save(values["f32"], single)
    np.testing.assert_array_equal(np_of(serialization.load(single)), np_of(values["f32"]))


def test_nested_structure_round_trip(tmp_path):
    shared = ag.ones(2)
    obj = {
        "state": {0: {"step": 3, "exp_avg": ag.zeros(2, 2)}, 1: {"momentum_buffer": None}},
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False,
                          "name": "group"}],
        "a": shared, "b": shared,
        ("tuple", 1): [1.5, float("inf"), -7, "text", None, True],
        "ordered": OrderedDict([("z", 1), ("y", 2)]),
        "array": np.arange(6).reshape(2, 3),
    }
    path = tmp_path / "nested.safetensors"
    serialization.save(obj, path)
    loaded = serialization.load(path)
    assert loaded["state"][0]["step"] == 3 and loaded["state"][1]["momentum_buffer"] is None
    assert tuple(loaded["state"][0]["exp_avg"].shape) == (2, 2)
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["param_groups"][0]["params"] == [0, 1]
    assert loaded[("tuple", 1)][:3] == [1.5, float("inf"), -7]
    assert loaded[("tuple", 1)][3:] == ["text", None, True]
    assert isinstance(loaded["ordered"], OrderedDict) and list(loaded["ordered"]) == ["z", "y"]
    assert loaded["a"] is loaded["b"]
    np.testing.assert_array_equal(loaded["array"], np.arange(6).reshape(2, 3))


def test_requires_grad_and_metadata(tmp_path):
    p = nn.Parameter(ag.randn(3))
    path = tmp_path / "p.safetensors"
    serialization.save({"p": p, "q": ag.zeros(1)}, path, metadata={"epoch": 4, "note": "best"})
    loaded = serialization.load(path)
    assert loaded["p"].requires_grad and not loaded["q"].requires_grad
    assert serialization.load_metadata(path) == {"epoch": 4, "note": "best"}


def test_model_state_dict_round_trip(tmp_path):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    model(ag.randn(16, 4))
    model.eval()
    path = tmp_path / "model.safetensors"
    ag.save(model.state_dict(), path)
    other = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).eval()
    other.load_state_dict(ag.load(path))
    x = ag.randn(5, 4)
    np.testing.assert_array_equal(np_of(model(x)), np_of(other(x)))
    assert int(other[1].num_batches_tracked.item()) == 1


def test_file_objects():
    buffer = io.BytesIO()
    serialization.save({"w": ag.arange(5)}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(np_of(serialization.load(buffer)["w"]), np.arange(5))


def test_never_unpickles(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    serialization.save({"w": ag.ones(2), "n": [1, 2]}, path)

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    assert serialization.load(path)["n"] == [1, 2]
    assert path.read_bytes()[:1] != b"\x80"  # not a pickle stream


def test_truncated_and_corrupted_files(tmp_path):
    path = tmp_path / "good.safetensors"
    serialization.save({"w": ag.randn(100), "meta": {"k": 1}}, path)
    data = path.read_bytes()
    cases = {
        "truncated_data": data[:-40],
        "truncated_header": data[:20],
        "tiny": data[:5],
        "empty": b"",
        "garbage_header": data[:8] + b"\xff" * (len(data) - 8),
        "huge_header_length": (10 ** 12).to_bytes(8, "little") + data[8:],
        "not_safetensors": b"just some text, not a model at all",
    }
    for name, content in cases.items():
        bad = tmp_path / f"{name}.safetensors"
        bad.write_bytes(content)
        with pytest.raises(serialization.SerializationError, match="ag.load: .*(truncated|corrupted)"):
            serialization.load(bad)
    header_len = int.from_bytes(data[:8], "little")
    header = data[8:8 + header_len].replace(b'\\"__tensor__\\": \\"w\\"', b'\\"__tensor__\\": \\"z\\"', 1)
    assert header != data[8:8 + header_len]  # the structure now points at a missing tensor
    broken = tmp_path / "missing.safetensors"
    broken.write_bytes(data[:8] + header + data[8 + header_len:])
    with pytest.raises(serialization.SerializationError):
        serialization.load(broken)
    with pytest.raises(FileNotFoundError, match="no such file"):
        serialization.load(tmp_path / "absent.safetensors")


def test_unsupported_objects(tmp_path):
    # whole objects need the pickle-based format; the safetensors one says where to go instead
    with pytest.raises(TypeError, match="cannot save an object of type Linear .*model.pt"):
        serialization.save({"model": nn.Linear(2, 2)}, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="dict keys"):
        serialization.save({frozenset(): 1}, tmp_path / "k.safetensors")
    with pytest.raises(TypeError, match="metadata must be JSON"):
        serialization.save({}, io.BytesIO(), metadata={"x": object()})
    with pytest.raises(TypeError, match="metadata must be JSON"):
        serialization.save({}, tmp_path / "x.safetensors", metadata={"x": object()})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_plain_safetensors_file_loads_as_dict(tmp_path):
    from safetensors.numpy import save_file
    path = tmp_path / "plain.safetensors"
    save_file({"weight": np.eye(3, dtype=np.float32), "bias": np.zeros(3, dtype=np.float32)}, str(path))
    loaded = serialization.load(path)
    assert set(loaded) == {"weight", "bias"}
    np.testing.assert_array_equal(np_of(loaded["weight"]), np.eye(3))
    lin = nn.Linear(3, 3)
    lin.load_state_dict(loaded)
    np.testing.assert_array_equal(np_of(lin.weight), np.eye(3))      # the values reached the module
    np.testing.assert_array_equal(np_of(lin.bias), np.zeros(3))


def test_torch_safetensors_interop(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    path = tmp_path / "torch.safetensors"
    save_file(tmodel.state_dict(), str(path))
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ours.load_state_dict(serialization.load(path))
    np.testing.assert_array_equal(np_of(ours[0].weight), tmodel[0].weight.detach().numpy())
    # change ours (weights and running statistics) so the way back carries values torch lacks
    ours.train()
    ours(ag.randn(8, 3))
    with ag.no_grad():
        ours[0].weight.mul_(2.0)
    back = tmp_path / "ours.safetensors"
    serialization.save(ours.state_dict(), back)
    loaded = load_file(str(back))
    assert set(loaded) == set(tmodel.state_dict())  # keyed by parameter name
    tmodel.load_state_dict(loaded)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(tmodel.state_dict()[key].numpy(), np_of(value), err_msg=key)
    assert not np.array_equal(np_of(ours[1].running_var), np.ones(4))   # the statistics did change


def test_optimizer_state_round_trip(tmp_path):
    ag.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = ag.optim.Adam(model.parameters(), lr=0.1, amsgrad=True)
    model(ag.randn(4, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    ag.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 1}, path)
    ckpt = ag.load(path)
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(ckpt["model"])
    opt2 = ag.optim.Adam(model2.parameters(), lr=0.5, amsgrad=True)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == 0.1 and ckpt["epoch"] == 1
    x = ag.randn(4, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    np.testing.assert_array_equal(np_of(model.weight), np_of(model2.weight))


def test_reads_files_of_the_first_format():
    """tests/data/ag_format1.safetensors was written by ag.save before it wrote PyTorch's format
    (entries t0, t1, ... and the structure in the metadata); such files keep loading."""
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ag_format1.safetensors")
    obj = ag.load(path)
    np.testing.assert_array_equal(np_of(obj["model"]["weight"]), [[1, 2, 3], [4, 5, 6]])
    assert isinstance(obj["model"], OrderedDict) and list(obj["model"]) == ["weight", "bias"]
    assert obj["epoch"] == 3 and obj["betas"] == (0.9, 0.999) and obj["dtype"] is ag.float64
    assert obj["ids"].dtype == ag.int64 and obj["ordered"] == OrderedDict([("z", 1)])
    assert obj["array"].dtype == np.int32
    assert serialization.load_metadata(path) == {"note": "written by ag.save before PyTorch's format"}
