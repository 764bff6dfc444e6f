"""Wan 2.2 Animate's inputs from a driving video and a reference image: the pose video, the face video(s), the
reference, and for replacement the background and mask videos, as its official preprocessing makes them
(Wan-Video/Wan2.2 @ 42bf4cf, wan/modules/animate/preprocess/process_pipepline.py ProcessPipeline.__call__; the
steps in wan_preprocess.py, the poses in wan_pose.py, retargeting in wan_retarget.py, masks in wan_replace.py):

- frames: the official sampling to `fps` (sampled_frame_indices), at the video's own size; for replacement
  resized into `resolution_area` pixels, sides multiples of 16 (resize_by_area);
- reference: read as the official reads it (cv2.imread: 8-bit BGR made RGB, alpha dropped), resized into
  `resolution_area` (animation) or fitted into the frames' size (replacement; padding_resize), black bars;
- pose frames: each frame's people drawn by draw_aapose_by_meta_new (render/wan_animate.py), on a canvas of the
  frame's size then padding_resize'd to the reference's size (animation), on the reference's canvas after
  get_retarget_pose (`retarget`), or on the (resized) frame's canvas (`replace`);
- face frames: per person, the face box (face_box: the 68 face points' box grown x1.3 in area, more upward)
  cropped from the frame and resized to 512 x 512;
- replacement: SAM2 masks prompted with body points on key frames (wan_replace.body_masks), dilated and made
  blocky; background = frame * (1 - mask), mask frames = mask * 255.

Two ways to find the people:
- `official=True`: the official Pose2d per frame: Wan's YOLOv10 detector (UltralyticsYOLO, preprocessing "wan")
  on every frame, its largest box (wan_person_box; the whole frame when nobody), ViTPose in mode "wan" on it;
  one person (track id 0) in every frame; a frame whose 20 body points all have a negative coordinate takes
  the previous frame's body (load_pose_metas_from_kp2ds_seq). With the official models this reproduces the
  official frames.
- otherwise (default): any of our models, people tracked (identities from the tracker, the detector every
  `det_every` frames), `people` choosing them ("largest", the official's one person, is the default); every
  chosen person is drawn and gets a face video; a frame where nobody is found gives a black pose frame, and a
  person's face frame where the face box is empty (not in the frame, or a face off the frame: the official
  cv2.resize raises) holds that person's last face, black before the first.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..images import HWC3
from ..models import UltralyticsYOLO, ViTPose
from ..models.yolo import END_TO_END, wan_person_box
from ..poses import Poses
from ..render import PoseMapOptions
from ..render.wan_animate import draw_people
from ..skeleton import coco_to_openpose, pad_to_whole_body
from ..wan_pose import WanPose, coco_of_poses, wan_poses
from ..wan_preprocess import FACE_SIZE, face_box, face_crop, padding_resize, resize_by_area, sampled_frame_indices
from .export import jsonl_line, write_frames
from .io import read_video, video_info
from .tracker import DET_EVERY, TrackingOptions, VideoTracker
from .tracking import people_choice, select_people

RESOLUTION_AREA = (1280, 720)  # the official default
AREA_DIVISOR = 16  # process_pipepline.py calls resize_by_area with divisor=16


@dataclass
class WanAnimateInputs:
    """What WanAnimatePipeline / WanAnimateToVideo take, as arrays (RGB uint8).

    pose_frames: the pose video, at the reference's size; face_frames: track id -> that person's 512 x 512 face
    video (the first id is `main_person`); reference: the reference image as the model gets it; background_frames,
    mask_frames: the replacement videos (None in animation mode); poses: the poses of each frame (track ids kept),
    in pixels of the frame; face_boxes: track id -> per frame (x1, y1, x2, y2) in frame pixels, None where that
    person is not in the frame; times: each frame's time in seconds; fps: the frames' rate."""

    pose_frames: list[np.ndarray]
    face_frames: dict[int, list[np.ndarray]]
    reference: np.ndarray
    background_frames: list[np.ndarray] | None = None
    mask_frames: list[np.ndarray] | None = None
    poses: list = field(default_factory=list)
    face_boxes: dict[int, list] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    fps: float = 30.0

    @property
    def main_person(self) -> int | None:
        """The track id whose face video is `src_face` (the first person seen)."""
        return next(iter(self.face_frames), None)

    def main_faces(self) -> list[np.ndarray]:
        """The main person's face frames; black frames when nobody was seen."""
        return self.face_frames.get(self.main_person) or [np.zeros((FACE_SIZE, FACE_SIZE, 3), np.uint8)] * len(
            self.pose_frames)

    def as_pil(self) -> dict:
        """{"pose_video", "face_video", "image"} (and "background_video", "mask_video" for replacement) as
        diffusers' WanAnimatePipeline takes them: lists of PIL images and the reference as a PIL image."""
        pil = {"pose_video": [Image.fromarray(frame) for frame in self.pose_frames],
               "face_video": [Image.fromarray(frame) for frame in self.main_faces()],
               "image": Image.fromarray(self.reference)}
        if self.background_frames is not None:
            pil["background_video"] = [Image.fromarray(frame) for frame in self.background_frames]
            pil["mask_video"] = [Image.fromarray(frame) for frame in self.mask_frames]
        return pil


# ------------------------------------------------------------------------------------------- the inputs read

def sampled_frames(path, fps: float | None) -> tuple[list[np.ndarray], float]:
    """The video's frames (RGB uint8) the official sampling keeps for `fps` (None or -1: every frame), in order, a
    frame repeated where the target rate is above the video's, and their rate (`fps`, else the video's)."""
    info = video_info(path)
    video_fps = info["fps"] or 30.0
    frame_num = info["frames"] or sum(1 for _ in read_video(path))
    wanted = sampled_frame_indices(frame_num, video_fps, fps)
    counts = np.bincount(wanted, minlength=frame_num) if wanted else np.zeros(frame_num, int)
    frames = [frame.image for frame in read_video(path)
              for _ in range(int(counts[frame.index]) if frame.index < len(counts) else 0)]
    return frames, float(fps) if fps and fps != -1 else video_fps


def driving_frames(video, fps: float | None) -> tuple[list[np.ndarray], float]:
    """The driving frames (RGB uint8) and their rate: a video file sampled to `fps` (None or -1: the video's
    rate) as the official does, or a sequence of frames (an array (T, H, W, 3) or a list) used as it is, at
    `fps` (default 30)."""
    if isinstance(video, (str, os.PathLike)):
        return sampled_frames(video, fps)
    frames = [HWC3(np.asarray(frame)) for frame in video]
    if frames and any(frame.shape != frames[0].shape for frame in frames):
        raise ValueError("the driving frames must all have the same size")
    return frames, float(fps) if fps and fps != -1 else 30.0


def read_reference(reference) -> np.ndarray:
    """The reference as an RGB uint8 array: a file read as the official reads it (cv2.imread, 8-bit colour:
    alpha dropped, EXIF orientation applied, then BGR -> RGB), or an array / PIL image (HWC3)."""
    if isinstance(reference, (str, os.PathLike)):
        if not Path(reference).is_file():
            raise FileNotFoundError(f"reference image not found: {reference}")
        image = cv2.imread(os.fspath(reference), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{reference}: not an image OpenCV can read")
        return np.ascontiguousarray(image[..., ::-1])
    return HWC3(np.asarray(reference))


# ------------------------------------------------------------------------------------------- the people found

def official_models(detector):
    """Wan's Pose2d pair from a DWposeDetector: its detector as UltralyticsYOLO with preprocessing "wan" (an
    end-to-end YOLOv10 export is needed) and its ViTPose in mode "wan". ValueError naming what is missing."""
    person_detector, pose_model = detector.detector, detector.pose_model
    if not isinstance(person_detector, UltralyticsYOLO) or person_detector.format != END_TO_END:
        raise ValueError("official=True needs Wan's person detector, a YOLOv10 export with end-to-end output "
                         "[1, N, 6] (e.g. yolov10m.onnx from Wan-AI/Wan2.2-Animate-14B process_checkpoint/det)")
    if not isinstance(pose_model, ViTPose):
        raise ValueError("official=True needs Wan's heatmap pose model, ViTPose wholebody (e.g. "
                         "vitpose_h_wholebody.onnx from Wan-AI/Wan2.2-Animate-14B process_checkpoint/pose2d)")
    if person_detector.preprocessing != "wan":
        person_detector = UltralyticsYOLO(person_detector.session, preprocessing="wan")
    if pose_model.mode != "wan":
        raise ValueError('official=True needs the ViTPose model in mode "wan" (its default)')
    return person_detector, pose_model


def official_pose(person_detector, pose_model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose2d on one RGB image: the largest box of Wan's detector ([0, 0, W, H, -1] when nobody), ViTPose on it.
    Returns COCO-WholeBody keypoints (133, 2) float64 (float32 values), scores (133,) float32 and the box."""
    boxes, scores = person_detector(image)
    box = wan_person_box(boxes, scores, image.shape[:2])
    keypoints, point_scores = pad_to_whole_body(*pose_model(image, box[None, :4]))
    return keypoints[0], point_scores[0], box


def official_people(detector, frames) -> tuple[list[Poses], list[dict[int, WanPose]]]:
    """Per frame, Pose2d's one person (track id 0) as Poses and as {0: WanPose}, with
    load_pose_metas_from_kp2ds_seq's rule: a body whose points all have a negative coordinate is replaced by the
    previous frame's (the official raises on the first frame there; here the first frame keeps its own)."""
    person_detector, pose_model = official_models(detector)
    all_poses, people = [], []
    last_body = None
    for image in frames:
        height, width = image.shape[:2]
        keypoints, scores, box = official_pose(person_detector, pose_model, image)
        pose = WanPose.from_coco(keypoints, scores, width, height)
        if last_body is not None and pose.body[:, :2].min(axis=1).max() < 0:
            pose.body = last_body.copy()
        last_body = pose.body
        openpose_kp, openpose_scores = coco_to_openpose(keypoints[None], scores[None])
        all_poses.append(Poses(openpose_kp, openpose_scores, box[None, :4].astype(np.float32),
                               np.float32([max(box[4], 0.0)]), width, height, track_ids=np.zeros(1, np.int64)))
        people.append({0: pose})
    return all_poses, people


def tracked_people(detector, frames, tracking: TrackingOptions) -> tuple[list[Poses], list[dict[int, WanPose]]]:
    """Per frame, the tracked people (VideoTracker) as Poses and as {track id: WanPose}."""
    tracker = VideoTracker(detector, tracking, detect_resolution=None, image_resolution=None)  # maps drawn here
    all_poses, people = [], []
    for tracked in tracker.track(iter(frames)):
        poses = tracked.poses
        ids = [] if poses.track_ids is None else [int(i) for i in poses.track_ids]
        all_poses.append(poses)
        people.append(dict(zip(ids, wan_poses(poses))))
    return all_poses, people


def reference_pose(detector, reference: np.ndarray, official: bool) -> WanPose:
    """The reference image's person as a WanPose: Pose2d's (official) or our detector's largest person.
    ValueError when our detector finds nobody (retargeting needs the reference's proportions)."""
    height, width = reference.shape[:2]
    if official:
        keypoints, scores, _ = official_pose(*official_models(detector), reference)
        return WanPose.from_coco(keypoints, scores, width, height)
    poses = detector.detect(reference, fallback_whole_image=False)
    if len(poses) == 0:
        raise ValueError("no person found in the reference image: retargeting needs the reference's proportions")
    return WanPose.from_coco(*coco_of_poses(poses, int(select_people(poses, people="largest")[0])), width, height)


# ------------------------------------------------------------------------------------------------ the bundle

def face_videos(frames, people: list[dict[int, WanPose]], result: WanAnimateInputs) -> None:
    """Each person's face frames and boxes into `result` (see the module docstring for empty boxes)."""
    last_face: dict[int, np.ndarray] = {}
    black_face = np.zeros((FACE_SIZE, FACE_SIZE, 3), np.uint8)
    for number, (image, present) in enumerate(zip(frames, people)):
        height, width = image.shape[:2]
        for track_id, pose in present.items():
            x1, x2, y1, y2 = face_box(pose.face[:, :2], width, height)
            crop = face_crop(image, (x1, x2, y1, y2))
            if crop is not None:
                last_face[track_id] = crop
            if track_id not in result.face_frames:  # a person first seen now: black until then
                result.face_frames[track_id] = [black_face] * number
                result.face_boxes[track_id] = [None] * number
            result.face_boxes[track_id].append((x1, y1, x2, y2))
        for track_id, faces in result.face_frames.items():
            faces.append(last_face.get(track_id, black_face))
            if track_id not in present:
                result.face_boxes[track_id].append(None)


def retargeted_people(people: list[dict[int, WanPose]], reference: WanPose) -> list[list]:
    """Per frame, the WanPixels of each person retargeted onto the reference's proportions (get_retarget_pose,
    each person's own first frame as the template)."""
    from ..wan_retarget import retarget_wan_poses

    drawn: list[list] = [[] for _ in people]
    track_ids = list(dict.fromkeys(track_id for present in people for track_id in present))
    for track_id in track_ids:
        numbers = [n for n, present in enumerate(people) if track_id in present]
        sequence = [people[n][track_id] for n in numbers]
        for n, pixels in zip(numbers, retarget_wan_poses(sequence[0], reference, sequence)):
            drawn[n].append(pixels)
    return drawn


def wan_animate_inputs(detector, video, reference, *, fps: float | None = 30, resolution_area=RESOLUTION_AREA,
                       people="largest", max_people: int | None = None, det_every: int = DET_EVERY,
                       official: bool = False, retarget: bool = False, replace: bool = False, segmenter=None,
                       options: PoseMapOptions | None = None,
                       tracking: TrackingOptions | None = None) -> WanAnimateInputs:
    """Wan 2.2 Animate's inputs (module docstring) of the driving `video` (a file path, or frames: an array
    (T, H, W, 3) or a list of RGB arrays, used as they are at `fps`) and the `reference` image (a path, PIL
    image or RGB array), with `detector` (a DWposeDetector).

    `fps`: the frames' rate (None or -1: the video's own); `official`: Pose2d's per-frame largest person with
    Wan's models (module docstring); `people`: "largest" (default), "center", a list of track ids, or None
    (everyone), or the same as text ("all", "1,3": tracking.people_choice); `retarget`: the poses mapped onto the reference's proportions; `replace`: replacement mode,
    with `segmenter` (a wan_replace.Sam2VideoSegmenter; None loads the default checkpoint); `options`: the pose
    map's switches (include_body / include_hand / include_face; the style is "wan-animate"); `tracking`: all the
    TrackingOptions (e.g. redetect=False for a fixed detector schedule), instead of det_every / max_people /
    people."""
    if retarget and replace:
        raise ValueError("retarget and replace cannot be combined (the official replacement mode does not retarget)")
    options = PoseMapOptions.build(options, style="wan-animate")
    people = people_choice(people) if isinstance(people, str) else people
    frames, rate = driving_frames(video, fps)
    if not frames:
        raise ValueError("the driving video has no frames at this frame rate")
    area = int(resolution_area[0]) * int(resolution_area[1])
    reference = read_reference(reference)
    if replace:
        frames = [resize_by_area(image, area, divisor=AREA_DIVISOR) for image in frames]
        reference = padding_resize(reference, *frames[0].shape[:2])
    else:
        reference = resize_by_area(reference, area, divisor=AREA_DIVISOR)
    if official:
        all_poses, people = official_people(detector, frames)
    else:
        tracking = tracking or TrackingOptions(det_every, max_people, people)
        all_poses, people = tracked_people(detector, frames, tracking)
    result = WanAnimateInputs([], {}, reference, fps=rate, poses=all_poses,
                              times=[number / rate for number in range(len(frames))])
    face_videos(frames, people, result)
    if retarget:
        drawn = retargeted_people(people, reference_pose(detector, reference, official))
        result.pose_frames = [draw_people(np.zeros_like(reference), pixels, options) for pixels in drawn]
    else:
        for image, present in zip(frames, people):
            pose_map = draw_people(np.zeros_like(image), [pose.pixels() for pose in present.values()], options)
            result.pose_frames.append(pose_map if replace else padding_resize(pose_map, *reference.shape[:2]))
    if replace:
        result.background_frames, result.mask_frames = replacement_videos(frames, people, result.main_person,
                                                                           segmenter)
    return result


def replacement_videos(frames, people: list[dict[int, WanPose]], main_person, segmenter):
    """The background and mask videos of replacement mode for the main person (wan_replace.py)."""
    from .wan_replace import Sam2VideoSegmenter, body_masks, replacement_frames

    if segmenter is None:
        segmenter = Sam2VideoSegmenter.from_pretrained()
    masks = body_masks(frames, [present.get(main_person) for present in people], segmenter)
    return replacement_frames(frames, masks)


def write_wan_animate_inputs(inputs: WanAnimateInputs, out_dir, reference_path=None,
                             png_frames: bool = False) -> list[Path]:
    """The files WanAnimatePipeline and ComfyUI's WanAnimateToVideo are fed from: src_pose.mp4, src_face.mp4 (the
    main person's; src_face_<id>.mp4 for each other person), src_bg.mp4 and src_mask.mp4 (replacement), src_ref.png
    (the reference file copied as the official script copies it, else the reference as the model gets it),
    poses.jsonl (each frame's OpenPose JSON with its time); with `png_frames` also lossless PNG folders src_pose/,
    src_face/, ... (000000.png, ...). Returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    videos = {"src_pose": inputs.pose_frames, "src_face": inputs.main_faces()}
    for track_id, faces in inputs.face_frames.items():
        if track_id != inputs.main_person:
            videos[f"src_face_{track_id}"] = faces
    if inputs.background_frames is not None:
        videos["src_bg"], videos["src_mask"] = inputs.background_frames, inputs.mask_frames
    for name, frames in videos.items():
        timed = ((number / inputs.fps, image) for number, image in enumerate(frames))
        png_dir = out_dir / name if png_frames else None
        written.append(write_frames(timed, inputs.fps, out_dir / f"{name}.mp4", png_dir)[0])
    ref = out_dir / "src_ref.png"
    if reference_path is not None:
        shutil.copyfile(reference_path, ref)  # as the official: the file itself, whatever its format
    else:
        Image.fromarray(inputs.reference).save(ref)
    written.append(ref)
    with open(out_dir / "poses.jsonl", "w", encoding="utf-8") as lines:
        for number, (poses, time) in enumerate(zip(inputs.poses, inputs.times)):
            lines.write(jsonl_line(number, time, poses))
    written.append(out_dir / "poses.jsonl")
    return written
