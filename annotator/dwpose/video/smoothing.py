"""One-Euro smoothing of keypoints across video frames, per track and keypoint, driven by the frame times."""

from __future__ import annotations

import math

import numpy as np

from ..poses import Poses


class OneEuroFilter:
    """The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) on arrays, driven by timestamps in seconds.

    `min_cutoff` (Hz) sets the smoothing of slow motion, `beta` how fast the cutoff rises with speed,
    `d_cutoff` (Hz) the smoothing of the speed estimate. Elements that are NaN start afresh.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self.value = self.speed = None
        self.time = None

    @staticmethod
    def _alpha(cutoff, dt):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.value is None or self.time is None or t <= self.time:
            self.value, self.speed, self.time = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self.time
        fresh = np.isnan(self.value) | np.isnan(x)
        speed = (x - self.value) / dt
        speed_alpha = self._alpha(self.d_cutoff, dt)
        self.speed = np.where(fresh, 0.0, speed_alpha * speed + (1 - speed_alpha) * self.speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self.speed)
        alpha = self._alpha(cutoff, dt)
        self.value = np.where(fresh, x, alpha * x + (1 - alpha) * self.value)
        self.time = t
        return self.value.copy()


class PoseSmoother:
    """A One-Euro filter per track and keypoint, in pixel space; a point that disappears starts afresh."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.settings = (min_cutoff, beta, d_cutoff)
        self.filters: dict = {}

    def __call__(self, poses: Poses, time: float) -> Poses:
        if poses.track_ids is None or len(poses) == 0:
            return poses
        shown = poses.visible()
        keypoints = poses.exact_keypoints.copy()
        for n, track_id in enumerate(poses.track_ids.tolist()):
            flt = self.filters.setdefault(track_id, OneEuroFilter(*self.settings))
            points = np.where(shown[n][:, None], keypoints[n], np.nan)
            smoothed = flt(points, time)
            keypoints[n] = np.where(shown[n][:, None], smoothed, keypoints[n])
        live = set(poses.track_ids.tolist())
        self.filters = {k: v for k, v in self.filters.items() if k in live}
        return Poses(keypoints, poses.scores, poses.boxes, poses.box_scores, poses.width, poses.height,
                     track_ids=poses.track_ids)
