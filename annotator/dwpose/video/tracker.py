"""Pose maps of the frames of one video: VideoTracker wraps a pipeline (DWposeDetector, whose track() is the
door to it) and keeps identities across frames, running the person detector only every few frames.

The person detector runs every `det_every` frames; in between, each person's box comes from its keypoints
on the previous frame (tracking.keypoint_boxes), and the detector runs at once when a person's keypoint
scores collapse or two people's keypoints coincide. On a frame where the detector runs, the keypoints equal
the pipeline's detect() on that frame bit for bit (before smoothing).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from ..images import HWC3, resize_for_detection, resized_shape
from ..poses import Poses
from ..render import PoseMapOptions, draw_pose_map
from .io import timed_frames
from .smoothing import PoseSmoother
from .tracking import PoseTracker, collapsed, duplicated, keypoint_boxes, select_people

DET_EVERY = 8  # frames per person-detector run; why 8: README, "Video" (bench/VIDEO_RESULTS.md)


@dataclass
class TrackedFrame:
    """One frame of a tracked video: its index, time in seconds (None when unknown), the pose map (uint8 RGB
    at the image_resolution size; None when the tracker draws no maps) and the poses it shows (with track_ids, in pixels of the detect_resolution
    canvas)."""

    index: int
    time: float | None
    pose_map: np.ndarray | None
    poses: Poses


@dataclass(frozen=True)
class TrackingOptions:
    """How the people of a video are followed.

    det_every: run the person detector every this many frames (people are tracked in between);
    max_people: at most this many people per frame, biggest first; people: "largest", "center" or a list of
    track ids to keep; fallback_whole_image: on a frame with nobody, run the pose model on the whole frame
    (the reference's fallback; off for videos); smooth: a One-Euro filter per keypoint with min_cutoff (Hz),
    beta and d_cutoff (Hz), driven by the frame times; redetect: between detector runs, run it at once when
    a person's keypoint scores collapse or two people's keypoints coincide (False: the detector runs every
    det_every frames and only then, a fixed schedule).
    """

    det_every: int = DET_EVERY
    max_people: int | None = None
    people: str | Sequence[int] | None = None
    fallback_whole_image: bool = False
    smooth: bool = False
    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0
    redetect: bool = True

    def __post_init__(self):
        every = self.det_every
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"det_every must be a positive integer, got {every!r}")


class VideoTracker:
    """The poses and pose maps of the frames of one video, through `pipeline` (a DWposeDetector, or anything
    with its detect(image, boxes=, det_threshold=, fallback_whole_image=)).

    `tracking`: a TrackingOptions; `detect_resolution`: ControlNet's resize of each frame before detection
    (None: the frame as it is); `image_resolution`: the maps' shorter side (None: no maps, for callers that
    draw their own: TrackedFrame.pose_map is None); `options`: the PoseMapOptions of the maps; `det_threshold`: the person detector's minimum score (default: the pipeline's).
    """

    def __init__(self, pipeline, tracking: TrackingOptions | None = None, *, detect_resolution: int | None = 512,
                 image_resolution: int | None = 512, options: PoseMapOptions | None = None,
                 det_threshold: float | None = None):
        self.pipeline = pipeline
        self.tracking = tracking or TrackingOptions()
        self.detect_resolution, self.image_resolution = detect_resolution, image_resolution
        self.options = PoseMapOptions.build(options)
        self.det_threshold = det_threshold

    def track(self, frames, fps: float = 30.0) -> Iterator[TrackedFrame]:
        """One TrackedFrame per frame, lazily. `frames`: an iterable of images (PIL or arrays; their times are
        index / `fps`), VideoFrames, or a video file path (read with PyAV: its own timestamps, upright).
        Frames with nobody give no people and a black map (unless tracking.fallback_whole_image)."""
        tracking = self.tracking
        tracker = PoseTracker()
        smoother = PoseSmoother(tracking.min_cutoff, tracking.beta, tracking.d_cutoff) if tracking.smooth else None
        previous = None
        for index, time, image in timed_frames(frames, fps):
            rgb = HWC3(image)
            detect_image = resize_for_detection(rgb, self.detect_resolution)
            poses = self._between_detections(detect_image, previous, index)
            if poses is None:
                poses = self.pipeline.detect(detect_image, det_threshold=self.det_threshold,
                                             fallback_whole_image=tracking.fallback_whole_image)
            poses.track_ids = tracker.assign(poses)
            previous = poses
            shown = poses.subset(select_people(poses, tracking.max_people, tracking.people))
            if smoother is not None:
                shown = smoother(shown, time if time is not None else index / fps)
            pose_map = None if self.image_resolution is None else draw_pose_map(
                shown, *resized_shape(rgb.shape[0], rgb.shape[1], self.image_resolution), self.options)
            yield TrackedFrame(index, time, pose_map, shown)

    def _between_detections(self, detect_image: np.ndarray, previous: Poses | None, index: int) -> Poses | None:
        """The poses found in the boxes of the previous frame's keypoints, or None where the detector must run:
        on every det_every-th frame, after a frame with nobody or of another size, and (with redetect) where
        the keypoints collapsed or two people's coincide."""
        if previous is None or not len(previous) or index % self.tracking.det_every == 0:
            return None
        if (previous.height, previous.width) != detect_image.shape[:2]:
            return None
        poses = self.pipeline.detect(detect_image, boxes=keypoint_boxes(previous), fallback_whole_image=False)
        poses.box_scores[:] = previous.box_scores
        lost = self.tracking.redetect and (collapsed(poses).any() or duplicated(poses))
        return None if lost else poses
