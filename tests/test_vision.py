"""ag.vision: datasets downloaded from a local HTTP server (127.0.0.1, started here) serving small
files in the real formats, transforms on PIL images, numpy arrays and tensors (against formulas and
Pillow), make_grid / save_image, and the models' torchvision names, sizes and state-dict keys."""
import contextlib
import gzip
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.vision import datasets, models, utils
from autograd_core.vision import transforms as T
from autograd_core.vision.transforms import functional as F

PIL = pytest.importorskip("PIL.Image") if os.environ.get("AGC_REQUIRE_PIL") else None
try:
    from PIL import Image
except ImportError:
    Image = None
needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")


@contextlib.contextmanager
def serve(folder):
    """An HTTP server on 127.0.0.1 serving `folder`, for the length of the with block."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def idx_bytes(array):
    codes = {np.uint8: 0x08, np.int32: 0x0C}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def md5(data):
    return hashlib.md5(data).hexdigest()


def write_mnist(folder, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8)}
    resources = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = gzip.compress(idx_bytes(array))
        (folder / f"{name}.gz").write_bytes(data)
        resources.append((f"{name}.gz", md5(data)))
    return arrays, resources


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_mnist_download_from_local_mirror(tmp_path, monkeypatch, cls):
    arrays, resources = write_mnist(tmp_path / "site" / "mnist")
    with serve(tmp_path / "site") as url:
        # the first mirror is missing the files (404), the second has them
        monkeypatch.setattr(cls, "mirrors", [url + "nothing-here/", url + "mnist/"])
        monkeypatch.setattr(cls, "resources", resources)
        train = cls(tmp_path / "data", train=True, download=True, transform=T.ToTensor())
        test = cls(tmp_path / "data", train=False, download=True)
    assert len(train) == 5 and len(test) == 3
    np.testing.assert_array_equal(np.asarray(train.data), arrays["train-images-idx3-ubyte"])
    assert train.targets.dtype == ag.int64
    np.testing.assert_array_equal(np.asarray(train.targets), arrays["train-labels-idx1-ubyte"])
    image, label = train[1]
    assert image.shape == (1, 28, 28) and image.dtype == ag.float32
    np.testing.assert_allclose(np.asarray(image)[0], arrays["train-images-idx3-ubyte"][1] / 255.0, rtol=1e-6)
    assert label == int(arrays["train-labels-idx1-ubyte"][1])
    raw, _ = test[0]
    if Image is not None:
        assert isinstance(raw, Image.Image) and raw.mode == "L" and raw.size == (28, 28)
    assert os.path.isdir(tmp_path / "data" / cls.__name__ / "raw")
    # already there: no network needed the second time
    monkeypatch.setattr(cls, "mirrors", [f"http://127.0.0.1:{closed_port()}/"])
    assert len(cls(tmp_path / "data", download=True)) == 5
    assert "Split: Train" in repr(train)


def test_mnist_offline_bad_checksum_and_missing(tmp_path, monkeypatch):
    _, resources = write_mnist(tmp_path / "site")
    monkeypatch.setattr(datasets.MNIST, "mirrors", [f"http://127.0.0.1:{closed_port()}/"])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    with pytest.raises(RuntimeError, match="could not download train-images-idx3-ubyte.gz .*offline"):
        datasets.MNIST(tmp_path / "data", download=True)
    with pytest.raises(RuntimeError, match="dataset not found.*download=True"):
        datasets.MNIST(tmp_path / "data", download=False)
    bad = [(name, "0" * 32) for name, _ in resources]
    monkeypatch.setattr(datasets.MNIST, "resources", bad)
    with serve(tmp_path / "site") as url:
        monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
        with pytest.raises(RuntimeError, match="MD5"):
            datasets.MNIST(tmp_path / "data2", download=True)
    assert os.listdir(tmp_path / "data2" / "MNIST" / "raw") == []  # nothing half-written kept


def test_idx_reader_rejects_damaged_files(tmp_path):
    from autograd_core.vision.datasets.mnist import read_idx
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    for name, data in {"magic": b"\x01" + good[1:], "type": good[:2] + b"\x07" + good[3:],
                       "short": good[:-1], "long": good + b"\x00", "header": good[:6]}.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(RuntimeError, match="IDX"):
            read_idx(path)
    path = tmp_path / "ok"
    path.write_bytes(idx_bytes(np.arange(6, dtype=np.int32).reshape(2, 3)))
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))


def write_cifar(folder, per_batch=4, evil=False):
    rng = np.random.default_rng(1)
    records = {}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = rng.integers(0, 10, per_batch).astype(np.uint8)
            pixels = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
            records[name] = (pixels, labels)
            data = b"".join(bytes([labels[i]]) + pixels[i].tobytes() for i in range(per_batch))
            if evil and name == "test_batch.bin":
                link = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
                link.type = tarfile.SYMTYPE
                link.linkname = "/etc/passwd"
                tar.addfile(link)
                continue
            add(name, data)
        add("batches.meta.txt", b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cifar-10-binary.tar.gz").write_bytes(buffer.getvalue())
    return records, md5(buffer.getvalue())


def test_cifar10_binary_download(tmp_path, monkeypatch):
    records, checksum = write_cifar(tmp_path / "site")
    with serve(tmp_path / "site") as url:
        monkeypatch.setattr(datasets.CIFAR10, "mirrors", [url])
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", checksum)
        train = datasets.CIFAR10(tmp_path / "data", train=True, download=True)
        test = datasets.CIFAR10(tmp_path / "data", train=False, download=True, transform=T.ToTensor())
    assert len(train) == 20 and len(test) == 4 and train.data.shape == (20, 32, 32, 3)
    assert train.classes[:2] == ["airplane", "automobile"] and len(train.classes) == 10
    pixels, labels = records["data_batch_2.bin"]
    np.testing.assert_array_equal(train.data[4], pixels[0].transpose(1, 2, 0))  # planes R, G, B -> HWC
    assert train.targets[4] == int(labels[0]) and isinstance(train.targets[4], int)
    image, _ = test[3]
    np.testing.assert_allclose(np.asarray(image), records["test_batch.bin"][0][3] / 255.0, rtol=1e-6)
    assert not any(name.endswith(".py") or "pickle" in name for name in os.listdir(tmp_path / "data"))


def test_cifar10_refuses_links_in_archive(tmp_path, monkeypatch):
    _, checksum = write_cifar(tmp_path / "site", evil=True)
    with serve(tmp_path / "site") as url:
        monkeypatch.setattr(datasets.CIFAR10, "mirrors", [url])
        monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", checksum)
        with pytest.raises(RuntimeError, match="not a plain file"):
            datasets.CIFAR10(tmp_path / "data", download=True)
    assert not os.path.islink(tmp_path / "data" / "cifar-10-batches-bin" / "test_batch.bin")


@needs_pil
def test_image_folder(tmp_path):
    for cls, color in (("cat", (255, 0, 0)), ("dog", (0, 0, 255))):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.new("RGB", (6, 4), color).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    folder = datasets.ImageFolder(tmp_path, transform=T.ToTensor())
    assert folder.classes == ["cat", "dog"] and len(folder) == 4 and folder.targets == [0, 0, 1, 1]
    image, label = folder[3]
    assert label == 1 and image.shape == (3, 4, 6)
    np.testing.assert_allclose(np.asarray(image)[:, 0, 0], [0, 0, 1])
    with pytest.raises(FileNotFoundError):
        datasets.ImageFolder(tmp_path / "cat")


def test_fake_data_is_deterministic():
    data = datasets.FakeData(size=6, image_size=(3, 8, 5), num_classes=4)
    first, label = data[2]
    again, label2 = data[2]
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
    assert label == label2 and 0 <= label < 4 and np.asarray(first).shape == (8, 5, 3)
    assert len(data) == 6
    with pytest.raises(IndexError):
        data[6]
    loader = ag.utils.data.DataLoader(datasets.FakeData(8, (1, 28, 28), transform=T.ToTensor()), batch_size=4)
    x, y = next(iter(loader))
    assert x.shape == (4, 1, 28, 28) and y.shape == (4,)


# ----------------------------------------------------------------------------- transforms
def test_to_tensor_and_normalize():
    array = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    t = T.ToTensor()(array)
    np.testing.assert_allclose(np.asarray(t), array.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    n = T.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 1.0))(t)
    expected = (array.transpose(2, 0, 1) / 255.0 - np.array([0.5, 0.25, 0.0])[:, None, None]) / \
        np.array([0.5, 0.5, 1.0])[:, None, None]
    np.testing.assert_allclose(np.asarray(n), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0,), (0,))(t)
    with pytest.raises(TypeError, match="floating point"):
        T.Normalize((0,), (1,))(ag.zeros(1, 2, 2, dtype=ag.uint8))
    with pytest.raises(TypeError, match="already a tensor"):
        T.ToTensor()(t)
    with pytest.raises(ValueError, match="1 or 3 values"):
        T.Normalize((0, 0), (1, 1))(t)


def test_geometry_on_arrays_and_tensors():
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    chw = ag.tensor(image.transpose(2, 0, 1).copy())
    np.testing.assert_array_equal(T.CenterCrop(3)(image), image[1:4, 2:5])
    np.testing.assert_array_equal(np.asarray(T.CenterCrop((3, 4))(chw)), image.transpose(2, 0, 1)[:, 1:4, 1:5])
    np.testing.assert_array_equal(F.hflip(image), image[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.vflip(chw)), image.transpose(2, 0, 1)[:, ::-1])
    padded = T.Pad((1, 2), fill=7)(image)
    assert padded.shape == (9, 8, 3) and padded[0, 0, 0] == 7
    np.testing.assert_array_equal(np.asarray(T.Pad(1, padding_mode="reflect")(chw)),
                                  np.pad(image.transpose(2, 0, 1), ((0, 0), (1, 1), (1, 1)), mode="reflect"))
    # a crop past the border is zero-filled
    np.testing.assert_array_equal(F.crop(image, 3, 4, 3, 3)[2:], 0)
    ag.manual_seed(0)
    crop = T.RandomCrop(4, padding=2)(chw)
    assert crop.shape == (3, 4, 4)
    # a rotation by 90 degrees is a transpose and a flip (nearest, square image)
    square = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_array_equal(F.rotate(square, 90), np.rot90(square))
    np.testing.assert_array_equal(np.asarray(F.rotate(ag.tensor(square[None]), -90))[0], np.rot90(square, -1))
    assert F.rotate(np.ones((4, 6), np.float32), 90, expand=True).shape == (6, 4)
    out = T.RandomRotation(30)(chw)
    assert out.shape == chw.shape and out.dtype == ag.uint8
    grey = T.Grayscale()(chw)
    expected = np.round(image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114)
    np.testing.assert_array_equal(np.asarray(grey)[0], expected)
    with pytest.raises(TypeError, match="expected a PIL Image"):
        T.CenterCrop(2)([1, 2, 3])
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_resize_formulas():
    # upsampling a ramp with the bilinear filter is linear interpolation between pixel centres
    ramp = np.array([[0.0, 10.0]], np.float32)
    out = F.resize(ramp, (1, 4))
    np.testing.assert_allclose(out, [[0.0, 2.5, 7.5, 10.0]], atol=1e-6)
    # downsampling by 2 with antialias: the triangle filter widened to 2 pixels gives weights
    # 3/7, 3/7, 1/7 to the pixels whose centres lie 0.5, 0.5 and 1.5 from the output centre
    line = np.array([[0.0, 4.0, 8.0, 12.0]], np.float32)
    np.testing.assert_allclose(F.resize(line, (1, 2)), [[20 / 7, 64 / 7]], atol=1e-5)
    np.testing.assert_allclose(F.resize(line, (1, 2), antialias=False), [[2.0, 10.0]], atol=1e-5)
    np.testing.assert_array_equal(F.resize(line, (1, 2), T.InterpolationMode.NEAREST), [[0.0, 8.0]])
    # an int size matches the shorter edge, keeping the aspect ratio
    t = ag.zeros(3, 10, 20)
    assert T.Resize(5)(t).shape == (3, 5, 10) and T.Resize((4, 7))(t).shape == (3, 4, 7)
    assert T.Resize(5, max_size=8)(t).shape == (3, 4, 8)
    constant = ag.full((2, 5, 7), 0.25)
    np.testing.assert_allclose(np.asarray(T.Resize((3, 11))(constant)), 0.25, rtol=1e-6)
    assert T.RandomResizedCrop(4)(t).shape == (3, 4, 4)


def test_resize_matches_torch_antialias():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 13, 17)).astype(np.float32)
    for size, antialias in (((7, 5), True), ((20, 30), True), ((6, 8), False)):
        ours = np.asarray(F.resize(ag.tensor(x), size, antialias=antialias))
        theirs = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode="bilinear", align_corners=False,
                                                 antialias=antialias).numpy()
        np.testing.assert_allclose(ours, theirs, atol=2e-5)


@needs_pil
def test_transforms_on_pil_images_match_pillow():
    rng = np.random.default_rng(2)
    image = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
    assert T.Resize((6, 8))(image).size == (8, 6)
    np.testing.assert_array_equal(np.asarray(T.Resize((6, 8))(image)), np.asarray(image.resize((8, 6), Image.BILINEAR)))
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(4)(image)), np.asarray(image)[4:8, 6:10])
    np.testing.assert_array_equal(np.asarray(F.hflip(image)), np.asarray(image)[:, ::-1])
    assert T.Grayscale(3)(image).mode == "RGB" and T.Grayscale()(image).mode == "L"
    ours = np.asarray(F.resize(np.asarray(image), (6, 8))).astype(int)
    assert np.abs(ours - np.asarray(image.resize((8, 6), Image.BILINEAR)).astype(int)).max() <= 1
    pipeline = T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(8, padding=1), T.ToTensor(),
                          T.Normalize((0.5,) * 3, (0.5,) * 3)])
    out = pipeline(image)
    assert out.shape == (3, 8, 8) and float(out.min()) >= -1 and float(out.max()) <= 1
    back = T.ToPILImage()(T.ToTensor()(image))
    np.testing.assert_array_equal(np.asarray(back), np.asarray(image))
    np.testing.assert_array_equal(np.asarray(T.PILToTensor()(image)), np.asarray(image).transpose(2, 0, 1))
    assert "Compose(" in repr(pipeline) and "RandomCrop" in repr(pipeline)


# ----------------------------------------------------------------------------- utils
def test_make_grid_layout():
    batch = ag.tensor(np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3))
    grid = utils.make_grid(batch, nrow=2, padding=1, pad_value=-1)
    assert grid.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    g = np.asarray(grid)
    np.testing.assert_array_equal(g[0, 1:3, 1:4], np.asarray(batch)[0, 0])
    np.testing.assert_array_equal(g[2, 4:6, 5:8], np.asarray(batch)[3, 0])  # row 1, column 1
    assert g[0, 0, 0] == -1 and (g[:, 7:9, 5:8] == -1).all()  # the empty sixth cell is padding
    normalized = np.asarray(utils.make_grid(batch, normalize=True, padding=0))
    assert normalized.min() == 0 and normalized.max() == 1
    assert utils.make_grid(ag.zeros(1, 3, 4, 4)).shape == (3, 4, 4)
    with pytest.raises(TypeError):
        utils.make_grid("not a tensor")


def test_save_image_png(tmp_path, monkeypatch):
    batch = ag.rand(4, 3, 5, 6)
    path = tmp_path / "grid.png"
    utils.save_image(batch, path, nrow=2, padding=0)
    # the fallback encoder (no Pillow) writes the same pixels
    import autograd_core.vision.utils as vision_utils
    monkeypatch.setattr(vision_utils, "pil_module", lambda: None)
    fallback = tmp_path / "fallback.png"
    vision_utils.save_image(batch, fallback, nrow=2, padding=0)
    assert fallback.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="only PNG"):
        vision_utils.save_image(batch, tmp_path / "grid.jpg")
    expected = np.clip(np.asarray(utils.make_grid(batch, nrow=2, padding=0)) * 255 + 0.5, 0, 255).astype(np.uint8)
    if Image is not None:
        for p in (path, fallback):
            np.testing.assert_array_equal(np.asarray(Image.open(p)), expected.transpose(1, 2, 0))


# ----------------------------------------------------------------------------- models
RESNET18_BLOCK_KEYS = ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                       "bn1.num_batches_tracked", "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean",
                       "bn2.running_var", "bn2.num_batches_tracked"]
BN = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_resnet18_keys_and_sizes():
    model = models.resnet18()
    keys = list(model.state_dict())
    # torchvision's resnet18: stem, 4 layers of 2 BasicBlocks (a downsample in layers 2-4), fc
    expected = ["conv1.weight"] + [f"bn1.{b}" for b in BN]
    for layer in range(1, 5):
        for block in range(2):
            expected += [f"layer{layer}.{block}.{k}" for k in RESNET18_BLOCK_KEYS]
            if layer > 1 and block == 0:
                expected += [f"layer{layer}.0.downsample.0.weight"] + [f"layer{layer}.0.downsample.1.{b}" for b in BN]
    expected += ["fc.weight", "fc.bias"]
    assert keys == expected
    assert sum(p.numel() for p in model.parameters()) == 11_689_512  # torchvision's documented count
    assert tuple(model.layer3[0].downsample[0].weight.shape) == (256, 128, 1, 1)
    assert sum(p.numel() for p in models.resnet50().parameters()) == 25_557_032
    small = models.resnet18(num_classes=3)
    small.eval()
    assert small(ag.randn(1, 3, 32, 32)).shape == (1, 3)
    with pytest.raises(RuntimeError, match="ships no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(RuntimeError, match="ships no pretrained weights"):
        models.resnet18(pretrained=True)


def test_vgg11_keys(monkeypatch):
    from autograd_core.vision.models import vgg
    features = vgg.make_layers(vgg._CONFIGS["A"])
    convs = [name for name, m in features.named_children() if isinstance(m, ag.nn.Conv2d)]
    assert convs == ["0", "3", "6", "8", "11", "13", "16", "18"]  # torchvision's features.<i> indices
    assert sum(p.numel() for p in features.parameters()) == 9_220_480
    # the classifier's 102M weights take seconds to initialise: check its names on small layers
    class SmallLinear(ag.nn.Linear):
        def __init__(self, in_features, out_features):
            super().__init__(8, 8)
    monkeypatch.setattr(vgg.nn, "Linear", SmallLinear)
    keys = [k for k in vgg.vgg11().state_dict() if k.startswith("classifier")]
    assert keys == ["classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias",
                    "classifier.6.weight", "classifier.6.bias"]
    bn_keys = list(vgg.vgg11_bn().state_dict())
    assert bn_keys[:7] == ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                           "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"]


def test_lenet5_trains():
    ag.manual_seed(0)
    model = models.lenet5()
    assert list(model.state_dict())[:2] == ["conv1.weight", "conv1.bias"]
    x, y = ag.randn(16, 1, 28, 28), ag.randint(0, 10, (16,))
    opt = ag.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ag.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.75


def test_transforms_v2_pipeline():
    from autograd_core.vision.transforms import v2
    array = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14
    image = v2.ToImage()(array)
    assert image.dtype == ag.uint8 and image.shape == (3, 2, 3)
    np.testing.assert_array_equal(np.asarray(image), array.transpose(2, 0, 1))
    scaled = v2.ToDtype(ag.float32, scale=True)(image)
    np.testing.assert_allclose(np.asarray(scaled), array.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert v2.ToDtype(ag.float32)(image).max().item() == array.max()  # no scaling without scale=True
    back = v2.ToDtype(ag.uint8, scale=True)(scaled)
    np.testing.assert_array_equal(np.asarray(back), array.transpose(2, 0, 1))
    pipeline = v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(), v2.ToDtype(ag.float32, scale=True),
                           v2.Normalize((0.5,) * 3, (0.5,) * 3)])
    out = pipeline(array)
    assert out.shape == (3, 2, 3) and float(out.min()) >= -1 and float(out.max()) <= 1
    if Image is not None:
        assert v2.ToImage()(Image.fromarray(array)).shape == (3, 2, 3)
