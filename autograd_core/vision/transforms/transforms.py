"""Transform classes with torchvision's names and arguments. Random choices draw from
autograd_core's generator, so ag.manual_seed makes an augmentation pipeline reproducible."""
import math
import numbers

from ...ops.creation import rand, randint
from . import functional as F
from .functional import InterpolationMode


def _uniform(low, high):
    return low + (high - low) * float(rand(1, dtype="float64").item())


def _randint(low, high):
    """An int in [low, high)."""
    return int(randint(low, high, (1,)).item())


class Compose:
    """Apply the transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class _Repr:
    _fields = ()

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"


class ToTensor(_Repr):
    """PIL image or (H, W[, C]) array -> float32 (C, H, W) tensor in [0, 1] (uint8 inputs scaled)."""

    def __call__(self, pic):
        return F.to_tensor(pic)


class PILToTensor(_Repr):
    """Convert a PIL image (or an H x W x C uint8 array) to a uint8 tensor ``(C, H, W)``, values unscaled
    (0..255).
    """

    def __call__(self, pic):
        return F.pil_to_tensor(pic)


class ToPILImage(_Repr):
    """Convert a tensor ``(C, H, W)`` or an array ``(H, W, C)`` to a PIL image (needs Pillow); floats
    are taken as in [0, 1]. ``mode`` is the PIL mode, e.g. ``'L'`` or ``'RGB'`` (inferred when None).
    """

    _fields = ("mode",)

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)


class ConvertImageDtype(_Repr):
    """Convert a tensor image to ``dtype``, rescaling values: integer images 0..255 map to float
    images in [0, 1] and back.
    """

    _fields = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(_Repr):
    """(x - mean) / std per channel of a float tensor image."""

    _fields = ("mean", "std")

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)


class Resize(_Repr):
    """Resize to (h, w), or match the smaller edge to an int size keeping the aspect ratio."""

    _fields = ("size", "interpolation", "max_size", "antialias")

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not isinstance(size, (numbers.Integral, list, tuple)):
            raise TypeError(f"Resize: size must be an int or a sequence, got {type(size).__name__}")
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)


class CenterCrop(_Repr):
    """Crop the central ``size`` (an int for a square, or ``(h, w)``) of the image; an image smaller
    than that is zero-padded first, as in torchvision.
    """

    _fields = ("size",)

    def __init__(self, size):
        self.size = F._pair(size, "CenterCrop")

    def __call__(self, img):
        return F.center_crop(img, self.size)


class Pad(_Repr):
    """Pad every side of the image: ``padding`` is an int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` is ``'constant'`` (with ``fill``), ``'edge'``,
    ``'reflect'`` or ``'symmetric'``.
    """

    _fields = ("padding", "fill", "padding_mode")

    def __init__(self, padding, fill=0, padding_mode="constant"):
        F._padding(padding)
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"Pad: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)


class RandomCrop(_Repr):
    """A random (h, w) window, after optional padding."""

    _fields = ("size", "padding")

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = F._pair(size, "RandomCrop")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """The window ``(top, left, height, width)`` a RandomCrop of ``output_size`` would cut from ``img``.
        """
        height, width = F.size_of(img)
        crop_h, crop_w = output_size
        if height < crop_h or width < crop_w:
            raise ValueError(f"RandomCrop: crop size {(crop_h, crop_w)} is larger than the image {(height, width)}")
        if (height, width) == (crop_h, crop_w):
            return 0, 0, height, width
        return _randint(0, height - crop_h + 1), _randint(0, width - crop_w + 1), crop_h, crop_w

    def __call__(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        height, width = F.size_of(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, (self.size[1] - width, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, (0, self.size[0] - height), self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))


class RandomResizedCrop(_Repr):
    """A random window of random area and aspect ratio, resized to size."""

    _fields = ("size", "scale", "ratio")

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = F._pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio must be (min, max), got {scale}, {ratio}")
        self.scale, self.ratio, self.interpolation, self.antialias = scale, ratio, interpolation, antialias

    @staticmethod
    def get_params(img, scale, ratio):
        """The window ``(top, left, height, width)`` a RandomResizedCrop would cut: an area fraction drawn
        from ``scale`` and a log-uniform aspect ratio from ``ratio`` (the central crop after 10 failed
        draws).
        """
        height, width = F.size_of(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target = area * _uniform(scale[0], scale[1])
            aspect = math.exp(_uniform(*log_ratio))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        # fall back to a centre crop of the closest allowed aspect ratio
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, round(width / min(ratio))
        elif in_ratio > max(ratio):
            h, w = height, round(height * max(ratio))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, self.size, self.interpolation, self.antialias)


class RandomHorizontalFlip(_Repr):
    """Flip the image left to right with probability ``p`` (drawn from autograd_core's generator).

    Example:
        >>> from autograd_core.vision import transforms
        >>> transforms.RandomHorizontalFlip(p=1.0)(ag.tensor([[[1, 2, 3]]]))
        tensor([[[3, 2, 1]]])
    """

    _fields = ("p",)

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return F.hflip(img) if _uniform(0, 1) < self.p else img


class RandomVerticalFlip(_Repr):
    """Flip the image top to bottom with probability ``p``."""

    _fields = ("p",)

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return F.vflip(img) if _uniform(0, 1) < self.p else img


class RandomRotation(_Repr):
    """Rotate by an angle drawn from [-degrees, degrees] (or the (min, max) given)."""

    _fields = ("degrees", "interpolation", "expand", "center", "fill")

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: a single degrees value must be non-negative, got {degrees}")
            degrees = (-degrees, degrees)
        elif len(degrees) != 2:
            raise ValueError(f"RandomRotation: degrees must be a number or (min, max), got {degrees!r}")
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    @staticmethod
    def get_params(degrees):
        """An angle drawn uniformly from ``degrees`` ``(min, max)``."""
        return _uniform(degrees[0], degrees[1])

    def __call__(self, img):
        return F.rotate(img, self.get_params(self.degrees), self.interpolation, self.expand, self.center, self.fill)


class Grayscale(_Repr):
    """Convert to grayscale with the ITU-R 601-2 luma weights (0.299 R + 0.587 G + 0.114 B), with 1 or 3
    (repeated) output channels.
    """

    _fields = ("num_output_channels",)

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)


class RandomGrayscale(_Repr):
    """Convert to grayscale (keeping the number of channels) with probability ``p``."""

    _fields = ("p",)

    def __init__(self, p=0.1):
        self.p = p

    def __call__(self, img):
        if _uniform(0, 1) >= self.p:
            return img
        channels = 3
        if F.is_pil(img):
            channels = len(img.getbands())
        elif F.is_tensor(img) and img.ndim >= 3:
            channels = int(img.shape[-3])
        return F.rgb_to_grayscale(img, num_output_channels=channels)


class Lambda(_Repr):
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class RandomApply(_Repr):
    """Apply the list of ``transforms`` in order with probability ``p``, or none of them."""

    _fields = ("p",)

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img):
        if _uniform(0, 1) >= self.p:
            return img
        for transform in self.transforms:
            img = transform(img)
        return img


class RandomChoice(_Repr):
    """Apply one transform picked at random from ``transforms`` (weighted by ``p`` if given)."""

    def __init__(self, transforms, p=None):
        self.transforms = list(transforms)
        self.p = p

    def __call__(self, img):
        if self.p is None:
            return self.transforms[_randint(0, len(self.transforms))](img)
        total, draw = sum(self.p), _uniform(0, 1)
        acc = 0.0
        for transform, weight in zip(self.transforms, self.p):
            acc += weight / total
            if draw < acc:
                return transform(img)
        return self.transforms[-1](img)
