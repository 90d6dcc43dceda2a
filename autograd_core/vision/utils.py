"""make_grid and save_image, as in torchvision.utils. save_image writes PNG through Pillow when it
is installed (any format Pillow knows), else with the small PNG encoder below."""
import math
import os
import struct
import zlib

import numpy as np

from ..ops.creation import tensor as make
from ..ops.shape import stack
from ._image import is_tensor, pil_module


def _as_batch(tensor):
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(is_tensor(t) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        tensor = stack(list(tensor), dim=0)
    if not is_tensor(tensor):
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got {type(tensor).__name__}")
    array = np.asarray(tensor.detach()).astype(np.float32 if tensor.dtype.name != "float64" else np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None]  # one image of C channels, as torchvision reads a 3-d tensor
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected a (B, C, H, W), (C, H, W) or (H, W) tensor, got shape "
                         f"{tuple(tensor.shape)}")
    if array.shape[1] == 1:
        array = np.repeat(array, 3, axis=1)
    return array


def _normalize(array, value_range):
    low, high = (array.min(), array.max()) if value_range is None else value_range
    array = np.clip(array, low, high)
    return (array - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (B, C, H, W) into one (3, rows*(H+padding)+padding, ...) image,
    nrow images per row. One-channel images are repeated to three channels."""
    array = _as_batch(tensor)
    if value_range is not None and len(value_range) != 2:
        raise ValueError(f"make_grid: value_range must be (min, max), got {value_range!r}")
    if normalize:
        if scale_each:
            array = np.stack([_normalize(image, value_range) for image in array])
        else:
            array = _normalize(array, value_range)
    if array.shape[0] == 1:
        return make(np.ascontiguousarray(array[0]))
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, rows * cell_h + padding, columns * cell_w + padding), pad_value, array.dtype)
    for index in range(count):
        y, x = divmod(index, columns)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + height, left:left + width] = array[index]
    return make(grid)


def _png_bytes(pixels):
    """A PNG file of an (H, W, 3) or (H, W) uint8 array (8-bit RGB or grey, no interlace)."""
    height, width = pixels.shape[:2]
    color = 2 if pixels.ndim == 3 else 0
    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor image or batch (made into a grid with make_grid's keyword arguments) to fp."""
    grid = np.asarray(make_grid(tensor, **kwargs))
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = pil_module()
    if image is not None:
        image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
        return
    name = fp if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
    if (format or os.path.splitext(os.fspath(name))[1].lstrip(".") or "png").lower() != "png":
        raise ValueError("save_image: without Pillow only PNG files can be written (pip install pillow)")
    data = _png_bytes(np.ascontiguousarray(pixels))
    if hasattr(fp, "write"):
        fp.write(data)
    else:
        with open(fp, "wb") as out:
            out.write(data)
