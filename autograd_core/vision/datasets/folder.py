"""ImageFolder / DatasetFolder: one sub-folder per class (root/dog/001.png, root/cat/a.jpg, ...)."""
import os

from .._image import require_pil
from .vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def find_classes(directory):
    """(sorted class names, {name: index}) from the sub-folders of directory."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"ImageFolder: no class folders found in {directory}")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None):
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("make_dataset: give exactly one of extensions and is_valid_file")
    if is_valid_file is None:
        lowered = tuple(e.lower() for e in extensions)

        def is_valid_file(path):
            return path.lower().endswith(lowered)
    samples = []
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        for parent, _, files in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(files):
                path = os.path.join(parent, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
    return samples


def pil_loader(path):
    image = require_pil("ImageFolder")
    with open(path, "rb") as handle:
        return image.open(handle).convert("RGB")


def default_loader(path):
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples from files laid out as ``root/<class>/<file>``: the classes are the sub-folder names,
    sorted, and ``loader(path)`` reads each file (see :class:`ImageFolder` for images).

    Attributes:
        classes (list): the class names; class_to_idx (dict): name to label; samples (list):
            ``(path, label)`` pairs; targets (list): the labels.

    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file)
        if not self.samples and not allow_empty:
            raise FileNotFoundError(f"{type(self).__name__}: found no valid file in the class folders of {self.root}"
                                    f" (extensions: {', '.join(extensions or ())})")
        self.loader = loader
        self.extensions = extensions
        self.targets = [target for _, target in self.samples]

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images in class folders, loaded as RGB PIL images (Pillow needed)."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
