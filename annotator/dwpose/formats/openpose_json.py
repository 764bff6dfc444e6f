"""sd-webui-controlnet's OpenPose JSON: what its pose editor reads, and what the hosts export.

{"people": [{"pose_keypoints_2d": 18 x [x, y, c], "face_keypoints_2d": 70 x [x, y, c] or None,
"hand_left_keypoints_2d": 21 x [x, y, c] or None, "hand_right_keypoints_2d": ...}], "animals": [],
"canvas_width": W, "canvas_height": H}, in absolute pixels of the W x H canvas.
"""

from __future__ import annotations

import json
import os

from ..skeleton import BODY, FACE, L_EYE, LEFT_HAND, R_EYE, RIGHT_HAND, THRESHOLD


def to_openpose_json(poses, threshold: float = THRESHOLD) -> dict:
    """The OpenPose JSON dict of `poses` (a Poses). A hidden point is (0, 0, 0) and a shown one (x, y, 1); a
    face or hand without any visible point is None; the face list is the 68 face points followed by the
    body's right and left eye. People carry their "track_id" where the poses have track ids."""
    visible = poses.visible(threshold)

    def flat(person: int, part) -> list[float]:
        return triplets(poses.exact_keypoints[person, part], visible[person, part])

    people = []
    for n in range(len(poses)):
        face = None
        if visible[n, FACE].any():
            face = flat(n, FACE) + flat(n, slice(R_EYE, R_EYE + 1)) + flat(n, slice(L_EYE, L_EYE + 1))
        person = {
            "pose_keypoints_2d": flat(n, BODY),
            "face_keypoints_2d": face,
            "hand_left_keypoints_2d": flat(n, LEFT_HAND) if visible[n, LEFT_HAND].any() else None,
            "hand_right_keypoints_2d": flat(n, RIGHT_HAND) if visible[n, RIGHT_HAND].any() else None,
        }
        if poses.track_ids is not None:
            person["track_id"] = int(poses.track_ids[n])
        people.append(person)
    return {"people": people, "animals": [], "canvas_width": poses.width, "canvas_height": poses.height}


def triplets(points, shown) -> list[float]:
    """[x, y, 1] for each shown point and [0, 0, 0] for each hidden one, flattened, as floats."""
    values = []
    for (x, y), visible in zip(points, shown):
        values += [float(x), float(y), 1.0] if visible else [0.0, 0.0, 0.0]
    return values


def save_openpose_json(poses, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
    """Write to_openpose_json(poses, threshold) to the file `path`."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_openpose_json(poses, threshold), f)
