"""What the readers share: values checked as they are read, each error naming the field it is about."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import PoseFormatError


def describe(value) -> str:
    """A short description of a value for an error message: its type, and the value itself when it is short."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__


def is_number(value) -> bool:
    """A real number (int, float, numpy number); not a bool, not a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def image_size(value, field: str) -> int:
    """A width or height: a positive whole number (512 or 512.0)."""
    if not is_number(value) or not float(value).is_integer() or not 0 < value < 2**31:
        raise PoseFormatError(f"{field}: expected a positive whole number of pixels, got {describe(value)}")
    return int(value)


def numbers_array(value, field: str, shape: tuple) -> np.ndarray:
    """`value` (nested lists or an array) as a float64 array of `shape` (None in the shape: any length)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        array = value.astype(np.float64)
    else:
        try:
            array = np.array(value, dtype=object)
        except ValueError:  # ragged lists
            raise PoseFormatError(f"{field}: expected an array of shape {_shape_text(shape)}, got ragged lists") from None
        for index in np.ndindex(array.shape):
            if not is_number(array[index]):
                where = "".join(f"[{i}]" for i in index)
                raise PoseFormatError(f"{field}{where}: expected a number, got {describe(array[index])}")
        array = array.astype(np.float64)
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        raise PoseFormatError(f"{field}: expected an array of shape {_shape_text(shape)}, got shape {array.shape}")
    return array


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("N" if size is None else str(size) for size in shape) + ")"


def point_triplets(value, field: str, counts: tuple[int, ...]) -> np.ndarray | None:
    """An OpenPose keypoint list as a float64 (K, 3) array of (x, y, confidence), K one of `counts`; None when
    the part is absent (missing, None or an empty list). Flat [x, y, c, x, y, c, ...] lists, as OpenPose and
    the hosts write them, and lists of [x, y, c] points are read."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return None
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise PoseFormatError(f"{field}: expected a list of x, y, confidence values, got {describe(value)}")
    nested = len(value) > 0 and isinstance(value[0], (list, tuple, np.ndarray))
    if nested:
        for k, point in enumerate(value):
            if not isinstance(point, (list, tuple, np.ndarray)) or len(point) != 3:
                size = len(point) if isinstance(point, (list, tuple, np.ndarray)) else None
                got = f"{size} values" if size is not None else describe(point)
                raise PoseFormatError(f"{field}[{k}]: expected a point [x, y, confidence], got {got}"
                                      + (" (x, y without a confidence: add 1 for a shown point, 0 for a hidden one)"
                                         if size == 2 else ""))
        points = numbers_array(value, field, (None, 3))
    else:
        points = numbers_array(value, field, (None,))
        if len(points) % 3 or len(points) // 3 not in counts:
            pairs = len(points) % 2 == 0 and len(points) // 2 in counts
            raise PoseFormatError(
                f"{field}: expected {' or '.join(str(3 * c) for c in counts)} values ({' or '.join(map(str, counts))} "
                f"points of x, y, confidence), got {len(points)}"
                + (" (x, y pairs without confidences: write x, y, 1 for a shown point, 0, 0, 0 for a hidden one)"
                   if pairs else ""))
        points = points.reshape(-1, 3)
    if len(points) not in counts:
        raise PoseFormatError(f"{field}: expected {' or '.join(map(str, counts))} points, got {len(points)}")
    return points
