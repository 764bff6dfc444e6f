"""dwpose-annotator: DWPose whole-body pose estimation and the `dw_openpose_full` pose map for ControlNet and
pose-guided video models.

The public API is what this module exports (__all__); the subpackages named below are public too, for
those who compose their own flow. Every import points down this list:

errors.py, optional.py   the errors and warnings; the optional packages and the extras that install them
skeleton.py              the OpenPose-134 layout as named data (parts, joints, limbs, colours)
formats/                 OpenPose JSON, POSE_KEYPOINT, pose dicts, npz, COCO-WholeBody, Parquet rows: written, read
poses.py                 Poses: the people of one image (to_* / from_* reach the formats)
images.py                the image loader, HWC3, ControlNet's resize rules
opencv4.py               OpenCV 4.11's warpAffine and thick lines, bit for bit under any OpenCV
weights.py, runtime/     where weights come from; how models run (backends, providers, precision, caches)
models/                  the person detectors (YOLOX, RTMDet) and the SimCC pose model, one file each
render/                  PoseMapOptions, draw_poses, one module per style
video/                   PyAV io, tracking, smoothing, alignment, the tracker, pose videos as files
pose_files.py            pose files of any format read back frame by frame, and their maps as files
wan_pose.py, wan_preprocess.py, wan_retarget.py  Wan 2.2 Animate's pose metas, preprocessing steps, retargeting
pipeline.py              DWposeDetector: find people -> poses -> maps, for images and videos
batch/, ray.py           resumable batch runs; Ray Data;   evaluation/  COCO-WholeBody AP / AR
cli/                     the command line (python -m annotator.dwpose)
private_import.py        the hosts' loader under a private module name
"""

from __future__ import annotations

import importlib

from .errors import (DWposeError, EvaluationError, ImageError, MissingDependencyError, PoseFormatError,
                     PrecisionFallbackWarning, ProviderFallbackWarning, UnsupportedModelError, VideoError, WeightsError)
from .images import HWC3, aspect_kept_shape, check_size, load_image, resize_keeping_aspect, resize_pose_map
from .models import NO_DETECTOR
from .pipeline import DWposeDetector
from .pose_files import POSE_FILE_SUFFIXES, PoseSequence, read_pose_file, read_pose_frames, write_pose_maps
from .poses import Poses
from .render import STICK_RULES, STYLES, PoseMapOptions, draw_pose_map, draw_poses
from .runtime.torch_session import torch_gpu
from .video import (DET_EVERY, TrackedFrame, TrackingOptions, VideoTracker, VideoWriter, WanAnimateInputs, align_poses,
                    read_video, wan_animate_inputs, write_pose_video, write_wan_animate_inputs)
from .weights import DET_FILENAME, HF_REPO_ID, POSE_FILENAME, resolve_weights

__version__ = "0.1.0"

# Parts that only some users need, imported on first use: name -> the module that defines it.
_LAZY = {"PoseAnnotator": "ray", "Job": "batch", "collect_items": "batch", "run_batch": "batch",
         "evaluate": "evaluation", "predict": "evaluation"}

__all__ = ["DET_EVERY", "DET_FILENAME", "DWposeDetector", "DWposeError", "EvaluationError", "HF_REPO_ID", "HWC3",
           "ImageError", "MissingDependencyError", "NO_DETECTOR", "POSE_FILENAME", "POSE_FILE_SUFFIXES",
           "PoseFormatError", "PoseMapOptions", "PoseSequence", "Poses", "PrecisionFallbackWarning",
           "ProviderFallbackWarning", "STICK_RULES", "STYLES", "TrackedFrame", "TrackingOptions",
           "UnsupportedModelError", "VideoError", "VideoTracker", "VideoWriter", "WeightsError", "align_poses",
           "aspect_kept_shape", "check_size", "draw_pose_map", "draw_poses", "load_image", "read_pose_file",
           "read_pose_frames", "read_video", "resize_keeping_aspect", "resize_pose_map", "resolve_weights",
           "torch_gpu", "write_pose_maps", "write_pose_video", "WanAnimateInputs", "wan_animate_inputs",
           "write_wan_animate_inputs", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
