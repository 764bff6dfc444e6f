"""The errors and warnings of dwpose-annotator, in one place.

Every error the library raises on purpose is a DWposeError; each kind also derives from the built-in
exception that code written before it existed catches (OSError for files, ValueError for bad values,
ImportError for missing packages), so `except OSError` and `except DWposeError` both work.
"""

from __future__ import annotations


class DWposeError(Exception):
    """Base class of the errors dwpose-annotator raises on purpose; the message says what to do."""


class WeightsError(DWposeError, OSError):
    """A weight file is missing, truncated, corrupt or not ONNX; the message names the file, what was expected
    and how to fix it."""


class UnsupportedModelError(WeightsError):
    """An op (or attribute) the torch backend's ONNX interpreter does not know; the message names the op type,
    the node and the model."""


class ImageError(DWposeError, ValueError):
    """An image that cannot be used: not an image, truncated or corrupt, too big, or of an unusable type;
    the message says why."""


class VideoError(DWposeError, OSError):
    """A video could not be read or written; the message names the file and the last frame reached."""


class EvaluationError(DWposeError, ValueError):
    """A ground-truth or prediction file that cannot be evaluated."""


class PoseFormatError(DWposeError, ValueError):
    """Pose data (a file, a JSON object, a POSE_KEYPOINT, an npz or a table row) that cannot be read; the message
    names the field (e.g. people[0].hand_left_keypoints_2d) and what was expected there."""


class MissingDependencyError(DWposeError, ImportError):
    """An optional package a feature needs is not installed; the message names the extra to install."""


class ProviderFallbackWarning(RuntimeWarning):
    """An execution provider could not be used and the model runs on another one (usually the CPU)."""


class PrecisionFallbackWarning(RuntimeWarning):
    """The requested fast precision is not available here; the models run in exact fp32 instead."""
