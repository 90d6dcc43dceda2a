"""The image operations behind ag.vision.transforms, on PIL images (Pillow's own operations, as
torchvision does), numpy arrays (H, W[, C]) and tensors (..., C, H, W). Arrays and tensors are
resampled here with separable filters: for a reduction the filter widens with the scale
(antialias), in the way Pillow resamples."""
import enum
import math
import numbers

import numpy as np

from ...dtypes import float32, float64, uint8
from ...ops.creation import tensor
from ...ops.creation import tensor as make
from .._image import check_image, from_hwc, is_pil, is_tensor, pil_module, size_of, to_hwc


class InterpolationMode(enum.Enum):
    """The resampling methods of :func:`resize`: NEAREST, NEAREST_EXACT, BILINEAR, BICUBIC, ..."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _mode(interpolation):
    if isinstance(interpolation, InterpolationMode):
        return interpolation.value
    if isinstance(interpolation, str) and interpolation in {m.value for m in InterpolationMode}:
        return interpolation
    raise ValueError(f"interpolation must be an InterpolationMode, got {interpolation!r}")


def _pil_filter(mode):
    image = pil_module()
    return {"nearest": image.NEAREST, "nearest-exact": image.NEAREST, "bilinear": image.BILINEAR,
            "bicubic": image.BICUBIC}[mode]


# ------------------------------------------------------------------------------------ conversion
def to_tensor(pic):
    """A PIL image or (H, W[, C]) array as a float32 (C, H, W) tensor; uint8 values scale to [0, 1]."""
    if is_tensor(pic):
        raise TypeError("to_tensor: the input is already a tensor (ToTensor takes a PIL image or numpy array)")
    if not (is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"to_tensor: expected a PIL Image or a numpy array, got {type(pic).__name__}")
    array = np.asarray(pic)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"to_tensor: expected an (H, W) or (H, W, C) image, got shape {array.shape}")
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return tensor(chw.astype(np.float32) / 255.0)
    if chw.dtype == np.bool_:
        return tensor(chw.astype(np.float32))
    return tensor(chw if chw.dtype in (np.float32, np.float64) else chw.astype(np.float32))


def pil_to_tensor(pic):
    """A PIL image as a (C, H, W) tensor of its own values (uint8 for 8-bit modes), not scaled."""
    if not is_pil(pic):
        raise TypeError(f"pil_to_tensor: expected a PIL Image, got {type(pic).__name__}")
    array = np.asarray(pic)
    if array.ndim == 2:
        array = array[:, :, None]
    return tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """A (C, H, W) tensor or (H, W[, C]) array as a PIL image; floats in [0, 1] become uint8."""
    image = pil_module()
    if image is None:
        raise ImportError("to_pil_image needs Pillow: pip install pillow")
    if is_tensor(pic):
        array = np.asarray(pic.detach())
        if array.ndim == 3:
            array = array.transpose(1, 2, 0)
        elif array.ndim != 2:
            raise ValueError(f"to_pil_image: expected a (C, H, W) or (H, W) tensor, got shape {array.shape}")
        if array.dtype.kind == "f":
            array = (array * 255).astype(np.uint8)  # truncation, as torchvision's pic.mul(255).byte()
    else:
        array = np.asarray(pic)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    return image.fromarray(np.ascontiguousarray(array), mode=mode) if mode else \
        image.fromarray(np.ascontiguousarray(array))


def convert_image_dtype(image, dtype):
    """A tensor image converted between integer (0..max) and floating ([0, 1]) conventions."""
    if not is_tensor(image):
        raise TypeError("convert_image_dtype: expected a tensor image")
    if image.dtype == dtype:
        return image
    if dtype in (float32, float64):
        return image.to(dtype) / 255.0 if image.dtype == uint8 else image.to(dtype)
    if dtype == uint8:
        if image.dtype in (float32, float64):
            return (image * 255.999).clamp(0, 255).to(uint8)
        return image.to(uint8)
    raise ValueError(f"convert_image_dtype: unsupported dtype {dtype}")


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    if not is_tensor(tensor):
        raise TypeError(f"normalize: expected a tensor, got {type(tensor).__name__}")
    if tensor.dtype not in (float32, float64):
        raise TypeError(f"normalize: expected a floating point tensor, got {tensor.dtype}")
    if tensor.ndim < 3:
        raise ValueError(f"normalize: expected a (..., C, H, W) tensor, got shape {tuple(tensor.shape)}")
    channels = tensor.shape[-3]
    mean = np.broadcast_to(np.asarray(mean, np.float64).reshape(-1), (channels,)) if np.size(mean) in (1, channels) \
        else None
    std = np.broadcast_to(np.asarray(std, np.float64).reshape(-1), (channels,)) if np.size(std) in (1, channels) \
        else None
    if mean is None or std is None:
        raise ValueError(f"normalize: mean and std need 1 or {channels} values for {channels} channels")
    if np.any(std == 0):
        raise ValueError(f"normalize: std evaluated to zero after conversion to float, leading to division by zero: "
                         f"{std.tolist()}")
    m = make(mean.reshape(-1, 1, 1), dtype=tensor.dtype)
    s = make(std.reshape(-1, 1, 1), dtype=tensor.dtype)
    out = (tensor - m) / s
    if inplace:
        tensor.copy_(out)
        return tensor
    return out


# ------------------------------------------------------------------------------------ resampling
def _cubic(x, a=-0.5):
    x = np.abs(x)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _weights(in_size, out_size, mode, antialias):
    """The (out_size, in_size) matrix mapping a line of pixels to its resampled line."""
    scale = in_size / out_size
    matrix = np.zeros((out_size, in_size), np.float64)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest":
            index = np.floor(np.arange(out_size) * scale)
        else:
            index = np.floor((np.arange(out_size) + 0.5) * scale)
        matrix[np.arange(out_size), np.minimum(index.astype(np.int64), in_size - 1)] = 1.0
        return matrix
    support, kernel = (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))) if mode == "bilinear" else (2.0, _cubic)
    widen = max(scale, 1.0) if antialias else 1.0
    for i in range(out_size):
        center = (i + 0.5) * scale
        lo = max(math.floor(center - support * widen), 0)
        hi = min(math.ceil(center + support * widen), in_size)
        x = np.arange(lo, hi)
        w = kernel((x + 0.5 - center) / widen)
        total = w.sum()  # renormalised, so the pixels past a border lend their weight to the edge
        if total == 0:
            w = np.zeros_like(w)
            w[np.argmin(np.abs(x + 0.5 - center))] = 1.0
            total = 1.0
        matrix[i, lo:hi] = w / total
    return matrix


def _resample(array, spatial, out_hw, mode, antialias):
    """array with its two spatial axes (spatial = (h_axis, w_axis)) resampled to out_hw."""
    work = array.astype(np.float64)
    for axis, size in zip(spatial, out_hw):
        matrix = _weights(work.shape[axis], size, mode, antialias)
        work = np.moveaxis(np.tensordot(matrix, np.moveaxis(work, axis, 0), axes=(1, 0)), 0, axis)
    if array.dtype.kind in "ub":
        info = np.iinfo(array.dtype) if array.dtype != np.bool_ else None
        work = np.clip(np.round(work), 0 if info is None else info.min, 1 if info is None else info.max)
    return work.astype(array.dtype)


def _target_size(height, width, size, max_size):
    if isinstance(size, numbers.Integral) or (isinstance(size, (list, tuple)) and len(size) == 1):
        edge = int(size if isinstance(size, numbers.Integral) else size[0])
        short, long = (height, width) if height <= width else (width, height)
        new_short, new_long = edge, int(edge * long / short)
        if max_size is not None:
            if max_size <= edge:
                raise ValueError(f"resize: max_size ({max_size}) must be larger than size ({edge})")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_short, new_long) if height <= width else (new_long, new_short)
    if isinstance(size, (list, tuple)) and len(size) == 2:
        if max_size is not None:
            raise ValueError("resize: max_size is only allowed with a single int size")
        return int(size[0]), int(size[1])
    raise TypeError(f"resize: size must be an int or a sequence of one or two ints, got {size!r}")


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize an image (PIL, or a tensor ``(..., H, W)``) to ``size``: ``(h, w)``, or an int for the
    smaller edge, keeping the aspect ratio (the larger edge capped at ``max_size``).

    Example:
        >>> from autograd_core.vision.transforms import functional as TF
        >>> TF.resize(ag.zeros(3, 32, 64), 16).shape
        Size([3, 16, 32])
    """
    check_image(img, "resize")
    mode = _mode(interpolation)
    height, width = size_of(img)
    out_h, out_w = _target_size(height, width, size, max_size)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"resize: output size ({out_h}, {out_w}) must be positive")
    if (out_h, out_w) == (height, width):
        return img
    if is_pil(img):
        return img.resize((out_w, out_h), _pil_filter(mode))
    array, kind = to_hwc(img)
    if is_tensor(img):
        spatial = (array.ndim - 3, array.ndim - 2) if array.ndim >= 3 else (0, 1)
    else:
        spatial = (0, 1)
    return from_hwc(_resample(array, spatial, (out_h, out_w), mode, antialias), kind)


# ------------------------------------------------------------------------------------ geometry
def _spatial_axes(array, kind):
    if kind[0] == "tensor" and kind[1] >= 3:
        return array.ndim - 3, array.ndim - 2
    if kind[0] == "tensor":
        return 0, 1
    return 0, 1


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); parts outside the image are zeros."""
    check_image(img, "crop")
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    array, kind = to_hwc(img)
    h_axis, w_axis = _spatial_axes(array, kind)
    img_h, img_w = array.shape[h_axis], array.shape[w_axis]
    pads = [(0, 0)] * array.ndim
    pads[h_axis] = (max(0, -top), max(0, top + height - img_h))
    pads[w_axis] = (max(0, -left), max(0, left + width - img_w))
    if any(p != (0, 0) for p in pads):
        array = np.pad(array, pads)
        top, left = top + pads[h_axis][0], left + pads[w_axis][0]
    index = [slice(None)] * array.ndim
    index[h_axis] = slice(top, top + height)
    index[w_axis] = slice(left, left + width)
    return from_hwc(array[tuple(index)], kind)


def _pair(size, what):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{what}: size must be an int or a sequence of one or two ints, got {size!r}")


def center_crop(img, output_size):
    """The central ``output_size`` window of the image (zero-padded first when the image is smaller)."""
    check_image(img, "center_crop")
    crop_h, crop_w = _pair(output_size, "center_crop")
    height, width = size_of(img)
    top = round((height - crop_h) / 2.0)
    left = round((width - crop_w) / 2.0)
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop the window ``(top, left, height, width)``, then :func:`resize` it to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _padding(padding):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return (padding[0], padding[1], padding[0], padding[1])
    if len(padding) == 4:
        return padding
    raise ValueError(f"pad: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad (left, top, right, bottom); modes constant (with fill), edge, reflect, symmetric."""
    check_image(img, "pad")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"pad: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}")
    left, top, right, bottom = _padding(padding)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"pad: negative padding {padding!r}")
    array, kind = to_hwc(img)
    h_axis, w_axis = _spatial_axes(array, kind)
    pads = [(0, 0)] * array.ndim
    pads[h_axis], pads[w_axis] = (top, bottom), (left, right)
    if padding_mode == "constant":
        if isinstance(fill, (list, tuple)) and array.ndim == 3 and kind[0] != "tensor":
            out = np.stack([np.pad(array[:, :, c], pads[:2], constant_values=fill[c]) for c in range(array.shape[2])],
                           axis=2)
        else:
            out = np.pad(array, pads, constant_values=fill)
    else:
        out = np.pad(array, pads, mode=padding_mode)
    return from_hwc(out, kind)


def hflip(img):
    """The image flipped left to right."""
    check_image(img, "hflip")
    if is_pil(img):
        return img.transpose(pil_module().FLIP_LEFT_RIGHT)
    array, kind = to_hwc(img)
    return from_hwc(np.flip(array, axis=_spatial_axes(array, kind)[1]), kind)


def vflip(img):
    """The image flipped top to bottom."""
    check_image(img, "vflip")
    if is_pil(img):
        return img.transpose(pil_module().FLIP_TOP_BOTTOM)
    array, kind = to_hwc(img)
    return from_hwc(np.flip(array, axis=_spatial_axes(array, kind)[0]), kind)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
    """Rotate counter-clockwise by angle degrees about center (default the image centre)."""
    check_image(img, "rotate")
    mode = _mode(interpolation)
    if is_pil(img):
        fillcolor = tuple(fill) if isinstance(fill, (list, tuple)) else fill
        return img.rotate(angle, resample=_pil_filter(mode), expand=expand, center=center, fillcolor=fillcolor)
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"rotate: arrays and tensors support nearest and bilinear interpolation, got {mode!r}")
    array, kind = to_hwc(img)
    h_axis, w_axis = _spatial_axes(array, kind)
    height, width = array.shape[h_axis], array.shape[w_axis]
    cx, cy = ((width - 1) / 2.0, (height - 1) / 2.0) if center is None else (center[0], center[1])
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    out_h, out_w = height, width
    if expand:
        corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], np.float64)
        rel = corners - (cx, cy)
        x = rel[:, 0] * cos + rel[:, 1] * sin
        y = -rel[:, 0] * sin + rel[:, 1] * cos
        out_w = math.ceil(x.max() - x.min() + 1 - 1e-9)
        out_h = math.ceil(y.max() - y.min() + 1 - 1e-9)
    ox, oy = ((out_w - 1) / 2.0, (out_h - 1) / 2.0) if expand else (cx, cy)
    ys, xs = np.meshgrid(np.arange(out_h, dtype=np.float64), np.arange(out_w, dtype=np.float64), indexing="ij")
    # inverse map: an output pixel reads the input at the point rotated back by -angle
    dx, dy = xs - ox, ys - oy
    src_x = cos * dx - sin * dy + cx
    src_y = sin * dx + cos * dy + cy
    moved = np.moveaxis(array, (h_axis, w_axis), (0, 1)).astype(np.float64)
    fill_value = np.asarray(fill, np.float64)
    if mode == "nearest":
        ix, iy = np.round(src_x).astype(np.int64), np.round(src_y).astype(np.int64)
        inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        out = moved[np.clip(iy, 0, height - 1), np.clip(ix, 0, width - 1)]
    else:
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        fx, fy = src_x - x0, src_y - y0
        inside = (src_x >= 0) & (src_x <= width - 1) & (src_y >= 0) & (src_y <= height - 1)
        out = 0
        for ddy, wy in ((0, 1 - fy), (1, fy)):
            for ddx, wx in ((0, 1 - fx), (1, fx)):
                weight = (wy * wx).reshape(wy.shape + (1,) * (moved.ndim - 2))
                out = out + weight * moved[np.clip(y0 + ddy, 0, height - 1), np.clip(x0 + ddx, 0, width - 1)]
    mask = inside.reshape(inside.shape + (1,) * (moved.ndim - 2))
    out = np.where(mask, out, fill_value)
    if array.dtype.kind in "ub":
        out = np.clip(np.round(out), 0, 255 if array.dtype == np.uint8 else np.iinfo(array.dtype).max)
    out = np.moveaxis(out.astype(array.dtype), (0, 1), (h_axis, w_axis))
    return from_hwc(out, kind)


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma (0.299 R + 0.587 G + 0.114 B), repeated to num_output_channels (1 or 3)."""
    check_image(img, "rgb_to_grayscale")
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels must be 1 or 3, got {num_output_channels}")
    if is_pil(img):
        grey = img.convert("L")
        return grey if num_output_channels == 1 else grey.convert("RGB")
    array, kind = to_hwc(img)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape[-1] not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: expected 1 or 3 channels, got image shape {array.shape}")
    if array.shape[-1] == 3:
        luma = array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114
    else:
        luma = array[..., 0].astype(np.float64)
    if array.dtype.kind in "ub":
        luma = np.clip(np.round(luma), 0, 255)
    out = np.repeat(luma[..., None].astype(array.dtype), num_output_channels, axis=-1)
    return from_hwc(out, kind)


to_grayscale = rgb_to_grayscale


def get_image_size(img):
    """[width, height], as torchvision's get_image_size."""
    height, width = size_of(img)
    return [width, height]
