"""Video: files in and out (io.py, PyAV only), identities across frames (tracking.py), One-Euro smoothing
(smoothing.py), alignment to a reference person (align.py), the tracker that runs a pipeline over a video
(tracker.py), pose videos written as files (export.py), and Wan 2.2 Animate's inputs (wan_animate.py; its
replacement masks through SAM2 in wan_replace.py).

Reading and writing video files needs PyAV (`pip install "dwpose-annotator[video]"`); the rest does not.
"""

from ..errors import VideoError
from .align import align_poses
from .export import write_pose_video
from .io import VIDEO_SUFFIXES, VideoFrame, VideoWriter, read_video, resample, timed_frames, video_info, video_size
from .smoothing import OneEuroFilter, PoseSmoother
from .tracker import DET_EVERY, TrackedFrame, TrackingOptions, VideoTracker
from .tracking import PoseTracker, select_people
from .wan_animate import WanAnimateInputs, wan_animate_inputs, write_wan_animate_inputs

__all__ = ["DET_EVERY", "OneEuroFilter", "PoseSmoother", "PoseTracker", "TrackedFrame", "TrackingOptions",
           "VIDEO_SUFFIXES", "VideoError", "VideoFrame", "VideoTracker", "VideoWriter", "align_poses", "read_video",
           "resample", "select_people", "timed_frames", "video_info", "video_size", "write_pose_video",
           "WanAnimateInputs", "wan_animate_inputs", "write_wan_animate_inputs"]
