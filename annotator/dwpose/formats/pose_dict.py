"""The normalised pose dicts that DWPose-based video pipelines pass around (MimicMotion's and easy_dwpose's
detectors build them, their draw_pose reads them), written from Poses and read back without loss."""

from __future__ import annotations

import numpy as np

from ..skeleton import BODY, FACE, FEET, LEFT_HAND, NUM_OPENPOSE, RIGHT_HAND, THRESHOLD

LAYOUTS = ("mimicmotion", "easy-dwpose")
LAYOUT_ALIASES = {"easy_dwpose": "easy-dwpose"}  # the spelling of earlier releases


def to_pose_dict(poses, layout: str = "mimicmotion") -> dict:
    """The normalised pose dict that DWPose-based video pipelines pass around, as their detectors build it
    from these keypoints. All arrays float64; coordinates are pixels divided by the width and height, with
    nothing hidden in them; hands are every left hand, then every right hand.

    layout "mimicmotion" (Tencent/MimicMotion mimicmotion/dwpose/dwpose_detector.py __call__, which its
    draw_pose reads): {"bodies": {"candidate": (N*18, 2), "subset": (N, 18), "score": (N, 18)},
    "hands": (2N, 21, 2), "hands_score": (2N, 21), "faces": (N, 68, 2), "faces_score": (N, 68)};
    subset[n, j] is 18 n + j where the score is > 0.3 (their fixed threshold), else -1.
    layout "easy-dwpose" (also spelt "easy_dwpose"; reallyigor/easy_dwpose easy_dwpose/dwpose.py
    _format_pose): {"bodies": the candidate, "body_scores": the subset, "hands", "hands_scores", "faces",
    "faces_scores"}.

    Extra keys, which their code ignores, make the dict lossless (see read_pose_dict): "feet" (N, 6, 2)
    and "feet_score" ("feet_scores" in the easy-dwpose layout) (N, 6); in the easy-dwpose layout
    "body_keypoint_scores" (N, 18), the body scores its subset replaces; "pixel_residual" (N, 134, 2),
    pixels - normalised * size in this layout's point order, since x / W * W is not x for every x and W
    (e.g. W = 720).
    """
    layout = LAYOUT_ALIASES.get(layout, layout)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    n = len(poses)
    size = np.array([float(poses.width), float(poses.height)])
    with np.errstate(invalid="ignore", over="ignore"):
        points = poses.relative()
        back = points * size
        exact = np.isfinite(back) & np.isfinite(poses.exact_keypoints)
        residual = np.where(exact, poses.exact_keypoints - back, 0.0)
    scores = poses.scores.astype(np.float64)
    subset = np.where(scores[:, BODY] > THRESHOLD, np.arange(n * 18).reshape(n, 18), -1).astype(np.float64)
    candidate = points[:, BODY].reshape(n * 18, 2)
    hands = np.concatenate([points[:, LEFT_HAND], points[:, RIGHT_HAND]])
    hands_score = np.concatenate([scores[:, LEFT_HAND], scores[:, RIGHT_HAND]])
    faces, faces_score = points[:, FACE].copy(), scores[:, FACE].copy()
    feet, feet_score = points[:, FEET].copy(), scores[:, FEET].copy()
    if layout == "mimicmotion":
        return {"bodies": {"candidate": candidate, "subset": subset, "score": scores[:, BODY].copy()},
                "hands": hands, "hands_score": hands_score, "faces": faces, "faces_score": faces_score,
                "feet": feet, "feet_score": feet_score, "pixel_residual": residual}
    return {"bodies": candidate, "body_scores": subset, "hands": hands, "hands_scores": hands_score,
            "faces": faces, "faces_scores": faces_score, "body_keypoint_scores": scores[:, BODY].copy(),
            "feet": feet, "feet_scores": feet_score, "pixel_residual": residual}


def read_pose_dict(pose: dict, width: int, height: int) -> dict:
    """The Poses fields (exact_keypoints, scores, boxes, box_scores, width, height) of a pose dict of either
    to_pose_dict layout, in pixels of a width x height image (the dict's coordinates are relative to it and
    do not say its size).

    Lossless: Poses.from_pose_dict(p.to_pose_dict(layout), p.width, p.height) has p's exact_keypoints bit for
    bit (every finite coordinate, hidden or not; NaN and infinities stay what they were) and p's scores
    bit for bit (float32 -> float64 -> float32). boxes, box_scores and track_ids are not in the dict:
    each person gets the whole-image box with box score 0 and no track id.
    A dict without the extra keys (the pipelines' own) loses only what they drop: feet become hidden
    (-1, -1, score 0) and coordinates are normalised * size. A dict without scores (ControlNet's and
    MusePose's detectors, or easy_dwpose's body_scores) gets score 1 for a body point whose subset is
    >= 0 and for a hand or face point that is not (-1, -1), else 0.
    """
    bodies = pose["bodies"]
    if isinstance(bodies, dict):
        candidate, subset, body_scores = bodies["candidate"], bodies["subset"], bodies.get("score")
        keys = ("hands_score", "faces_score", "feet_score")
    else:
        candidate, subset, body_scores = bodies, pose["body_scores"], pose.get("body_keypoint_scores")
        keys = ("hands_scores", "faces_scores", "feet_scores")
    subset = np.asarray(subset, dtype=np.float64).reshape(-1, 18)
    n = len(subset)
    points = np.full((n, NUM_OPENPOSE, 2), -1.0)
    scores = np.zeros((n, NUM_OPENPOSE))
    points[:, BODY] = np.asarray(candidate, dtype=np.float64)[:18 * n].reshape(n, 18, 2)
    scores[:, BODY] = (subset >= 0) if body_scores is None else np.asarray(body_scores, dtype=np.float64)
    hands = np.asarray(pose["hands"], dtype=np.float64).reshape(-1, 21, 2)
    hands_score, faces_score, feet_score = (pose.get(key) for key in keys)
    if hands_score is not None:
        hands_score = np.asarray(hands_score, dtype=np.float64).reshape(-1, 21)
    parts = [(LEFT_HAND, hands[:n], None if hands_score is None else hands_score[:n]),
             (RIGHT_HAND, hands[n:2 * n], None if hands_score is None else hands_score[n:2 * n]),
             (FACE, pose["faces"], faces_score)]
    if "feet" in pose:
        parts.append((FEET, pose["feet"], feet_score))
    for part, xy, part_scores in parts:
        xy = np.asarray(xy, dtype=np.float64).reshape(n, part.stop - part.start, 2)
        points[:, part] = xy
        scores[:, part] = ~(xy == -1).all(axis=-1) if part_scores is None else part_scores
    pixels = points * np.array([float(width), float(height)])
    residual = pose.get("pixel_residual")
    if residual is not None and np.shape(residual) == pixels.shape:
        pixels += residual
    boxes = np.tile(np.array([0, 0, width, height], dtype=np.float32), (n, 1))
    return dict(exact_keypoints=pixels, scores=scores.astype(np.float32), boxes=boxes,
                box_scores=np.zeros(n, np.float32), width=int(width), height=int(height), normalized_keypoints=points)
