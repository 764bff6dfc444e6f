"""DWPose whole-body pose estimation and the `dw_openpose_full` pose map for ControlNet.

Layout: detector.py (DWposeDetector: the pipeline); detection.py, yolox.py, rtmdet.py (person
detectors); rtmpose.py (the SimCC pose model); poses.py (the 133 -> OpenPose layout and the result
formats); render.py (PoseMapOptions and the renderer); weights.py (finding and downloading weights);
tracking.py, video.py (video: identities, smoothing, PyAV); align.py (alignment to a reference person,
for pose-guided video models); runtime/ (how the models run: backends, providers, precision, shared
sessions, the disk cache).
"""

from .align import align_poses
from .detector import DWposeDetector
from .poses import Poses
from .render import PoseMapOptions, draw_poses
from .runtime import PrecisionFallbackWarning, ProviderFallbackWarning
from .weights import WeightsError

__all__ = ["DWposeDetector", "PoseMapOptions", "Poses", "PrecisionFallbackWarning", "ProviderFallbackWarning",
           "WeightsError", "align_poses", "draw_poses"]
