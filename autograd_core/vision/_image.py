"""The image types the vision package accepts and the conversions between them.

An image is a PIL Image (when Pillow is installed), a numpy array of shape (H, W) or (H, W, C), or
a tensor of shape (..., C, H, W), as in torchvision. Pillow is optional: without it, datasets
return numpy arrays and every transform still works on those and on tensors.
"""
import numpy as np

from ..ops.creation import tensor
from ..tensor import Tensor


def pil_module():
    """PIL.Image, or None when Pillow is not installed."""
    try:
        from PIL import Image  # optional: Pillow
    except ImportError:
        return None
    return Image


def is_pil(img):
    """True when ``img`` is a PIL image (False when Pillow is not installed)."""
    image = pil_module()
    return image is not None and isinstance(img, image.Image)


def is_tensor(img):
    """True when ``img`` is an autograd_core Tensor."""
    return isinstance(img, Tensor)


def from_array(array, mode=None):
    """A dataset sample: a PIL image when Pillow is installed, else the (H, W[, C]) uint8 array."""
    image = pil_module()
    if image is None:
        return array
    return image.fromarray(array, mode=mode) if mode else image.fromarray(array)


def require_pil(what):
    image = pil_module()
    if image is None:
        raise ImportError(f"{what} needs Pillow to read image files: pip install pillow")
    return image


def size_of(img):
    """(height, width) of any accepted image."""
    if is_pil(img):
        return img.size[1], img.size[0]
    if is_tensor(img):
        return int(img.shape[-2]), int(img.shape[-1])
    array = np.asarray(img)
    return int(array.shape[0]), int(array.shape[1])


def check_image(img, op):
    """Raise a TypeError or ValueError, naming ``op``, unless ``img`` is a PIL image or a tensor of at least 2
    dimensions.
    """
    if is_pil(img) or is_tensor(img):
        if is_tensor(img) and img.ndim < 2:
            raise ValueError(f"{op}: a tensor image needs at least 2 dimensions (..., H, W), got shape "
                             f"{tuple(img.shape)}")
        return
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{op}: a numpy image must be (H, W) or (H, W, C), got shape {img.shape}")
        return
    raise TypeError(f"{op}: expected a PIL Image, a numpy array (H, W[, C]) or a tensor (..., C, H, W), got "
                    f"{type(img).__name__}")


def to_hwc(img):
    """(array (H, W, C) or (..., H, W), kind) where kind tells from_hwc how to give it back."""
    if is_pil(img):
        return np.asarray(img), ("pil", img.mode)
    if is_tensor(img):
        array = np.asarray(img.detach())
        return np.moveaxis(array, -3, -1) if array.ndim >= 3 else array, ("tensor", array.ndim)
    return np.asarray(img), ("numpy", None)


def from_hwc(array, kind):
    """An image of ``kind`` (as returned by the image readers: PIL or tensor) from an H x W x C array."""
    form, extra = kind
    if form == "pil":
        return pil_module().fromarray(np.ascontiguousarray(array), mode=extra if extra in ("L", "RGB", "RGBA")
                                      else None)
    if form == "tensor":
        array = np.moveaxis(array, -1, -3) if extra >= 3 else array
        return tensor(np.ascontiguousarray(array))
    return np.ascontiguousarray(array)
