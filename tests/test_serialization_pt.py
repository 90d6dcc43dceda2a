"""ag.save / ag.load in PyTorch's checkpoint format: files torch wrote (a committed fixture, and
fresh ones when torch is installed), whole objects, the weights_only allowlist against crafted
pickles, damaged files, and atomic saves under concurrent processes."""
import io
import os
import pickle
import pickletools
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn, serialization
from autograd_core.serialization import SerializationError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURE = os.path.join(HERE, "data", "torch_checkpoint.pt")


def np_of(t):
    return np.asarray(t.detach())


def test_reads_committed_torch_checkpoint():
    # written once by torch.save (tests/data/torch_checkpoint.pt); read here without torch
    ckpt = ag.load(FIXTURE)
    base = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    model = ckpt["model"]
    assert isinstance(model, OrderedDict)
    assert list(model) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked"]
    np.testing.assert_array_equal(np_of(model["0.weight"]), [[1, 2, 3], [4, 5, 6]])
    assert model["1.num_batches_tracked"].dtype == ag.int64 and model["1.num_batches_tracked"].shape == ()
    np.testing.assert_array_equal(np_of(ckpt["f32"]), base)
    assert ckpt["f64"].dtype == ag.float64
    np.testing.assert_array_equal(np_of(ckpt["f64"]), np.arange(5) * 0.5)
    np.testing.assert_array_equal(np_of(ckpt["i64"]), [-(2 ** 40), 0, 7])
    assert ckpt["i32"].dtype == ag.int32 and ckpt["u8"].dtype == ag.uint8 and ckpt["bool"].dtype == ag.bool
    np.testing.assert_array_equal(np_of(ckpt["u8"]), [0, 255, 17])
    np.testing.assert_array_equal(np_of(ckpt["bool"]), [True, False, True])
    # float16 and bfloat16 load as themselves, every value exact
    assert ckpt["f16"].dtype == ag.float16 and ckpt["bf16"].dtype == ag.bfloat16
    np.testing.assert_array_equal(np_of(ckpt["f16"].float()), [0.5, -2.0, 1024.0])
    np.testing.assert_array_equal(np_of(ckpt["bf16"].float()), [1.5, -3.0, 256.0])
    # views come back with their strides, sharing the loaded storage as in PyTorch
    np.testing.assert_array_equal(np_of(ckpt["transposed"]), base.T)
    assert ckpt["transposed"].stride() == (1, 4)
    np.testing.assert_array_equal(np_of(ckpt["slice"]), base[1:, ::2])
    assert ckpt["scalar"].item() == 3.25
    assert ckpt["epoch"] == 7 and ckpt["name"] == "fixture" and ckpt["betas"] == (0.9, 0.999) and ckpt["none"] is None
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ours.load_state_dict(model)


def test_state_dict_both_ways_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    ag.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    ours(ag.randn(2, 1, 4, 4))
    path = tmp_path / "ours.pt"
    ag.save(ours.state_dict(), path)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 3))
    loaded = torch.load(path)  # torch's own weights_only=True loader accepts the file
    theirs.load_state_dict(loaded)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(loaded[key].numpy(), np_of(value), err_msg=key)
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(np_of(ours(ag.tensor(x))), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    # and back: torch.save of every dtype, views, nesting
    back = tmp_path / "theirs.pt"
    base = torch.randn(4, 5, dtype=torch.float64)
    obj = {"sd": theirs.state_dict(), "view": base[:, 1::2].t(), "i": torch.arange(3, dtype=torch.int32),
           "list": [torch.ones(2, dtype=torch.bool), 3], "p": torch.nn.Parameter(torch.ones(2))}
    torch.save(obj, back)
    got = ag.load(back)
    np.testing.assert_array_equal(np_of(got["view"]), obj["view"].numpy())
    assert got["i"].dtype == ag.int32 and got["list"][1] == 3
    assert isinstance(got["p"], nn.Parameter) and got["p"].requires_grad
    for key, value in obj["sd"].items():
        np.testing.assert_array_equal(np_of(got["sd"][key]), value.numpy(), err_msg=key)


def test_torch_loads_our_checkpoint_with_optimizer_and_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    model = nn.Linear(3, 2)
    opt = ag.optim.Adam(model.parameters(), lr=0.01)
    model(ag.randn(4, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pth"
    ag.save({"model": model.state_dict(), "optim": opt.state_dict(), "dtype": ag.float64,
             "device": ag.device("cpu"), "arange": ag.arange(6).reshape(2, 3).T, "shape": ag.zeros(2, 3).shape},
            path)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["dtype"] is torch.float64 and ckpt["device"] == torch.device("cpu")
    assert ckpt["shape"] == torch.Size([2, 3]) and isinstance(ckpt["shape"], torch.Size)
    ours = ag.load(path)
    assert ours["dtype"] is ag.float64 and ours["device"] == ag.device("cpu") and ours["shape"] == (2, 3)
    np.testing.assert_array_equal(ckpt["arange"].numpy(), np.arange(6).reshape(2, 3).T)
    assert ckpt["optim"]["param_groups"][0]["lr"] == 0.01
    tm = torch.nn.Linear(3, 2)
    tm.load_state_dict(ckpt["model"])
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    topt.load_state_dict(ckpt["optim"])


def test_whole_objects_round_trip(tmp_path):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = ag.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(ag.randn(3, 4)).sum().backward()
    opt.step()
    path = tmp_path / "whole.pt"
    ag.save({"model": model, "opt": opt, "tied": [model[0].weight, model[0].weight]}, path)
    with pytest.raises(SerializationError, match="weights_only load refused the global autograd_core.nn"):
        ag.load(path)
    got = ag.load(path, weights_only=False)
    x = ag.randn(5, 4)
    np.testing.assert_array_equal(np_of(got["model"](x)), np_of(model(x)))
    assert got["tied"][0] is got["tied"][1]
    # the optimizer still drives the loaded model's own parameters
    assert got["opt"].param_groups[0]["params"][0] is got["model"][0].weight
    # a file object works as well as a path
    buffer = io.BytesIO()
    ag.save(model, buffer)
    buffer.seek(0)
    assert isinstance(ag.load(buffer, weights_only=False), nn.Sequential)


class Config:
    """A user class allowlisted for weights_only loading."""

    def __init__(self, width):
        self.width = width


def test_safe_globals(tmp_path):
    path = tmp_path / "cfg.pt"
    ag.save({"cfg": Config(7), "w": ag.ones(2)}, path)
    with pytest.raises(SerializationError, match="Config"):
        ag.load(path)
    with serialization.safe_globals([Config]):
        assert Config in serialization.get_safe_globals()
        assert ag.load(path)["cfg"].width == 7
    assert Config not in serialization.get_safe_globals()
    with pytest.raises(SerializationError):
        ag.load(path)
    serialization.add_safe_globals([(Config, f"{__name__}.Config")])
    try:
        assert ag.load(path)["cfg"].width == 7
    finally:
        serialization.clear_safe_globals()
    with pytest.raises(TypeError, match="add_safe_globals"):
        serialization.add_safe_globals([(Config, "nodot")])


def test_map_location(tmp_path):
    path = tmp_path / "m.pt"
    ag.save({"w": ag.arange(3.0)}, path)
    for location in (None, "cpu", ag.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage,
                     lambda storage, loc: storage.cpu()):
        np.testing.assert_array_equal(np_of(ag.load(path, map_location=location)["w"]), [0, 1, 2])
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.load(path, map_location="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.load(path, map_location=lambda storage, loc: storage.cuda())


# ----------------------------------------------------------------------------- crafted files
def _archive(pkl, storages=None, compress=False):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def _reduce_call(module, name, *args):
    """A protocol-2 pickle calling module.name(*args) (args are strings)."""
    body = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"("
    for a in args:
        encoded = a.encode()
        body += b"X" + len(encoded).to_bytes(4, "little") + encoded
    return body + b"tR."


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _attacks(marker):
    stack_global = (b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c" + bytes([len(f"touch {marker}")])
                    + f"touch {marker}".encode() + b"\x94\x85\x94R\x94.")
    return {
        "os.system": pickle.dumps(_Evil(marker), protocol=2),
        "eval": _reduce_call("builtins", "eval", f"open({str(marker)!r}, 'w').close()"),
        "exec": _reduce_call("builtins", "exec", f"open({str(marker)!r}, 'w').close()"),
        "getattr chain": (b"\x80\x02cbuiltins\ngetattr\n(cbuiltins\n__import__\n(X\x02\x00\x00\x00ostRX\x06\x00\x00"
                          b"\x00systemtR."),
        "stack_global": stack_global,
        "inst opcode": b"(X" + len(f"touch {marker}").to_bytes(4, "little") + f"touch {marker}".encode()
                       + b"ios\nsystem\n.",
        "subprocess": _reduce_call("subprocess", "check_call", "true"),
        "posix.system": _reduce_call("posix", "system", f"touch {marker}"),
        "codecs rot13": _reduce_call("_codecs", "encode", "abc", "rot13"),
        # BUILD on an allowlisted class (not an instance) would rewrite the class for everybody
        "build on class": b"\x80\x02ccollections\nOrderedDict\n}X\x03\x00\x00\x00fooK\x01sb.",
        "build with slots on class": b"\x80\x02ccollections\nOrderedDict\nN}X\x03\x00\x00\x00fooK\x01s\x86b.",
        "dunder attribute": b"\x80\x02ccollections\nOrderedDict\n)R}X\t\x00\x00\x00__class__K\x01sb.",
        "unknown persistent id": b"\x80\x02X\x03\x00\x00\x00abcQ.",
        "storage type not allowed": b"\x80\x02(X\x07\x00\x00\x00storagecos\nsystem\nX\x01\x00\x00\x000X\x03\x00\x00"
                                    b"\x00cpuK\x01tQ.",
    }


def test_weights_only_refuses_crafted_pickles(tmp_path):
    marker = tmp_path / "pwned"
    copyreg = pytest.importorskip("copyreg")
    copyreg.add_extension("os", "system", 0x7F01)
    try:
        attacks = _attacks(marker)
        attacks["ext2 registry"] = b"\x80\x02\x83\x01\x7fX" + len(f"touch {marker}").to_bytes(4, "little") + f"touch {marker}".encode() \
            + b"\x85R."
        for name, pkl in attacks.items():
            pickletools.dis(pkl, out=io.StringIO())  # every payload is a well-formed pickle
            path = tmp_path / f"{name.replace(' ', '_')}.pt"
            path.write_bytes(_archive(pkl))
            with pytest.raises(SerializationError, match="ag.load"):
                ag.load(path)
            assert not marker.exists(), name
    finally:
        copyreg.remove_extension("os", "system", 0x7F01)
    # the refusal names the global and how to allow it
    path = tmp_path / "named.pt"
    path.write_bytes(_archive(attacks["os.system"]))
    with pytest.raises(SerializationError, match=r"global posix\.system.*add_safe_globals.*weights_only=False"):
        ag.load(path)


def _tensor_pickle(offset, size, stride, numel, kind="FloatStorage", key="0"):
    return pickle.dumps(None, protocol=2)[:2] + (
        b"ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\n" + kind.encode() + b"\n"
        + b"X" + len(key).to_bytes(4, "little") + key.encode() + b"X\x03\x00\x00\x00cpu"
        + b"J" + numel.to_bytes(4, "little", signed=True) + b"tQ"
        + b"J" + offset.to_bytes(4, "little", signed=True)
        + b"(" + b"".join(b"J" + n.to_bytes(4, "little", signed=True) for n in size) + b"t"
        + b"(" + b"".join(b"J" + n.to_bytes(4, "little", signed=True) for n in stride) + b"t"
        + b"\x89ccollections\nOrderedDict\n)RtR.")


def test_crafted_tensors_and_archives(tmp_path):
    good = _tensor_pickle(0, (2, 2), (2, 1), 4)
    data = np.arange(4, dtype=np.float32).tobytes()
    path = tmp_path / "ok.pt"
    path.write_bytes(_archive(good, {"0": data}))
    np.testing.assert_array_equal(np_of(ag.load(path)), [[0, 1], [2, 3]])
    cases = {
        "view past the end": _archive(_tensor_pickle(1, (2, 2), (2, 1), 4), {"0": data}),
        "stride past the end": _archive(_tensor_pickle(0, (2, 2), (3, 1), 4), {"0": data}),
        "negative stride": _archive(_tensor_pickle(3, (2,), (-1,), 4), {"0": data}),
        "negative size": _archive(_tensor_pickle(0, (-2,), (1,), 4), {"0": data}),
        "huge size": _archive(_tensor_pickle(0, (2 ** 30, 4), (1, 1), 4), {"0": data}),
        "size and stride lengths": _archive(_tensor_pickle(0, (2, 2), (1,), 4), {"0": data}),
        "too many dims": _archive(_tensor_pickle(0, (1,) * 17, (1,) * 17, 4), {"0": data}),
        "storage shorter than declared": _archive(_tensor_pickle(0, (4,), (1,), 8), {"0": data}),
        "storage record missing": _archive(good, {}),
        "compressed record": _archive(good, {"0": data}, compress=True),
        "truncated pickle": _archive(good[:-5], {"0": data}),
        "unhashable key": _archive(b"\x80\x02}](K\x01K\x02eK\x01s."),
        "no data.pkl": _archive(b"x").replace(b"data.pkl", b"other.pk"),
        "truncated zip": _archive(good, {"0": data})[:100],
        "legacy pickle": pickle.dumps({"a": 1}, protocol=2),
    }
    for name, content in cases.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.pt"
        bad.write_bytes(content)
        with pytest.raises(SerializationError, match="ag.load"):
            ag.load(bad)


def test_deeply_nested_pickle_loads_without_recursion(tmp_path):
    depth = 200_000
    path = tmp_path / "deep.pt"
    path.write_bytes(_archive(b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."))
    node, levels = ag.load(path), 1
    while node:
        node, levels = node[0], levels + 1
    assert levels == depth


def test_crafted_safetensors_structures(tmp_path):
    import json

    from safetensors.numpy import save_file

    def write(structure, name):
        path = tmp_path / f"{name}.safetensors"
        save_file({"w": np.zeros(2, np.float32)}, str(path),
                  metadata={"autograd_core.format": "autograd_core/1", "autograd_core.structure": structure})
        return path
    deep = "[" * 100_000 + "]" * 100_000
    deep_dict = '{"__tuple__": ' * 5000 + "[]" + "}" * 5000
    cases = {
        "dtype class": json.dumps({"__dtype__": "__class__"}),
        "dtype not a string": json.dumps({"__dtype__": [1]}),
        "unhashable key": json.dumps({"__dict__": [[{"__tuple__": [[1]]}, 1]]}),
        "key list": json.dumps({"__dict__": [[[1], 1]]}),
        "deep lists": deep,
        "deep tuples": deep_dict,
        "tensor key not a string": json.dumps({"__tensor__": [1]}),
        "malformed dict": json.dumps({"__dict__": [[1]]}),
        "unknown node": json.dumps({"__code__": "x"}),
        "not json": "{",
    }
    for name, structure in cases.items():
        with pytest.raises(SerializationError, match="ag.load"):
            ag.load(write(structure, name.replace(" ", "_")))


# ----------------------------------------------------------------------------- atomic saves
def test_save_never_follows_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "model.pt"
    for planted in (str(path) + ".tmp", str(path) + ".tmp~"):
        os.symlink(victim, planted)
    ag.save({"w": ag.ones(3)}, path)
    assert victim.read_text() == "precious"
    np.testing.assert_array_equal(np_of(ag.load(path)["w"]), [1, 1, 1])
    assert not path.is_symlink()


def test_failed_save_keeps_old_file_and_leaves_no_litter(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ag.save({"w": ag.zeros(2)}, path)
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ag.save({"w": ag.ones(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
    with pytest.raises(TypeError, match="cannot pickle"):
        ag.save({"f": lambda: 0}, path)  # unpicklable: fails before any file is touched
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 1
    for name in ("a.safetensors", "b.pt"):
        ag.save({"w": ag.ones(1)}, tmp_path / name)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "b.pt").stat().st_mode & 0o777 == 0o666 & ~umask


_WRITER = """
import sys
sys.path.insert(0, {root!r})
import autograd_core as ag
path, value = sys.argv[1], float(sys.argv[2])
for _ in range(40):
    ag.save({{"w": ag.full((2000,), value)}}, path)
"""
_READER = """
import sys, time
sys.path.insert(0, {root!r})
import autograd_core as ag
path = sys.argv[1]
seen, deadline = set(), time.time() + 20
while time.time() < deadline:
    w = ag.load(path)["w"]
    values = set(w.tolist())
    assert len(values) == 1 and w.shape == (2000,), values  # never a mixture or a partial file
    seen |= values
    if open(sys.argv[2]).read().count("done") == 2:
        break
print(sorted(seen))
"""


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_concurrent_processes_never_see_partial_files(tmp_path, suffix):
    path = str(tmp_path / f"shared{suffix}")
    ag.save({"w": ag.full((2000,), 0.0)}, path)
    flag = tmp_path / "flag"
    flag.write_text("")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    writer = _WRITER.format(root=ROOT) + f"\nopen({str(flag)!r}, 'a').write('done')\n"
    writers = [subprocess.Popen([sys.executable, "-c", writer, path, str(v)], env=env, stderr=subprocess.PIPE)
               for v in (1.0, 2.0)]
    reader = subprocess.run([sys.executable, "-c", _READER.format(root=ROOT), path, str(flag)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    for w in writers:
        assert w.wait(timeout=120) == 0, w.stderr.read()
    assert reader.returncode == 0, reader.stderr
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(path), "flag"])  # no temporaries left


def test_load_metadata_and_errors(tmp_path):
    path = tmp_path / "m.pt"
    ag.save({"w": ag.ones(1)}, path, metadata={"epoch": 3})
    assert serialization.load_metadata(path) == {"epoch": 3}
    ag.save({"w": ag.ones(1)}, path)
    assert serialization.load_metadata(path) is None
    with pytest.raises(TypeError, match="pickle_module"):
        ag.load(path, pickle_module=object())
    with pytest.raises(TypeError, match="unexpected keyword"):
        ag.load(path, bogus=1)
    with pytest.raises(FileNotFoundError):
        ag.load(tmp_path / "missing.pt")


def test_builtin_values_round_trip_with_weights_only(tmp_path):
    path = tmp_path / "values.pt"
    obj = {"set": {1, 2}, "frozen": frozenset({"a"}), "complex": 1 + 2j, "bytes": b"\x00\xff", "slice": slice(1, 5, 2),
           "nested": [(1, 2.5, None, True, "x"), OrderedDict(a=ag.zeros(1))], "big": 2 ** 80, "neg": -0.0}
    ag.save(obj, path)
    got = ag.load(path)
    assert {k: v for k, v in got.items() if k != "nested"} == {k: v for k, v in obj.items() if k != "nested"}
    assert got["nested"][0] == (1, 2.5, None, True, "x") and isinstance(got["nested"][1], OrderedDict)


def test_storages_are_64_byte_aligned(tmp_path):
    path = tmp_path / "aligned.pt"
    ag.save({"a": ag.arange(3), "b": ag.ones(5, 7), "name": "x" * 13}, path)
    raw = path.read_bytes()
    records = [info for info in zipfile.ZipFile(path).infolist() if "/data/" in info.filename]
    assert len(records) == 2
    for info in records:
        name_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little")
        extra_len = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename
    try:
        import torch
    except ImportError:
        return
    loaded = torch.load(path, mmap=True, weights_only=True)  # PyTorch maps the aligned storages
    assert loaded["b"].shape == (5, 7) and loaded["name"] == "x" * 13


def test_whole_torch_model_loads_with_weights_only_false(tmp_path):
    """torch.save(model) of a model built from layers this library has: with weights_only=False its
    torch.nn.modules.* classes resolve to ours and it computes the same outputs."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Linear(8, 3)).eval()
    lstm = torch.nn.LSTM(3, 2, num_layers=2, batch_first=True)
    path = tmp_path / "whole.pt"
    torch.save({"cnn": model, "lstm": lstm}, path)
    with pytest.raises(SerializationError, match="torch.nn.modules.container.Sequential"):
        ag.load(path)
    ours = ag.load(path, weights_only=False)
    assert isinstance(ours["cnn"], nn.Sequential) and isinstance(ours["lstm"], nn.LSTM)
    x = torch.randn(2, 1, 4, 4)
    np.testing.assert_allclose(np_of(ours["cnn"](ag.tensor(x.numpy()))), model(x).detach().numpy(), atol=1e-6)
    s = torch.randn(2, 5, 3)
    np.testing.assert_allclose(np_of(ours["lstm"](ag.tensor(s.numpy()))[0]), lstm(s)[0].detach().numpy(), atol=1e-6)
