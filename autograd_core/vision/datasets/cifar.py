"""CIFAR-10 from the dataset authors' binary version (never the pickled "python version": a
downloaded pickle could run code). Each record is one label byte and 3072 pixel bytes (the red,
green and blue 32x32 planes)."""
import os

import numpy as np

from .._image import from_array
from .utils import check_integrity, download_from_mirrors, extract_tar_members
from .vision import VisionDataset

_RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(path):
    """(images (N, 32, 32, 3) uint8, labels (N,) int64) from one CIFAR-10 binary batch file."""
    with open(path, "rb") as handle:
        data = handle.read()
    if not data or len(data) % _RECORD:
        raise RuntimeError(f"{path}: {len(data)} bytes is not a whole number of CIFAR-10 records of {_RECORD} bytes")
    records = np.frombuffer(data, np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max(initial=0) > 9:
        raise RuntimeError(f"{path}: label {int(labels.max())} is not a CIFAR-10 class (0-9)")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(VisionDataset):
    """32x32 colour images of 10 classes: 50,000 training and 10,000 test images.

    CIFAR10(root, train=True, transform=None, target_transform=None, download=False); `data` is a
    (N, 32, 32, 3) uint8 array and `targets` a list of ints, as in torchvision; samples are (PIL
    RGB image, or a (32, 32, 3) uint8 array without Pillow; int label)."""

    base_folder = "cifar-10-batches-bin"
    mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
    test_list = ("test_batch.bin",)
    meta_file = "batches.meta.txt"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(f"{type(self).__name__}: dataset not found in {self._folder()}. Use download=True "
                               "to download it")
        parts = [read_cifar_binary(os.path.join(self._folder(), name))
                 for name in (self.train_list if train else self.test_list)]
        self.data = np.concatenate([images for images, _ in parts])
        self.targets = np.concatenate([labels for _, labels in parts]).tolist()
        with open(os.path.join(self._folder(), self.meta_file), encoding="utf-8") as handle:
            self.classes = [line.strip() for line in handle if line.strip()]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _folder(self):
        return os.path.join(self.root, self.base_folder)

    def _members(self):
        return [f"{self.base_folder}/{name}" for name in (*self.train_list, *self.test_list, self.meta_file)]

    def _check_exists(self):
        return all(check_integrity(os.path.join(self.root, *member.split("/"))) for member in self._members())

    def download(self):
        """Download the binary archive (MD5-checked) and unpack its batch files."""
        if self._check_exists():
            return
        os.makedirs(self.root, exist_ok=True)
        archive = download_from_mirrors(type(self).__name__, self.mirrors, self.filename, self.root, self.tgz_md5)
        extract_tar_members(archive, self.root, set(self._members()))

    def __getitem__(self, index):
        return self._apply(from_array(self.data[index]), self.targets[index])

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        """The split (``Split: Train`` or ``Test``), for the repr."""
        return f"Split: {'Train' if self.train else 'Test'}"
