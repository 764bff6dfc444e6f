"""comfyui_controlnet_aux's POSE_KEYPOINT: one OpenPose JSON dict per frame, as its DWPose node outputs it,
so that its nodes and ours mix.

A frame is {"people": [...], "canvas_width": W, "canvas_height": H} of the input frame (no "animals"),
keypoints as [x, y, 1] triplets in pixels of the input frame, [0, 0, 0] where hidden; a face or hand list
is None when nothing of it is visible, or when the node's detect_hand / detect_face is off.
"""

from __future__ import annotations

from .openpose_json import to_openpose_json


def to_pose_keypoint(poses, width: int | None = None, height: int | None = None, include_hand: bool = True,
                     include_face: bool = True) -> dict:
    """The POSE_KEYPOINT frame of `poses` (a Poses), in pixels of a width x height frame (default: the poses'
    own size); hands and faces None where `include_hand` / `include_face` is off."""
    if width is not None or height is not None:
        poses = poses.in_pixels_of(poses.width if width is None else width, poses.height if height is None else height)
    frame = to_openpose_json(poses)
    del frame["animals"]
    for person in frame["people"]:
        if not include_hand:
            person["hand_left_keypoints_2d"] = person["hand_right_keypoints_2d"] = None
        if not include_face:
            person["face_keypoints_2d"] = None
    return frame
