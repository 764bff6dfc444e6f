"""Wan 2.2 Animate's inputs from a driving video and a reference image: the pose video, the face video(s) and the
reference, as its official preprocessing makes them without retargeting or replacement (Wan-Video/Wan2.2 @
42bf4cf, wan/modules/animate/preprocess/process_pipepline.py ProcessPipeline.__call__, retarget_flag and
replace_flag off; the steps in wan_preprocess.py), for every tracked person and with any of our models:

- frames: the official sampling to `fps` (sampled_frame_indices), at the video's own size;
- reference: resized into `resolution_area` pixels, sides multiples of 16 (resize_by_area), black bars;
- pose frames: each frame's people drawn in the "wan-animate" style on a canvas of the frame's size, then
  padding_resize'd to the reference's size;
- face frames: per person, the face box (face_box: the 68 face points' box grown x1.3 in area, more upward)
  cropped from the frame and resized to 512 x 512.

Beyond the official script: people are tracked (identities from the tracker, the detector every DET_EVERY
frames) and each gets a face video; `people` chooses them ("largest", the official's one person, is the
default); a frame where nobody is found gives a black pose frame, and a person's face frame where the face
box is empty (nobody, or a face off the frame: the official cv2.resize raises) holds that person's last face,
black before the first.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..images import HWC3, load_image
from ..render import PoseMapOptions, draw_poses
from ..skeleton import FACE
from ..wan_preprocess import FACE_SIZE, face_box, face_crop, padding_resize, resize_by_area, sampled_frame_indices
from .export import jsonl_line, write_frames
from .io import read_video, video_info
from .tracker import DET_EVERY, TrackingOptions, VideoTracker

RESOLUTION_AREA = (1280, 720)  # the official default
AREA_DIVISOR = 16  # process_pipepline.py calls resize_by_area with divisor=16


@dataclass
class WanAnimateInputs:
    """What WanAnimatePipeline / WanAnimateToVideo take, as arrays (RGB uint8).

    pose_frames: the pose video, at the reference's size; face_frames: track id -> that person's 512 x 512 face
    video (the first id is `main_person`); reference: the reference image after resize_by_area; poses: the
    poses of each sampled frame (track ids kept), in pixels of the video frame; times: each sampled frame's
    time in seconds; fps: the frames' rate."""

    pose_frames: list[np.ndarray]
    face_frames: dict[int, list[np.ndarray]]
    reference: np.ndarray
    poses: list = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    fps: float = 30.0

    @property
    def main_person(self) -> int | None:
        """The track id whose face video is `src_face` (the first person seen)."""
        return next(iter(self.face_frames), None)

    def as_pil(self) -> dict:
        """{"pose_video", "face_video", "image"} as diffusers' WanAnimatePipeline takes them: lists of PIL images
        (the main person's faces; black frames when nobody was seen) and the reference as a PIL image."""
        faces = self.face_frames.get(self.main_person) or [np.zeros((FACE_SIZE, FACE_SIZE, 3), np.uint8)] * len(
            self.pose_frames)
        return {"pose_video": [Image.fromarray(frame) for frame in self.pose_frames],
                "face_video": [Image.fromarray(frame) for frame in faces],
                "image": Image.fromarray(self.reference)}


def sampled_frames(path, fps: float | None):
    """The video's frames (VideoFrames) the official sampling keeps for `fps` (None: every frame), in order,
    a frame repeated where the target rate is above the video's."""
    info = video_info(path)
    video_fps = info["fps"] or 30.0
    frame_num = info["frames"] or sum(1 for _ in read_video(path))
    wanted = sampled_frame_indices(frame_num, video_fps, fps)
    counts = np.bincount(wanted, minlength=frame_num) if wanted else np.zeros(frame_num, int)
    for frame in read_video(path):
        for _ in range(int(counts[frame.index]) if frame.index < len(counts) else 0):
            yield frame


def wan_animate_inputs(detector, video, reference, *, fps: float | None = 30, resolution_area=RESOLUTION_AREA,
                       people="largest", max_people: int | None = None, det_every: int = DET_EVERY,
                       options: PoseMapOptions | None = None) -> WanAnimateInputs:
    """Wan 2.2 Animate's inputs (module docstring) of the driving `video` (a file path) and the `reference`
    image (a path, PIL image or RGB array), with `detector` (a DWposeDetector). `fps`: the frames' rate
    (None or -1: the video's own); `people`: "largest" (default), "center", a list of track ids, or None
    (everyone); `options`: the pose map's switches (the style is "wan-animate")."""
    options = PoseMapOptions.build(options, style="wan-animate")
    reference = HWC3(load_image(reference) if isinstance(reference, (str, os.PathLike)) else reference)
    reference = resize_by_area(reference, int(resolution_area[0]) * int(resolution_area[1]), divisor=AREA_DIVISOR)
    ref_h, ref_w = reference.shape[:2]
    rate = float(fps) if fps and fps != -1 else (video_info(video)["fps"] or 30.0)
    tracking = TrackingOptions(det_every, max_people, people)
    tracker = VideoTracker(detector, tracking, detect_resolution=None, image_resolution=None)  # maps drawn here
    frames = list(sampled_frames(video, fps))
    result = WanAnimateInputs([], {}, reference, fps=rate)
    last_face: dict[int, np.ndarray] = {}
    black_face = np.zeros((FACE_SIZE, FACE_SIZE, 3), np.uint8)
    for number, (frame, tracked) in enumerate(zip(frames, tracker.track(frame.image for frame in frames))):
        poses = tracked.poses
        height, width = frame.image.shape[:2]
        result.pose_frames.append(padding_resize(draw_poses(poses, options), ref_h, ref_w))
        result.poses.append(poses)
        result.times.append(number / rate)
        relative = poses.relative()
        ids = [] if poses.track_ids is None else [int(i) for i in poses.track_ids]
        for n, track_id in enumerate(ids):
            crop = face_crop(frame.image, face_box(relative[n, FACE], width, height))
            if crop is not None:
                last_face[track_id] = crop
            if track_id not in result.face_frames:  # a person first seen now: black until then
                result.face_frames[track_id] = [black_face] * number
        for track_id, faces in result.face_frames.items():
            faces.append(last_face.get(track_id, black_face))
    return result


def write_wan_animate_inputs(inputs: WanAnimateInputs, out_dir, reference_path=None,
                             png_frames: bool = False) -> list[Path]:
    """The files WanAnimatePipeline and ComfyUI's WanAnimateToVideo are fed from: src_pose.mp4, src_face.mp4 (the
    main person's; src_face_<id>.mp4 for each other person), src_ref.png (the reference file copied as the
    official script copies it, else the resized reference), poses.jsonl (each frame's OpenPose JSON with its
    time); with `png_frames` also lossless PNG folders src_pose/, src_face/ (000000.png, ...). Returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    videos = {"src_pose": inputs.pose_frames}
    for track_id, faces in inputs.face_frames.items():
        videos["src_face" if track_id == inputs.main_person else f"src_face_{track_id}"] = faces
    if not inputs.face_frames:
        videos["src_face"] = [np.zeros((FACE_SIZE, FACE_SIZE, 3), np.uint8)] * len(inputs.pose_frames)
    for name, frames in videos.items():
        timed = ((number / inputs.fps, image) for number, image in enumerate(frames))
        png_dir = out_dir / name if png_frames else None
        written.append(write_frames(timed, inputs.fps, out_dir / f"{name}.mp4", png_dir)[0])
    ref = out_dir / "src_ref.png"
    if reference_path is not None and Path(reference_path).suffix.lower() == ".png":
        shutil.copyfile(reference_path, ref)
    else:
        Image.fromarray(inputs.reference if reference_path is None else load_image(reference_path)).save(ref)
    written.append(ref)
    with open(out_dir / "poses.jsonl", "w", encoding="utf-8") as lines:
        for number, (poses, time) in enumerate(zip(inputs.poses, inputs.times)):
            lines.write(jsonl_line(number, time, poses))
    written.append(out_dir / "poses.jsonl")
    return written
