"""FakeData: random images and labels, the same for an index every time (no files, no network)."""
import numpy as np

from .._image import from_array
from .vision import VisionDataset


class FakeData(VisionDataset):
    """FakeData(size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
    target_transform=None, random_offset=0): sample i is drawn from a generator seeded with
    i + random_offset, as a PIL image (a (H, W, C) uint8 array without Pillow) and an int label."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        if len(image_size) != 3 or image_size[0] not in (1, 3, 4):
            raise ValueError(f"FakeData: image_size must be (C, H, W) with C in 1, 3, 4, got {image_size}")
        self.size = int(size)
        self.num_classes = int(num_classes)
        self.image_size = tuple(image_size)
        self.random_offset = int(random_offset)

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData: index {index} out of range for {self.size} samples")
        index %= self.size
        rng = np.random.default_rng(index + self.random_offset)
        channels, height, width = self.image_size
        array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        target = int(rng.integers(0, self.num_classes))
        img = from_array(array[:, :, 0] if channels == 1 else array)
        return self._apply(img, target)

    def __len__(self):
        return self.size
