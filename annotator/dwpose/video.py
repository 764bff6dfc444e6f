"""Video files in and out with PyAV (the optional extra `[video]`): frames as a stream, never all in memory.

read_video yields upright RGB frames with their timestamps; VideoWriter encodes H.264 (yuv420p, even
sides) with given timestamps; resample picks the frames of a constant frame rate.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np


class VideoError(OSError):
    """A video could not be read or written; the message names the file and the last frame reached."""


@dataclass
class VideoFrame:
    index: int  # position in the file, from 0
    time: float  # seconds from the start of the stream
    image: np.ndarray  # HxWx3 uint8 RGB, upright


def _av():
    try:
        import av
    except ImportError as err:
        raise ImportError('video needs PyAV: pip install "dwpose-annotator[video]"') from err
    return av


def video_info(path) -> dict:
    """{"fps": average frame rate (float), "frames": count or None, "duration": seconds or None}."""
    av = _av()
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
    av = _av()
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
        av = _av()
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
            import cv2

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


def write_pose_video(detector, path, out_dir, *, det_every: int | None = None, smooth: bool = False,
                     fps: float | None = None, start: float | None = None, end: float | None = None,
                     png_frames: bool = False, max_people: int | None = None, people=None,
                     detect_resolution: int | None = 512, image_resolution: int = 512, options=None,
                     progress=None, align_to=None, align_method: str = "mimicmotion") -> tuple:
    """Stream the video at `path` through detector.track into <out_dir>/<name>_pose.mp4 and <name>.jsonl
    (and <name>/<frame:06d>.png with `png_frames`); returns their paths. `fps` resamples; `progress` wraps
    the frame iterator (e.g. a tqdm bar). On a VideoError the files hold every frame done so far.

    `align_to`: a reference image (RGB array or PIL image): the poses are aligned to its person
    (align.align_poses with `align_method`) and drawn on its canvas, at its image_resolution size. The
    alignment needs every frame's poses first, so the video's poses are gathered (not its frames or maps)
    and the files are written after the last frame; a video that breaks off is aligned and written up to
    there before the error is raised."""
    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rate = fps or video_info(path)["fps"] or 30.0
    frames = read_video(path, start, end)
    if fps:
        frames = resample(frames, fps)
    kwargs = {} if det_every is None else {"det_every": det_every}
    tracked = detector.track(frames, smooth=smooth, max_people=max_people, people=people, fps=rate,
                             detect_resolution=detect_resolution, image_resolution=image_resolution, options=options,
                             **kwargs)
    tracked = progress(tracked) if progress else tracked
    if align_to is None:
        return _write_frames(((f.time, f.pose_map, f.poses) for f in tracked), path, out_dir, rate, png_frames, options)
    return _write_aligned(detector, tracked, align_to, align_method, path, out_dir, rate, png_frames,
                          detect_resolution, image_resolution, options)


def _write_aligned(detector, tracked, reference_image, method, path, out_dir, rate, png_frames, detect_resolution,
                   image_resolution, options) -> tuple:
    from .align import align_poses
    from .detector import _detect_input, _map_at
    from .images import HWC3
    from .render import draw_poses

    reference_rgb = HWC3(reference_image)
    reference = detector.detect(_detect_input(reference_rgb, detect_resolution))
    times, driving, error = [], [], None
    try:
        for frame in tracked:
            times.append(frame.time)
            driving.append(frame.poses)
    except VideoError as err:  # align and keep what was read, then report it
        error = err
    aligned = align_poses(driving, reference, method)
    maps = ((time, _map_at(draw_poses(poses, options), reference_rgb, image_resolution), poses)
            for time, poses in zip(times, aligned))
    written = _write_frames(maps, path, out_dir, rate, png_frames, options)
    if error is not None:
        raise error
    return written


def _write_frames(frames, path: Path, out_dir: Path, rate: float, png_frames: bool, options) -> tuple:
    """(time, pose map, poses) of each frame into the mp4, the jsonl (and the PNGs); returns their paths."""
    import json

    from PIL import Image

    from .render import PoseMapOptions

    if png_frames:
        (out_dir / path.stem).mkdir(exist_ok=True)
    mp4, jsonl = out_dir / f"{path.stem}_pose.mp4", out_dir / f"{path.stem}.jsonl"
    threshold = PoseMapOptions.build(options).threshold
    with VideoWriter(mp4, rate) as writer, open(jsonl, "w", encoding="utf-8") as lines:
        first = None
        for number, (time, pose_map, poses) in enumerate(frames):
            first = time if first is None else first
            time = time - first  # the output starts at 0, keeping the input's spacing
            writer.write(pose_map, time)
            lines.write(json.dumps({"frame": number, "time": round(time, 6),
                                    **poses.to_openpose_json(threshold)}) + "\n")
            lines.flush()  # complete up to the last frame, whatever happens next
            if png_frames:
                Image.fromarray(pose_map).save(out_dir / path.stem / f"{number:06d}.png")
    return mp4, jsonl
