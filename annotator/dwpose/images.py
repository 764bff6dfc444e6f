"""Images in: the one image file loader, the accepted arrays (HWC3: grey, RGBA), and ControlNet 1.1's exact
resize rules (the detection input, the pose map's size)."""

from __future__ import annotations

import io
import os
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps

from .errors import ImageError

ACCEPTED = (
    "a PIL image or a numpy array of dtype uint8 shaped HxW, HxWx1 (grey), "
    "HxWx3 (RGB) or HxWx4 (RGBA)"
)

# PIL modes that convert to 8-bit RGB(A) without losing meaning; 16-bit and float modes are refused.
_PIL_TO_RGB = {"RGB": "RGB", "L": "L", "1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}
_PIL_TO_RGBA = {"RGBA", "LA", "La", "RGBa", "P", "PA"}

# A limit that keeps a mistaken resolution from allocating tens of GiB (16384 x 16384).
MAX_PIXELS = 1 << 28
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def load_image(path: str | os.PathLike, *, upright: bool = True, max_pixels: int | None = None) -> np.ndarray:
    """The image file at `path` as an HxWx3 uint8 RGB array, as the pipeline takes it (HWC3: grey to three
    channels, RGBA composited over white); 16-bit and 32-bit grey images (16-bit PNGs, TIFFs) are scaled to
    8 bits and float ones clipped to 0..255.

    `upright`: turned as its EXIF orientation says (phones store portrait photos rotated); False keeps the
    stored pixels (what COCO annotates). `max_pixels`: refuse bigger images, from the header, before
    decoding (default: PIL's decompression-bomb limits).
    Raises what PIL raises for a file it cannot read (OSError: missing, not an image, truncated;
    Image.DecompressionBombError above its limit), and ImageError (a ValueError) above `max_pixels` or for
    data PIL fails on otherwise.
    """
    with warnings.catch_warnings():
        if max_pixels is not None:  # a limit of ours, checked from the header, replaces PIL's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return _decoded(path, upright, max_pixels)
        except ValueError as err:
            if isinstance(err, ImageError):
                raise
            # PIL maps an uncompressed file into memory and refuses one shorter than its header says ("buffer is
            # not large enough") where it decodes the same bytes read into memory: read them so.
            with open(path, "rb") as file:
                return _decoded(io.BytesIO(file.read()), upright, max_pixels)


def _decoded(source, upright: bool, max_pixels: int | None) -> np.ndarray:
    """load_image's decoding of a path or a file object."""
    with Image.open(source) as image:
        if max_pixels is not None:
            check_size(*image.size, max_pixels)
        try:
            image = ImageOps.exif_transpose(image) if upright else image
            image.load()
        except (SyntaxError, EOFError) as err:  # corrupt data (PIL's OSError for it goes to the caller as it is)
            raise ImageError(f"the image file is truncated or corrupt ({err})") from None
        return HWC3(_eight_bit(image))


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey images scaled to 8 bits; float images clipped to 0..255; other modes as they are
    (to_uint8_array converts the 8-bit ones)."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        grey = np.asarray(image, dtype=np.float64) / 257.0  # 0..65535 -> 0..255
        return Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    if image.mode == "F":
        return image.convert("L")
    return image


def check_size(width: int, height: int, max_pixels: int) -> None:
    """ImageError when a width x height image has more than `max_pixels` pixels (a host's upload limit)."""
    if width * height > max_pixels:
        raise ImageError(f"the image is {width}x{height} pixels, more than the {max_pixels / 1e6:.1f} megapixels "
                         "accepted; use a smaller image")


def to_uint8_array(image) -> np.ndarray:
    """Return `image` as a uint8 array HxW, HxWx1, HxWx3 or HxWx4, or raise ImageError (a ValueError) saying why not."""
    if isinstance(image, Image.Image):
        mode = image.mode
        if image.width * image.height > MAX_PIXELS:  # before decoding a lazily opened file
            raise ImageError(f"the PIL image is {image.width}x{image.height}, more than {MAX_PIXELS} pixels; "
                             "use a smaller image")
        if mode not in _PIL_TO_RGBA and mode not in _PIL_TO_RGB:
            raise ImageError(
                f"unsupported PIL image mode {mode!r} (16-bit or float pixels); expected {ACCEPTED}. "
                "Convert it to 8-bit first, e.g. image.convert('RGB')."
            )
        try:  # a lazily opened file is decoded here
            image = image.convert("RGBA" if mode in _PIL_TO_RGBA else _PIL_TO_RGB[mode])
        except (OSError, SyntaxError, EOFError) as err:  # what PIL raises for truncated or corrupt data
            raise ImageError(f"the PIL image could not be decoded ({err}): the file is truncated or corrupt") from err
        array = np.asarray(image)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise ImageError(f"expected {ACCEPTED}; got {type(image).__module__}.{type(image).__qualname__}")

    if array.dtype != np.uint8:
        raise ImageError(
            f"expected {ACCEPTED}; got an array of dtype {array.dtype}. "
            "Scale float images to 0..255 and 16-bit images to 8 bits, then cast to uint8."
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(f"expected {ACCEPTED}; got an array of shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"expected {ACCEPTED}; got an empty image of shape {array.shape}")
    return array


def HWC3(x) -> np.ndarray:
    """`x` (a PIL image or a uint8 array HxW, HxWx1, HxWx3, HxWx4) as an HxWx3 uint8 RGB array, by ControlNet's
    rule: grey -> 3 channels, RGBA -> composited over white, RGB unchanged (the same array). ImageError (a
    ValueError) saying why for anything else."""
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


def _check_resolution(resolution) -> None:
    """ValueError unless `resolution` is a positive integer (bools refused)."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 1:
        raise ValueError(f"resolution must be a positive integer, got {resolution!r}")


def resized_shape(height: int, width: int, resolution: int) -> tuple[int, int]:
    """(H, W) that `resize_image` produces: shorter side to `resolution`, both sides rounded to 64."""
    _check_resolution(resolution)
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


def resize_for_detection(rgb: np.ndarray, detect_resolution: int | None) -> np.ndarray:
    """The image detection runs on: ControlNet's resize (resize_image) to `detect_resolution`, or `rgb`
    itself when it is None."""
    return rgb if detect_resolution is None else resize_image(rgb, detect_resolution)


def resize_pose_map(canvas: np.ndarray, height: int, width: int, image_resolution: int,
                    keep_aspect: bool = False) -> np.ndarray:
    """A pose map drawn at the detection size, resized (INTER_LINEAR) to the size that ControlNet's rule gives a
    height x width image at `image_resolution` (resized_shape: sides of multiples of 64), or with
    `keep_aspect` the size that keeps its aspect ratio (aspect_kept_shape, as comfyui_controlnet_aux does)."""
    out_h, out_w = (aspect_kept_shape if keep_aspect else resized_shape)(height, width, image_resolution)
    return cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def aspect_kept_shape(height: int, width: int, resolution: int) -> tuple[int, int]:
    """(H, W) with the shorter side `resolution` and the aspect ratio kept: each side round(side * k), as the web
    UIs and comfyui_controlnet_aux size their maps."""
    _check_resolution(resolution)
    k = float(resolution) / float(min(height, width))
    new_h, new_w = int(np.round(height * k)), int(np.round(width * k))
    if new_h < 1 or new_w < 1 or new_h * new_w > MAX_PIXELS:
        raise ValueError(f"resolution {resolution} turns a {width}x{height} image into {new_w}x{new_h}")
    return new_h, new_w


def resize_keeping_aspect(image: np.ndarray, resolution: int) -> np.ndarray:
    """The web UIs' and comfyui_controlnet_aux's resize (their resize_image_with_pad before the padding): to
    aspect_kept_shape, INTER_CUBIC when enlarging, INTER_AREA when shrinking."""
    height, width = image.shape[:2]
    new_h, new_w = aspect_kept_shape(height, width, resolution)
    enlarging = float(resolution) / float(min(height, width)) > 1
    return cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA)


def resize_image(input_image: np.ndarray, resolution: int) -> np.ndarray:
    """ControlNet 1.1's resize: shorter side to `resolution`, sides rounded to multiples of 64."""
    height, width = input_image.shape[:2]
    new_h, new_w = resized_shape(height, width, resolution)
    k = float(resolution) / min(float(height), float(width))
    interpolation = cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA
    return cv2.resize(input_image, (new_w, new_h), interpolation=interpolation)
