"""ag.vision.transforms.v2 (torchvision.transforms.v2's names): the same transforms as
ag.vision.transforms, plus ToImage, ToDtype and ToPureTensor. Each transform takes one image (PIL,
numpy array or tensor); v2's joint transforms of boxes and masks are not provided."""
import numpy as np

from ....ops.creation import tensor
from .. import functional
from ..functional import InterpolationMode
from ..transforms import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomApply,
    RandomChoice,
    RandomCrop,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
    ToPILImage,
    ToTensor,
    _Repr,
)


class ToImage(_Repr):
    """A PIL image or (H, W[, C]) array as a (C, H, W) tensor of its own values and dtype (uint8
    stays uint8); a tensor passes through."""

    def __call__(self, pic):
        if functional.is_tensor(pic):
            return pic
        array = np.asarray(pic)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(f"ToImage: expected an (H, W) or (H, W, C) image, got shape {array.shape}")
        return tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))


class ToDtype(_Repr):
    """Convert a tensor image to dtype; scale=True also maps value ranges (uint8 0..255 <-> float 0..1)."""

    _fields = ("dtype", "scale")

    def __init__(self, dtype, scale=False):
        self.dtype, self.scale = dtype, scale

    def __call__(self, image):
        if not functional.is_tensor(image):
            return image  # v2 leaves what is not a tensor image alone
        if self.scale:
            return functional.convert_image_dtype(image, self.dtype)
        return image.to(self.dtype)


class ToPureTensor(_Repr):
    def __call__(self, image):
        return image


class Identity(_Repr):
    def __call__(self, image):
        return image


__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "Identity", "InterpolationMode", "Lambda",
           "Normalize", "PILToTensor", "Pad", "RandomApply", "RandomChoice", "RandomCrop", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToDtype",
           "ToImage", "ToPILImage", "ToPureTensor", "ToTensor", "functional"]
