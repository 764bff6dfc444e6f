"""Pose files of every format the project writes (and what other tools write in their place) read back as Poses,
frame by frame: what `render`, the gradio app and the hosts draw maps from. read_pose_frames reads the values
ComfyUI nodes pass instead of files (POSE_KEYPOINT, POSEDATA, JSON strings).

    .json     one OpenPose JSON frame (sd-webui-controlnet, its pose editor, OpenPose itself), a list of
              POSE_KEYPOINT frames (ComfyUI), a list of COCO-WholeBody result entries, or a pose dict
    .jsonl    a pose video's frames, one OpenPose JSON frame a line ({"frame", "time", ...})
    .npz      the Cog-style npz
    .parquet  the rows of `batch --table`, grouped by their source file
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import PoseFormatError
from .formats.checks import describe
from .formats.comfyui import is_posedata, read_posedata
from .formats.openpose_json import load_jsonl, load_openpose_json
from .formats.table import read_table
from .optional import require
from .poses import Poses
from .render import draw_pose_map
from .video.export import write_frames

POSE_FILE_SUFFIXES = (".json", ".jsonl", ".npz", ".parquet")
DEFAULT_FPS = 30.0


@dataclass
class PoseSequence:
    """The poses of one image (one frame) or of one video (its frames, in order) read from a pose file.

    name: what outputs are named after (the file's stem, or the source file's stem for table rows, with the
    image id for COCO results); frames: Poses per frame; times: each frame's time in seconds where the file
    says it (jsonl, table rows), else None; is_video: the frames are a video's (jsonl, POSE_KEYPOINT lists of
    several frames, table rows of video frames)."""

    name: str
    frames: list[Poses]
    times: list[float] | None
    is_video: bool


def read_pose_file(path: str | os.PathLike, width: int | None = None, height: int | None = None) -> list[PoseSequence]:
    """The pose sequences of the file at `path` (module docstring lists the formats).

    `width` x `height`: the size the coordinates refer to, for the formats that do not say it (npz, COCO results,
    pose dicts, OpenPose's own files); formats that say it ignore it. A file that is none of these, or data
    that is malformed, raises PoseFormatError naming the file and the field."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POSE_FILE_SUFFIXES:
        raise PoseFormatError(f"{path}: not a pose file (expected {', '.join(POSE_FILE_SUFFIXES)})")
    try:
        if suffix == ".npz":
            return [PoseSequence(path.stem, [Poses.from_npz(path, *_size(path, width, height))], None, False)]
        if suffix == ".parquet":
            return _table_sequences(path)
        if suffix == ".jsonl":
            lines = load_jsonl(path)
            frames = [_frame(line, width, height, f"line {number}") for number, line in enumerate(lines, start=1)]
            times = [line.get("time") for line in lines]
            return [PoseSequence(path.stem, frames, times if _all_numbers(times) else None, True)]
        return _json_sequences(path, load_openpose_json(path), width, height)
    except PoseFormatError as err:
        if str(err).startswith(str(path)):
            raise
        raise PoseFormatError(f"{path}: {err}") from None


def _json_sequences(path: Path, value, width, height) -> list[PoseSequence]:
    if isinstance(value, dict) and "bodies" in value:
        return [PoseSequence(path.stem, [Poses.from_pose_dict(value, *_size(path, width, height))], None, False)]
    if isinstance(value, dict):
        return [PoseSequence(path.stem, [Poses.from_openpose_json(value, width, height)], None, False)]
    if not isinstance(value, list) or not value:
        raise PoseFormatError(f"expected an OpenPose JSON object, a list of POSE_KEYPOINT frames or of COCO "
                              f"results, got {describe(value)}")
    if all(isinstance(item, dict) and "keypoints" in item and "people" not in item for item in value):
        size = _size(path, width, height)
        images: dict[str, list] = {}  # each image's entries, grouped in one pass
        for entry in value:
            images.setdefault(repr(entry.get("image_id")), []).append(entry)
        return [PoseSequence(path.stem if len(images) == 1 else f"{path.stem}_{entries[0].get('image_id')}",
                             [Poses.from_coco_wholebody(entries, *size)], None, False) for entries in images.values()]
    frames = [_frame(frame, width, height, f"frame {number}") for number, frame in enumerate(value)]
    return [PoseSequence(path.stem, frames, None, len(frames) > 1)]


def _frame(frame, width, height, where: str) -> Poses:
    try:
        return Poses.from_openpose_json(frame, width, height)
    except PoseFormatError as err:
        raise PoseFormatError(f"{where}: {err}") from None


def _table_sequences(path: Path) -> list[PoseSequence]:
    try:
        rows = read_table(path).to_pylist()
    except (OSError, ValueError) as err:  # pyarrow's ArrowIOError / ArrowInvalid
        raise PoseFormatError(f"{path}: not a pose table ({err})") from None
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["path"] or path.stem, []).append(row)
    sequences = []
    for source, rows in groups.items():
        is_video = rows[0]["frame"] is not None
        rows.sort(key=lambda row: row["frame"] or 0)
        times = [row["time"] for row in rows]
        sequences.append(PoseSequence(Path(source).stem, [Poses.from_row(row) for row in rows],
                                      times if is_video and _all_numbers(times) else None, is_video))
    return sequences


def _size(path: Path, width, height) -> tuple[int, int]:
    if width is None or height is None:
        raise PoseFormatError(f"{path}: the file does not say the image size its coordinates refer to: give the "
                              "width and height (render: --size WxH)")
    return width, height


def _all_numbers(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def read_pose_frames(value) -> list[Poses]:
    """The Poses of each frame of a value ComfyUI nodes pass: a POSE_KEYPOINT (a list of OpenPose JSON frames, or
    one frame; comfyui_controlnet_aux's, ours, the pose editors'), kijai's POSEDATA (formats/comfyui.py
    read_posedata), or either as a JSON string (the editors' POSE_JSON, comfyui_controlnet_aux's
    "openpose_json"). Malformed data raises PoseFormatError naming the frame and the field."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise PoseFormatError(f"not JSON ({err})") from None
    if is_posedata(value) or (isinstance(value, list) and value and all(_is_pose_meta(item) for item in value)):
        return [Poses(**fields) for fields in read_posedata(value)]
    frames = value if isinstance(value, list) else [value]
    return [_frame(frame, None, None, f"frame {number}") for number, frame in enumerate(frames)]


def _is_pose_meta(item) -> bool:
    return (isinstance(item, dict) and "keypoints_body" in item) or hasattr(item, "kps_body")


def write_pose_maps(sequence: PoseSequence, out_dir: str | os.PathLike, options=None,
                    size: tuple[int, int] | None = None,
                    fps: float | None = None, video: bool = True, png_frames: bool = False) -> list[Path]:
    """The maps of a pose sequence as files in `out_dir`; returns their paths.

    An image's poses: <name>_pose.png. A video's: <name>_pose.mp4 (H.264, frames at the file's times, else at
    `fps`, default 30; `video=False`: none) and with `png_frames` <name>/<frame:06d>.png. `size` (width,
    height): the maps' size, default the first frame's canvas; maps are drawn with render.draw_pose_map and
    `options` (a PoseMapOptions)."""
    if not sequence.frames:
        raise PoseFormatError(f"{sequence.name}: no frames in the file")
    out_dir = Path(out_dir)
    first = sequence.frames[0]
    width, height = size or (first.width, first.height)
    if not sequence.is_video:
        png = out_dir / f"{sequence.name}_pose.png"
        Image.fromarray(draw_pose_map(first, height, width, options)).save(png)
        return [png]
    if video:
        require("av", "pose videos")
    times = sequence.times or [n / (fps or DEFAULT_FPS) for n in range(len(sequence.frames))]
    maps = ((time - times[0], draw_pose_map(poses, height, width, options))
            for poses, time in zip(sequence.frames, times))
    return write_frames(maps, fps or frame_rate(times), out_dir / f"{sequence.name}_pose.mp4" if video else None,
                        out_dir / sequence.name if png_frames else None)


def frame_rate(times: list[float]) -> float:
    """The frame rate the frames' times give (their median spacing), else DEFAULT_FPS."""
    steps = np.diff(np.asarray(times, dtype=np.float64))
    steps = steps[steps > 0]
    return float(1.0 / np.median(steps)) if len(steps) else DEFAULT_FPS
