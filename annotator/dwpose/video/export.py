"""Pose videos as files: a video streamed through a pipeline's tracker into <name>_pose.mp4 (H.264) and
<name>.jsonl (one OpenPose JSON line per frame), optionally aligned to a reference person."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from ..errors import VideoError
from ..images import HWC3, resized_shape
from ..render import PoseMapOptions, draw_pose_map
from ..skeleton import THRESHOLD
from .align import align_poses
from .io import VideoWriter, read_video, resample, video_info
from .tracker import DET_EVERY, TrackingOptions, VideoTracker


def write_pose_video(detector, path, out_dir, *, det_every: int | None = None, smooth: bool = False,
                     fps: float | None = None, start: float | None = None, end: float | None = None,
                     png_frames: bool = False, max_people: int | None = None, people=None,
                     detect_resolution: int | None = 512, image_resolution: int = 512, options=None,
                     progress=None, align_to=None, align_method: str = "mimicmotion") -> tuple[Path, Path]:
    """Stream the video at `path` through a VideoTracker of `detector` (a DWposeDetector) into
    <out_dir>/<name>_pose.mp4 and <name>.jsonl (and <name>/<frame:06d>.png with `png_frames`); returns their
    paths. `fps` resamples; `progress` wraps the frame iterator (e.g. a tqdm bar). On a VideoError the files
    hold every frame done so far.

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
    tracking = TrackingOptions(DET_EVERY if det_every is None else det_every, max_people, people, smooth=smooth)
    tracked = VideoTracker(detector, tracking, detect_resolution=detect_resolution, image_resolution=image_resolution,
                           options=options).track(frames, fps=rate)
    tracked = progress(tracked) if progress else tracked
    if align_to is None:
        return _write_frames(((f.time, f.pose_map, f.poses) for f in tracked), path, out_dir, rate, png_frames, options)
    return _write_aligned(detector, tracked, align_to, align_method, path, out_dir, rate, png_frames,
                          detect_resolution, image_resolution, options)


def _write_aligned(detector, tracked, reference_image, method, path, out_dir, rate, png_frames, detect_resolution,
                   image_resolution, options) -> tuple[Path, Path]:
    reference_rgb = HWC3(reference_image)
    reference = detector.detect(reference_rgb, detect_resolution=detect_resolution)
    times, driving, error = [], [], None
    try:
        for frame in tracked:
            times.append(frame.time)
            driving.append(frame.poses)
    except VideoError as err:  # align and keep what was read, then report it
        error = err
    aligned = align_poses(driving, reference, method)
    height, width = reference_rgb.shape[:2]
    maps = ((time, draw_pose_map(poses, *resized_shape(height, width, image_resolution), options), poses)
            for time, poses in zip(times, aligned))
    written = _write_frames(maps, path, out_dir, rate, png_frames, options)
    if error is not None:
        raise error
    return written


def _write_frames(frames, path: Path, out_dir: Path, rate: float, png_frames: bool, options) -> tuple[Path, Path]:
    """(time, pose map, poses) of each frame into the mp4, the jsonl (and the PNGs); returns their paths."""
    mp4, jsonl = out_dir / f"{path.stem}_pose.mp4", out_dir / f"{path.stem}.jsonl"
    threshold = PoseMapOptions.build(options).threshold
    with open(jsonl, "w", encoding="utf-8") as lines:

        def maps():  # each frame's line written once its map is
            first = None
            for number, (time, pose_map, poses) in enumerate(frames):
                first = time if first is None else first
                time = time - first  # the output starts at 0, keeping the input's spacing
                yield time, pose_map
                lines.write(jsonl_line(number, time, poses, threshold))
                lines.flush()  # complete up to the last frame, whatever happens next

        write_frames(maps(), rate, mp4, out_dir / path.stem if png_frames else None)
    return mp4, jsonl


def jsonl_line(number: int, time: float, poses, threshold: float = THRESHOLD) -> str:
    """A pose video's jsonl line of one frame: {"frame", "time" (seconds, 6 decimals), the OpenPose JSON}."""
    return json.dumps({"frame": number, "time": round(time, 6), **poses.to_openpose_json(threshold)}) + "\n"


def write_frames(frames, fps: float, mp4: Path | None = None, png_dir: Path | None = None) -> list[Path]:
    """Each (time in seconds, HxWx3 uint8 RGB image) of `frames`, one at a time, into the H.264 `mp4` (None:
    none) and as <png_dir>/<frame:06d>.png (None: none); returns the paths written. The mp4 is closed properly
    whatever happens."""
    written = [] if mp4 is None else [Path(mp4)]
    if png_dir is not None:
        Path(png_dir).mkdir(parents=True, exist_ok=True)
    writer = None if mp4 is None else VideoWriter(mp4, fps)
    try:
        for number, (time, image) in enumerate(frames):
            if writer is not None:
                writer.write(image, time)
            if png_dir is not None:
                written.append(Path(png_dir) / f"{number:06d}.png")
                Image.fromarray(image).save(written[-1])
    finally:
        if writer is not None:
            writer.close()
    return written
