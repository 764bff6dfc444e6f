"""sd-webui-controlnet's OpenPose JSON: what its pose editor reads, and what the hosts export.

{"people": [{"pose_keypoints_2d": 18 x [x, y, c], "face_keypoints_2d": 70 x [x, y, c] or None,
"hand_left_keypoints_2d": 21 x [x, y, c] or None, "hand_right_keypoints_2d": ...}], "animals": [],
"canvas_width": W, "canvas_height": H}, in absolute pixels of the W x H canvas.

read_openpose_json reads that and what other tools write in its place: OpenPose's own files (BODY_25 bodies,
70 face points, confidences from 0 to 1, no canvas size), POSE_KEYPOINT frames (comfyui.py), the pose
editors' files (parts missing or None, normalised coordinates), jsonl lines ({"frame", "time", ...}).
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..errors import PoseFormatError
from ..skeleton import BODY, FACE, FEET, L_EYE, LEFT_HAND, NUM_OPENPOSE, R_EYE, RIGHT_HAND, THRESHOLD
from .checks import describe, image_size, is_number, point_triplets

# OpenPose's BODY_25 order: COCO-18's points with the mid-hip (8) between them, then the six foot points in
# the COCO-WholeBody order (left big toe, small toe, heel, right big toe, small toe, heel).
BODY_25_TO_BODY = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
BODY_25_FEET = [19, 20, 21, 22, 23, 24]
# A frame whose shown coordinates all lie within [-2, 2] is normalised (as the ultimate-openpose-editor and
# ProportionChanger decide it): 1 would take a normalised frame with a hand just off the canvas for pixels.
NORMALISED_LIMIT = 2.0
FACE_POINTS = tuple(range(1, 72))  # 68 (DWPose), 70 (+ the eyes or the pupils), up to 71 from OpenPose's face net


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


def read_openpose_json(frame: dict, width: int | None = None, height: int | None = None,
                       normalized: bool | None = None) -> dict:
    """The Poses fields of one OpenPose JSON frame (`frame`, a dict as json.load gives it).

    Bodies of 18 points (OpenPose COCO-18, as the hosts write) or 25 (OpenPose BODY_25: its mid-hip is dropped,
    its toes and heels become the feet; in frames whose "version" is a string, ProportionChanger's 18 + two
    toes); faces of 68 points and more (the hosts' 70 end with the body's eyes,
    OpenPose's with the pupils: the first 68 are kept); hands of 21; "foot_keypoints_2d" of 6 (ours in
    POSE_KEYPOINT, SDPose's). Flat [x, y, c, ...] lists and lists of [x, y, c] are read. A part that is
    missing, None or empty is hidden. A point's confidence becomes its score, compared with the map's
    threshold as the pipeline's scores are: the hosts' 1 / 0 show / hide, OpenPose's 0..1 confidences show the
    confident points (the hosts' own readers hide every point below 1). A point at relative (-1, -1), the mark
    DWPose pipelines give hidden points, is hidden whatever its confidence.
    Coordinates are pixels of the canvas_width x canvas_height canvas (`width` / `height` when the frame
    has no size, as OpenPose's own files) unless `normalized`; by default the frame is read as normalised
    when every coordinate of the points it shows (confidence above 0) lies within [-2, 2]
    (normalized_keypoints then keeps the values as they are). "track_id" is kept when every
    person has one. Each person gets the whole-image box with box score 0.
    Malformed data raises PoseFormatError naming the field (e.g. "people[1].hand_left_keypoints_2d")."""
    if not isinstance(frame, dict):
        raise PoseFormatError(f"expected an OpenPose JSON object with \"people\", got {describe(frame)}")
    width = _canvas_side(frame, "canvas_width", width)
    height = _canvas_side(frame, "canvas_height", height)
    people = frame.get("people")
    people = [] if people is None else people
    if not isinstance(people, list):
        raise PoseFormatError(f"people: expected a list of people, got {describe(people)}")
    n = len(people)
    points = np.zeros((n, NUM_OPENPOSE, 2))
    scores = np.zeros((n, NUM_OPENPOSE))
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            raise PoseFormatError(f"people[{i}]: expected an object with the keypoint lists, got {describe(person)}")
        for part, values in _parts(person, f"people[{i}]", toes_at_18=isinstance(frame.get("version"), str)):
            points[i, part], scores[i, part] = values[:, :2], values[:, 2]
    if normalized is None:
        shown = np.abs(points[scores > 0])
        normalized = shown.size > 0 and bool((shown <= NORMALISED_LIMIT).all())
    size = np.array([float(width), float(height)])
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = points * size if normalized else points
        relative = points if normalized else points / size
    scores[(relative == -1).all(axis=-1)] = 0  # DWPose pipelines' mark of a hidden point, whatever its confidence
    return dict(exact_keypoints=pixels, scores=scores.astype(np.float32),
                boxes=np.tile(np.array([0, 0, width, height], dtype=np.float32), (n, 1)),
                box_scores=np.zeros(n, np.float32), width=width, height=height,
                track_ids=_track_ids(people), normalized_keypoints=points if normalized else None)


def _canvas_side(frame: dict, key: str, given: int | None) -> int:
    value = frame.get(key) if frame.get(key) is not None else given
    if value is None:
        raise PoseFormatError(f"{key}: missing; the frame does not say its canvas size (OpenPose's own files do "
                              "not): give the width and height")
    return image_size(value, key)


def _parts(person: dict, where: str, toes_at_18: bool = False):
    """(slice or indices of the OpenPose-134 layout, (K, 3) points) of each part the person has. `toes_at_18`:
    a 25-point body is OpenPose-18 and the left and right toe (ProportionChanger's, whose frames carry the
    version "1.0" as a string; OpenPose's own is a number), not BODY_25."""
    key = "pose_keypoints" if "pose_keypoints_2d" not in person and "pose_keypoints" in person else "pose_keypoints_2d"
    body = point_triplets(person.get(key), f"{where}.{key}", (18, 25))  # OpenPose before 1.2: "pose_keypoints"
    if body is not None and len(body) == 25 and toes_at_18:
        yield BODY, body[:18]
        if person.get("foot_keypoints_2d") is None:  # each toe as both toes of its foot, no heels
            yield [FEET.start, FEET.start + 1, FEET.start + 3, FEET.start + 4], body[[18, 18, 19, 19]]
    elif body is not None and len(body) == 25:
        yield BODY, body[BODY_25_TO_BODY]
        if person.get("foot_keypoints_2d") is None:
            yield FEET, body[BODY_25_FEET]
    elif body is not None:
        yield BODY, body
    face = point_triplets(person.get("face_keypoints_2d"), f"{where}.face_keypoints_2d", FACE_POINTS)
    if face is not None:
        kept = min(len(face), 68)
        yield slice(FACE.start, FACE.start + kept), face[:kept]
    for key, part in (("hand_left_keypoints_2d", LEFT_HAND), ("hand_right_keypoints_2d", RIGHT_HAND)):
        hand = point_triplets(person.get(key), f"{where}.{key}", (21,))
        if hand is not None:
            yield part, hand
    feet = point_triplets(person.get("foot_keypoints_2d"), f"{where}.foot_keypoints_2d", (6,))
    if feet is not None:
        yield FEET, feet


def _track_ids(people: list) -> np.ndarray | None:
    """The people's "track_id"s as int64, when every person has one; else None."""
    ids = [person.get("track_id") for person in people]
    if not ids or any(track_id is None for track_id in ids):
        return None
    for i, track_id in enumerate(ids):
        if not is_number(track_id) or not float(track_id).is_integer():
            raise PoseFormatError(f"people[{i}].track_id: expected a whole number, got {describe(track_id)}")
    return np.array([int(track_id) for track_id in ids], dtype=np.int64)


def load_openpose_json(path: str | os.PathLike) -> object:
    """The JSON value of the file at `path`; a file that is not JSON raises PoseFormatError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PoseFormatError(f"{path}: not a JSON file ({err})") from None


def load_jsonl(path: str | os.PathLike) -> list:
    """The JSON value of each non-empty line of the file at `path` (a pose video's jsonl: one OpenPose JSON
    frame with "frame" and "time" a line); a line that is not JSON raises PoseFormatError naming it."""
    values = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for number, text in enumerate(f, start=1):
            if text.strip():
                try:
                    values.append(json.loads(text))
                except json.JSONDecodeError as err:
                    raise PoseFormatError(f"{path} line {number}: not JSON ({err})") from None
    return values
