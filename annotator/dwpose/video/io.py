"""Video files in and out with PyAV (the optional extra `[video]`): frames as a stream, never all in memory.

read_video yields upright RGB frames with their timestamps; VideoWriter encodes H.264 (yuv420p, even
sides) with given timestamps; resample picks the frames of a constant frame rate; timed_frames gives any
video source (a file, VideoFrames, or plain images) as (index, time, image).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import cv2
import numpy as np
from PIL import Image

from ..errors import VideoError
from ..optional import require

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}


@dataclass
class VideoFrame:
    index: int  # position in the file, from 0
    time: float  # seconds from the start of the stream
    image: np.ndarray  # HxWx3 uint8 RGB, upright


def video_info(path) -> dict:
    """{"fps": average frame rate (float), "frames": count or None, "duration": seconds or None}."""
    av = require("av", "video")
    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            return {"fps": float(rate) if rate else None, "frames": stream.frames or None,
                    "duration": _declared_duration(container, stream)}
    except (av.FFmpegError, IndexError) as err:
        raise VideoError(f"{path}: not a readable video ({_reason(err)})") from err


def _declared_duration(container, stream) -> float | None:
    """Seconds the stream (else the container) header says the video lasts, or None."""
    if stream.duration:
        return float(stream.duration * stream.time_base)
    return container.duration / 1e6 if container.duration else None


def read_video(path, start: float | None = None, end: float | None = None) -> Iterator[VideoFrame]:
    """The frames of the first video stream of `path` whose time is in [start, end), decoded one at a time,
    rotated upright as the file's display matrix says. A file that cannot be read, or that breaks off,
    raises VideoError naming the file and the last frame reached."""
    av = require("av", "video")
    index, last = -1, None
    try:
        container = av.open(os.fspath(path))
    except (av.FFmpegError, OSError) as err:
        raise VideoError(f"{path}: not a readable video ({_reason(err)})") from err
    with container:
        if not container.streams.video:
            raise VideoError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or 30)
        declared = _declared_duration(container, stream)
        time = None
        try:
            for frame in container.decode(stream):
                index += 1
                time = float(frame.pts * stream.time_base) if frame.pts is not None else index / rate
                if start is not None and time < start:
                    continue
                if end is not None and time >= end:
                    break
                image = frame.to_ndarray(format="rgb24")
                rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                if rotation:  # counter-clockwise degrees of the display matrix
                    image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
                last = index
                yield VideoFrame(index, time, image)
        except av.FFmpegError as err:
            reached = "no frame was decoded" if last is None else f"the last frame decoded was frame {last}"
            raise VideoError(f"{path}: the video breaks off ({_reason(err)}); {reached}") from err
    if index < 0:
        raise VideoError(f"{path}: the video stream has no frames")
    # FFmpeg stops quietly where a file is cut off: compare with the duration its header declares.
    if end is None and declared and time is not None and time < declared - 1.5 / rate:
        raise VideoError(f"{path}: the video ends early (truncated?) at {time:.2f} s of {declared:.2f} s; "
                         f"the last frame decoded was frame {index}")


def resample(frames, fps: float) -> Iterator[VideoFrame]:
    """The frames at a constant `fps` from the first frame's time: output frame k (timed k / fps) is the
    latest input frame at or before that time, so frames are dropped or repeated."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    k, start, previous = 0, None, None
    for frame in frames:
        start = frame.time if start is None else start
        while previous is not None and start + k / fps < frame.time - 1e-9:
            yield VideoFrame(k, k / fps, previous.image)
            k += 1
        previous = frame
    while previous is not None and start + k / fps <= previous.time + 1e-9:
        yield VideoFrame(k, k / fps, previous.image)
        k += 1


class VideoWriter:
    """H.264 (yuv420p) video, frames written with their times in seconds. Sides are made even by
    dropping the last row / column. Use as a context manager: the file is closed properly on errors too."""

    def __init__(self, path, fps: float, crf: int = 18):
        self.path, self.fps, self.crf = os.fspath(path), float(fps), crf
        self.container = self.stream = None
        self.size = None
        self.last_pts = -1
        self.frames = 0

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self, image: np.ndarray, time: float) -> None:
        av = require("av", "video")
        height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
        if self.container is None:
            self.container = av.open(self.path, "w")
            self.stream = self.container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(100000))
            self.stream.width, self.stream.height = width, height
            self.stream.pix_fmt = "yuv420p"
            self.stream.time_base = Fraction(1, 90000)
            self.stream.options = {"crf": str(self.crf)}
            self.size = (height, width)
        if (height, width) != self.size:
            image = cv2.resize(image, (self.size[1], self.size[0]), interpolation=cv2.INTER_LINEAR)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:self.size[0], :self.size[1]]), format="rgb24")
        pts = max(int(round(time * 90000)), self.last_pts + 1)  # strictly increasing
        frame.pts, frame.time_base = pts, Fraction(1, 90000)
        self.last_pts = pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self.container is None:
            return
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()
            self.container = None


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0]


def video_size(path) -> tuple[int, int]:
    """(width, height) of the video's first frame, upright."""
    frames = read_video(path)
    try:
        image = next(frames).image
    finally:
        frames.close()
    return image.shape[1], image.shape[0]


def timed_frames(frames, fps: float) -> Iterator[tuple[int, float | None, object]]:
    """(index, time in seconds or None, image) of each frame of `frames`: a video file path (read_video: its
    own timestamps), VideoFrames (their own index and time), or an iterable of images (PIL or arrays, timed
    index / `fps`). A single image is a TypeError: it is not the frames of a video."""
    if isinstance(frames, (str, os.PathLike)):
        for frame in read_video(frames):
            yield frame.index, frame.time, frame.image
        return
    if isinstance(frames, Image.Image) or (isinstance(frames, np.ndarray) and frames.ndim <= 3):
        raise TypeError("track() takes the frames of a video (an iterable of images) or a video file path, "
                        "not a single image; use detect() or annotate() for one image")
    for index, frame in enumerate(frames):
        if hasattr(frame, "image") and hasattr(frame, "time"):  # a VideoFrame: its own index and time
            yield frame.index, frame.time, frame.image
        else:
            yield index, index / fps, frame
