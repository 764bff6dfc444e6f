"""DWPose whole-body pose estimation and the `dw_openpose_full` pose map for ControlNet."""

from .detector import DWposeDetector
from .poses import Poses
from .render import draw_poses
from .session import PrecisionFallbackWarning, ProviderFallbackWarning
from .weights import WeightsError

__all__ = ["DWposeDetector", "Poses", "PrecisionFallbackWarning", "ProviderFallbackWarning", "WeightsError", "draw_poses"]
