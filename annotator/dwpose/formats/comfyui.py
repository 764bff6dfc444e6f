"""comfyui_controlnet_aux's POSE_KEYPOINT: one OpenPose JSON dict per frame, as its DWPose node outputs it,
so that its nodes and ours mix.

A frame is {"people": [...], "canvas_width": W, "canvas_height": H} of the input frame (no "animals"),
keypoints as [x, y, 1] triplets in pixels of the input frame, [0, 0, 0] where hidden; a face or hand list
is None when nothing of it is visible, or when the node's detect_hand / detect_face is off; with
detect_body off the 18 body points are all [0, 0, 0] (comfyui_controlnet_aux 1.1.5, e8b689a,
src/custom_controlnet_aux/dwpose/__init__.py: BodyResult([None] * 18) compressed by encode_poses_as_dict).
Ours adds the feet when asked: "foot_keypoints_2d", the 6 COCO-WholeBody foot points (left big toe, small
toe, heel, right big toe, small toe, heel), None when none is visible; readers that do not know the key
ignore it.

Read back: POSE_KEYPOINT frames (read_pose_keypoint; other packs' too, see read_openpose_json), and kijai's
POSEDATA (read_posedata).
"""

from __future__ import annotations

import numpy as np

from ..errors import PoseFormatError
from ..skeleton import BODY, FACE, FEET, LEFT_HAND, NUM_OPENPOSE, RIGHT_HAND
from .checks import describe, image_size, numbers_array
from .openpose_json import read_openpose_json, to_openpose_json, triplets

# kijai's POSEDATA (ComfyUI-WanAnimatePreprocess @ 1a35b81, nodes.py PoseAndFaceDetection; pose_utils/pose2d_utils.py
# split_kp2ds_for_aa, load_pose_metas_from_kp2ds_seq, AAPoseMeta): per frame a body of 20 rows (OpenPose-18, then
# the left and right toe: the mean of each foot's big and small toe), hands of 21, a face of 69 rows (COCO-WholeBody
# 22..90: the right heel, then the 68 face points), each row x, y, score.
POSEDATA_PARTS = (("keypoints_body", "kps_body", 20), ("keypoints_left_hand", "kps_lhand", 21),
                  ("keypoints_right_hand", "kps_rhand", 21), ("keypoints_face", "kps_face", 69))
LEFT_TOE, RIGHT_TOE, RIGHT_HEEL = 18, 19, 0  # rows of the body, the body, the face


def to_pose_keypoint(poses, width: int | None = None, height: int | None = None, include_hand: bool = True,
                     include_face: bool = True, include_body: bool = True, include_foot: bool = False) -> dict:
    """The POSE_KEYPOINT frame of `poses` (a Poses), in pixels of a width x height frame (default: the poses'
    own size); hands and faces None where `include_hand` / `include_face` is off, the body all zeros where
    `include_body` is off, the feet added with `include_foot`."""
    if width is not None or height is not None:
        poses = poses.in_pixels_of(poses.width if width is None else width, poses.height if height is None else height)
    frame = to_openpose_json(poses)
    del frame["animals"]
    visible = poses.visible() if include_foot else None
    for n, person in enumerate(frame["people"]):
        if not include_body:
            person["pose_keypoints_2d"] = [0.0] * len(person["pose_keypoints_2d"])
        if not include_hand:
            person["hand_left_keypoints_2d"] = person["hand_right_keypoints_2d"] = None
        if not include_face:
            person["face_keypoints_2d"] = None
        if include_foot:
            person["foot_keypoints_2d"] = triplets(poses.exact_keypoints[n, FEET], visible[n, FEET]) \
                if visible[n, FEET].any() else None
    return frame


def read_pose_keypoint(frame: dict) -> dict:
    """The Poses fields of one POSE_KEYPOINT frame: read_openpose_json, with the frame's canvas size."""
    return read_openpose_json(frame)


def read_posedata(posedata) -> list[dict]:
    """The Poses fields of each frame of kijai's POSEDATA (one person a frame), in pixels of its width x height.

    `posedata`: the node's dict, whose "pose_metas" (AAPoseMeta objects in pixels, retargeted when the node was
    given a reference image) are read, else its "pose_metas_original" (dicts of numpy arrays, x / width and
    y / height), or a list of either. Scores are the model's (the map's threshold decides what is shown; kijai
    draws at 0.5). Feet: each toe (the mean of the big and small toe) as both toes of its foot, the right heel
    from the face's first row, the left heel hidden; the face is the other 68 rows."""
    if isinstance(posedata, dict):
        metas = posedata.get("pose_metas") or posedata.get("pose_metas_original")
        if metas is None:
            raise PoseFormatError("POSEDATA: no pose_metas or pose_metas_original")
    else:
        metas = posedata
    if not isinstance(metas, (list, tuple)):
        raise PoseFormatError(f"POSEDATA: expected a list of pose metas, got {describe(metas)}")
    return [_read_pose_meta(meta, f"pose_metas[{i}]") for i, meta in enumerate(metas)]


def _read_pose_meta(meta, where: str) -> dict:
    relative = isinstance(meta, dict)  # pose_metas_original: normalised; AAPoseMeta: pixels
    get = meta.get if relative else (lambda key: getattr(meta, key, None))
    width, height = image_size(get("width"), f"{where}.width"), image_size(get("height"), f"{where}.height")
    rows = {}
    for dict_key, attribute, count in POSEDATA_PARTS:
        if relative:
            values = numbers_array(get(dict_key), f"{where}.{dict_key}", (count, 3))
        else:
            points = numbers_array(get(attribute), f"{where}.{attribute}", (count, 2))
            scores = numbers_array(get(attribute + "_p"), f"{where}.{attribute}_p", (count,))
            values = np.concatenate([points, scores[:, None]], axis=1)
        rows[dict_key] = values
    body, face = rows["keypoints_body"], rows["keypoints_face"]
    table = np.zeros((NUM_OPENPOSE, 3))
    table[BODY] = body[:18]
    table[FACE] = face[1:]
    table[LEFT_HAND] = rows["keypoints_left_hand"]
    table[RIGHT_HAND] = rows["keypoints_right_hand"]
    feet = FEET.start
    table[[feet, feet + 1]] = body[LEFT_TOE]
    table[[feet + 3, feet + 4]] = body[RIGHT_TOE]
    table[feet + 5] = face[RIGHT_HEEL]
    size = np.array([float(width), float(height)])
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = table[None, :, :2] * size if relative else table[None, :, :2]
    return dict(exact_keypoints=pixels, scores=table[None, :, 2].astype(np.float32),
                boxes=np.array([[0, 0, width, height]], dtype=np.float32), box_scores=np.zeros(1, np.float32),
                width=width, height=height, normalized_keypoints=table[None, :, :2] if relative else None)


def is_posedata(value) -> bool:
    """Whether `value` looks like kijai's POSEDATA (a dict with pose metas) rather than POSE_KEYPOINT."""
    return isinstance(value, dict) and ("pose_metas" in value or "pose_metas_original" in value)
