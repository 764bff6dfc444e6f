"""Image helpers with ControlNet 1.1's exact rules: HWC3 (grey, RGBA) and the resize to multiples of 64."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

ACCEPTED = (
    "a PIL image or a numpy array of dtype uint8 shaped HxW, HxWx1 (grey), "
    "HxWx3 (RGB) or HxWx4 (RGBA)"
)

# PIL modes that convert to 8-bit RGB(A) without losing meaning; 16-bit and float modes are refused.
_PIL_TO_RGB = {"RGB": "RGB", "L": "L", "1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}
_PIL_TO_RGBA = {"RGBA", "LA", "La", "RGBa", "P", "PA"}

# A limit that keeps a mistaken resolution from allocating tens of GiB (16384 x 16384).
MAX_PIXELS = 1 << 28


def to_uint8_array(image) -> np.ndarray:
    """Return `image` as a uint8 array HxW, HxWx1, HxWx3 or HxWx4, or raise ValueError saying why not."""
    if isinstance(image, Image.Image):
        mode = image.mode
        if image.width * image.height > MAX_PIXELS:  # before decoding a lazily opened file
            raise ValueError(f"the PIL image is {image.width}x{image.height}, more than {MAX_PIXELS} pixels; "
                             "use a smaller image")
        if mode not in _PIL_TO_RGBA and mode not in _PIL_TO_RGB:
            raise ValueError(
                f"unsupported PIL image mode {mode!r} (16-bit or float pixels); expected {ACCEPTED}. "
                "Convert it to 8-bit first, e.g. image.convert('RGB')."
            )
        try:  # a lazily opened file is decoded here
            image = image.convert("RGBA" if mode in _PIL_TO_RGBA else _PIL_TO_RGB[mode])
        except (OSError, SyntaxError, EOFError) as err:  # what PIL raises for truncated or corrupt data
            raise ValueError(f"the PIL image could not be decoded ({err}): the file is truncated or corrupt") from err
        array = np.asarray(image)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise ValueError(f"expected {ACCEPTED}; got {type(image).__module__}.{type(image).__qualname__}")

    if array.dtype != np.uint8:
        raise ValueError(
            f"expected {ACCEPTED}; got an array of dtype {array.dtype}. "
            "Scale float images to 0..255 and 16-bit images to 8 bits, then cast to uint8."
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected {ACCEPTED}; got an array of shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected {ACCEPTED}; got an empty image of shape {array.shape}")
    return array


def HWC3(x: np.ndarray) -> np.ndarray:
    """Grey -> 3 channels, RGBA -> composited over white, RGB unchanged (ControlNet's rule)."""
    x = to_uint8_array(x)
    if x.ndim == 2:
        x = x[:, :, None]
    channels = x.shape[2]
    if channels == 3:
        return x
    if channels == 1:
        return np.concatenate([x, x, x], axis=2)
    color = x[:, :, 0:3].astype(np.float32)
    alpha = x[:, :, 3:4].astype(np.float32) / 255.0
    y = color * alpha + 255.0 * (1.0 - alpha)
    return y.clip(0, 255).astype(np.uint8)


def resized_shape(height: int, width: int, resolution: int) -> tuple[int, int]:
    """(H, W) that `resize_image` produces: shorter side to `resolution`, both sides rounded to 64."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 1:
        raise ValueError(f"resolution must be a positive integer, got {resolution!r}")
    k = float(resolution) / min(float(height), float(width))
    new_h = int(np.round(float(height) * k / 64.0)) * 64
    new_w = int(np.round(float(width) * k / 64.0)) * 64
    if new_h == 0 or new_w == 0:
        raise ValueError(
            f"resolution {resolution} turns a {width}x{height} image into {new_w}x{new_h}; "
            "use a resolution of at least 64 or a less elongated image"
        )
    if new_h * new_w > MAX_PIXELS:
        raise ValueError(
            f"resolution {resolution} turns a {width}x{height} image into {new_w}x{new_h}, "
            f"more than {MAX_PIXELS} pixels; use a smaller resolution or crop the image"
        )
    return new_h, new_w


def resize_image(input_image: np.ndarray, resolution: int) -> np.ndarray:
    """ControlNet 1.1's resize: shorter side to `resolution`, sides rounded to multiples of 64."""
    height, width = input_image.shape[:2]
    new_h, new_w = resized_shape(height, width, resolution)
    k = float(resolution) / min(float(height), float(width))
    interpolation = cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA
    return cv2.resize(input_image, (new_w, new_h), interpolation=interpolation)
