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
"""

from __future__ import annotations

from ..skeleton import FEET
from .openpose_json import to_openpose_json, triplets


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
