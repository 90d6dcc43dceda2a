"""MNIST and Fashion-MNIST: downloaded from the official mirrors (MD5-checked gzip files), read
from the IDX format. Files live where torchvision puts them (root/MNIST/raw/...), so a folder
torchvision downloaded works here too."""
import os

import numpy as np

from ...ops.creation import tensor
from .._image import from_array
from .utils import check_integrity, download_from_mirrors, gunzip
from .vision import VisionDataset

# IDX element type codes -> big-endian numpy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file (magic: two zero bytes, a type code, the number of dims;
    then each dimension as a big-endian int32; then the values, big-endian)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path}: not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise RuntimeError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise RuntimeError(f"{path}: IDX header says shape {shape} ({expected} bytes) but the file holds "
                           f"{len(data) - header} bytes of data")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(VisionDataset):
    """Handwritten digits, 28x28 grey: 60,000 training and 10,000 test images.

    MNIST(root, train=True, transform=None, target_transform=None, download=False); samples are
    (PIL image of mode 'L', or a (28, 28) uint8 array without Pillow; int label)."""

    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources = (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    )
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine")

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(f"{type(self).__name__}: dataset not found in {self.raw_folder}. Use download=True "
                               "to download it")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self):
        """The folder with the gzip files: ``root/<ClassName>/raw``, torchvision's layout."""
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        """Class name to label, e.g. ``{'0 - zero': 0, ...}``."""
        return {name: i for i, name in enumerate(self.classes)}

    def _raw(self, name):
        return os.path.join(self.raw_folder, name)

    def _check_exists(self):
        return all(check_integrity(self._raw(os.path.splitext(name)[0])) for name, _ in self.resources)

    def download(self):
        """Download and unpack the four files unless they are already there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            archive = download_from_mirrors(type(self).__name__, self.mirrors, filename, self.raw_folder, md5)
            gunzip(archive, self._raw(os.path.splitext(filename)[0]))

    def _load_data(self):
        split = "train" if self.train else "t10k"
        images = read_idx(self._raw(f"{split}-images-idx3-ubyte"))
        labels = read_idx(self._raw(f"{split}-labels-idx1-ubyte"))
        if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1 or len(images) != len(labels):
            raise RuntimeError(f"{type(self).__name__}: unexpected file contents: images {images.shape} "
                               f"{images.dtype}, labels {labels.shape}")
        return tensor(images), tensor(labels.astype(np.int64))

    def __getitem__(self, index):
        img = from_array(np.asarray(self.data[index]), mode="L")
        return self._apply(img, int(self.targets[index]))

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        """The split (``Split: Train`` or ``Test``), for the repr."""
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, MNIST's format and sizes."""

    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
