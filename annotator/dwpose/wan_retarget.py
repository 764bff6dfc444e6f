"""Wan 2.2 Animate's pose retargeting: the driving video's poses mapped onto the proportions of the person in the
reference image, as `get_retarget_pose(tpl_pose_meta0, refer_pose_meta, tpl_pose_metas, None, None)` does it
(Wan-Video/Wan2.2 @ 42bf4cf, wan/modules/animate/preprocess/retarget_pose.py; process_pipepline.py calls it so
with retarget_flag=True, use_flux=False). Our own code; the results are the official's to the last bit.
The FLUX path (poses of FLUX-Kontext-edited images as the base of the bone ratios) is not reproduced.

Words used here: the *template* is the first driving frame's meta (tpl_pose_meta0), the *reference* the
reference image's (refer_pose_meta), the *frames* every driving frame's (tpl_pose_metas). Bones are limbSeq's
19 bones, each from its start point (nearer the neck) to its end point.

The official steps, in order (its function names in brackets):

1. [get_retarget_pose] The metas' arrays become Python lists: float64 from then on; the hands are multiplied
   by (width, height) on the way (in float64).
2. [retarget_pose] The scale from the reference to the template: the template's body height over the
   reference's, each its canvas height times |mean y of the ankles - y of the nose|, when the nose and both
   ankles score > 0.5 in both poses; else the same with the hips for the ankles; else
   sqrt(template width * height) / sqrt(reference width * height). The reference's canvas is multiplied by it
   (int(), truncating) for every later measurement of the reference (the output keeps the original size).
3. [check_full_body, check_full_body_both] The body kind, the lesser of the reference's and the template's:
   full (hips and ankles with y <= 1 and score >= 0.4), three quarter (the hips so), else half.
4. [fix_lack_keypoints_use_sym, none_idx] Nothing: without FLUX no point is None.
5. [get_length] Per bone, the bone ratio: its reference length (on the scaled canvas) / its template length.
6. [rescale_shorten_skeleton] A left and a right bone both take the larger of their two ratios; the two
   nose-to-eye bones take their mean, and so do the two eye-to-ear bones.
7. [rescale_skeleton] The template rebuilt from the neck outwards: each bone keeps its direction and gets its
   length times its ratio, from its start point as already rebuilt. This gives the offset that puts the
   driving poses on the reference: for a full body, the mean hip x over the reference's and the lower ankle
   over the reference's lower foot (mean of ankle and toe y); else the neck over the reference's neck.
8. [write_to_poses, get_scaled_pose] Per frame:
   - the hands divided back by (width, height) (so x * width / width, not always x);
   - the body rebuilt as in 7, each toe bone at most half its shin;
   - on the first frame only, the x offset corrected by how far that frame's rebuilt hips (full body) or neck
     (half body; three quarter: no correction) lie from the template's;
   - every body point minus the offset, then divided by the scale;
   - each hand scaled about its root by max(shoulder ratios) / scale; its points scoring < 0.4 dropped;
   - the hands moved with the wrists (their roots onto the rebuilt wrists, when the root was kept) and put in
     integer pixels (int(), truncating). deal_hand_keypoints returns (right, left) into (left, right), so the
     right hand goes to the right wrist but is handed out as the left hand, and the left hand as the right;
     unless the right hand's root is nearer the left wrist than the right wrist (both distances are measured
     from the right hand's root, as the official does), then the right hand goes to the left wrist, handed
     out as the right hand, and the left hand to the right wrist, as the left hand.
   - body points divided by the reference's width and height (original size).
9. [get_retarget_pose] AAPoseMeta: the body times (width, height) again (x / width * width, not always x);
   dropped hand points None (NaN here), score 0.

Where this differs from the official (it would raise, or return non-finite points; everywhere else it returns
finite points and this module returns exactly those):
- A scale rule whose body height is zero in either pose is skipped: the next rule gives the scale (the
  official raises ZeroDivisionError for the reference's zero height, and its zero scale for the template's
  puts every point at infinity or NaN).
- A bone ratio that is not finite (the template's bone has zero length: the official divides by zero, and
  that bone's end point is then infinite or NaN in every frame, or int() of NaN raises in the hands) is
  replaced as the official replaces ratios it cannot measure (its FLUX path's -1): by the mean of the two
  shoulder ratios when both are finite, else by 1.0; before step 6.
- The poses are taken by value: the official mutates its inputs, so handing it one dict twice (the
  reference as the template, say) changes its results; its pipeline never does, and passing one WanPose twice
  here gives what the official gives for equal but distinct metas. The caller's arrays are not changed.
- ValueError for what no pose model gives: a canvas side < 1, a wrongly shaped array, a non-finite number.

NumPy: the official pins numpy < 2; nothing here depends on that. After step 1 every number is a Python
float or a float64 scalar (IEEE double either way: +, -, *, / and ** call the same C operations), and
the float32 arrays only meet float64 arrays (float64 results under either promotion rule).
"""

from __future__ import annotations

import math

import numpy as np

from .wan_pose import NUM_WAN_BODY, WanPixels, WanPose

__all__ = ["retarget_wan_poses"]

# limbSeq (0-based): (start point, end point), in the order the official rebuilds the body.
BONES = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (13, 18), (10, 19))
NOSE, NECK, RIGHT_WRIST, LEFT_WRIST = 0, 1, 4, 7
RIGHT_HIP, RIGHT_ANKLE, LEFT_HIP, LEFT_ANKLE, LEFT_TOE, RIGHT_TOE = 8, 10, 11, 13, 18, 19
# Bones by their index in BONES.
RIGHT_SHOULDER_BONE, LEFT_SHOULDER_BONE = 0, 1
RIGHT_SHIN, LEFT_SHIN, LEFT_FOOT, RIGHT_FOOT = 8, 11, 17, 18
RIGHT_LEFT_BONES = ((0, 1), (2, 4), (3, 5), (6, 9), (7, 10), (8, 11), (17, 18))  # each pair: the larger ratio
AVERAGED_BONES = ((13, 15), (14, 16))  # nose-eye and eye-ear bones: the mean ratio
FOOT_PER_SHIN = 0.5
NUM_HAND = 21

SCALE_SCORE = 0.5  # scale rules: nose, ankles / hips score above this
BODY_KIND_SCORE = 0.4  # check_full_body's threshold
HAND_SCORE = 0.4  # hand points scoring below this are dropped
FULL_BODY, THREE_QUARTER_BODY, HALF_BODY = 2, 1, 0
DROPPED = [-1.0, -1.0, 0.0]  # deal_hand_keypoints' dropped point: Keypoint(x=-1, y=-1, score=0)


def retarget_wan_poses(template_first: WanPose, reference: WanPose, frames: list[WanPose]) -> list[WanPixels]:
    """Each of `frames` (the driving video's poses, in order) retargeted onto the proportions of `reference` (the
    reference image's pose), `template_first` (the first driving frame's pose) setting the bone ratios and
    the offset: get_retarget_pose's AAPoseMeta per frame, as WanPixels on the reference's canvas (body float64
    pixels; hands integer pixels as float64, NaN with score 0 where the official has None). The inputs are not
    changed. See the module docstring for the steps and for what is done where the official fails."""
    for pose in (template_first, reference, *frames):
        check_pose(pose)
    template_body = np.asarray(template_first.body).tolist()
    reference_body = np.asarray(reference.body).tolist()
    scale = template_to_reference_scale(template_first, reference)
    scaled_width, scaled_height = int(reference.width * scale), int(reference.height * scale)
    kind = min(body_kind(reference_body), body_kind(template_body))
    ratios = paired_ratios(filled_ratios(measured_ratios(
        pixel_points(template_body, template_first.width, template_first.height),
        pixel_points(reference_body, scaled_width, scaled_height))))
    offset, anchor_x = template_offset(template_first, reference_body, (scaled_width, scaled_height), ratios, kind)
    return [retarget_frame(frame, ratios, scale, offset, anchor_x, kind, number == 0, reference)
            for number, frame in enumerate(frames)]


def check_pose(pose: WanPose) -> None:
    """ValueError unless `pose` has a canvas of at least 1 x 1 and finite body (20, 3) and hands (21, 3)."""
    if int(pose.width) < 1 or int(pose.height) < 1:
        raise ValueError(f"a Wan pose needs a canvas of at least 1 x 1 pixels, not {pose.width} x {pose.height}")
    for name, rows, count in (("body", pose.body, NUM_WAN_BODY), ("left_hand", pose.left_hand, NUM_HAND),
                              ("right_hand", pose.right_hand, NUM_HAND)):
        rows = np.asarray(rows)
        if rows.shape != (count, 3):
            raise ValueError(f"a Wan pose's {name} must have shape ({count}, 3), not {rows.shape}")
        if not np.isfinite(rows).all():
            raise ValueError(f"a Wan pose's {name} holds a number that is not finite")


# ------------------------------------------------------------------------------------------- measurements

def pixel_points(body: list, width: int, height: int) -> list[list[float]]:
    """Body rows [x, y, score] (relative) as [x * width, y * height, score] (float64)."""
    return [[x * width, y * height, score] for x, y, score in body]


def bone_length(start: list, end: list) -> float:
    """The distance between two points [x, y, ...], computed as the official does (** 2, ** 0.5)."""
    return ((start[0] - end[0]) ** 2 + (start[1] - end[1]) ** 2) ** 0.5


def bone_angle(start: list, end: list) -> float:
    """The direction from `end` to `start` in degrees: atan2(dy, dx), as the official measures it."""
    return math.degrees(math.atan2(start[1] - end[1], start[0] - end[0]))


def body_height(pose: WanPose, body: list, lower: tuple[int, int]) -> float:
    """The canvas height times |mean y of the two `lower` points - y of the nose| (relative coordinates)."""
    return pose.height * abs((body[lower[0]][1] + body[lower[1]][1]) / 2 - body[NOSE][1])


def template_to_reference_scale(template: WanPose, reference: WanPose) -> float:
    """retarget_pose's scale_min: the template's body height over the reference's, nose to ankles when the nose
    and both ankles score > 0.5 in both, else nose to hips when those do, else the ratio of the square roots of
    the canvas areas. A rule whose height is zero in either pose is skipped (where the official fails)."""
    template_body, reference_body = np.asarray(template.body).tolist(), np.asarray(reference.body).tolist()
    for lower in ((RIGHT_ANKLE, LEFT_ANKLE), (RIGHT_HIP, LEFT_HIP)):
        points = (NOSE, *lower)
        if all(body[n][2] > SCALE_SCORE for body in (template_body, reference_body) for n in points):
            template_height = body_height(template, template_body, lower)
            reference_height = body_height(reference, reference_body, lower)
            if template_height != 0 and reference_height != 0:
                return 1.0 * template_height / reference_height
    return (math.sqrt(int(template.height) * int(template.width))
            / math.sqrt(int(reference.height) * int(reference.width)))


def body_kind(body: list) -> int:
    """check_full_body: FULL_BODY when both hips and both ankles have y <= 1 and score >= 0.4,
    THREE_QUARTER_BODY when the hips do, else HALF_BODY."""
    def seen(point):
        return body[point][1] <= 1 and body[point][2] >= BODY_KIND_SCORE

    if seen(RIGHT_HIP) and seen(LEFT_HIP):
        return FULL_BODY if seen(RIGHT_ANKLE) and seen(LEFT_ANKLE) else THREE_QUARTER_BODY
    return HALF_BODY


def measured_ratios(template_points: list, reference_points: list) -> list:
    """Per bone, its reference length / its template length (pixel points); None where that is not finite (a
    template bone of zero length)."""
    ratios = []
    for start, end in BONES:
        template_length = bone_length(template_points[start], template_points[end])
        reference_length = bone_length(reference_points[start], reference_points[end])
        ratio = 1.0 * reference_length / template_length if template_length != 0 else math.inf
        ratios.append(ratio if math.isfinite(ratio) else None)
    return ratios


def filled_ratios(ratios: list) -> list[float]:
    """The ratios with each None replaced by the mean of the two shoulder ratios when both are known, else 1.0
    (the official's rule for ratios it cannot measure, for cases where it fails)."""
    right, left = ratios[RIGHT_SHOULDER_BONE], ratios[LEFT_SHOULDER_BONE]
    fill = (right + left) / 2 if right is not None and left is not None else 1.0
    return [fill if ratio is None else ratio for ratio in ratios]


def paired_ratios(ratios: list[float]) -> list[float]:
    """rescale_shorten_skeleton: a right and a left bone both take the larger ratio (Python's max: the first
    unless the second is greater), the nose-eye and eye-ear bones their means."""
    ratios = list(ratios)
    for first, second in RIGHT_LEFT_BONES:
        ratios[first] = ratios[second] = max(ratios[first], ratios[second])
    for first, second in AVERAGED_BONES:
        ratios[first] = ratios[second] = (ratios[first] + ratios[second]) / 2
    return ratios


def rebuilt_body(points: list, ratios: list[float], limit_feet: bool) -> list[list[float]]:
    """The body rebuilt from the neck outwards (rescale_skeleton, get_scaled_pose): each bone keeps its
    direction, gets its length times its ratio and starts from its start point as already rebuilt; with
    `limit_feet` each toe bone is at most half its shin (after the ratios). Points are [x, y, ...] in pixels;
    anything after x, y is kept."""
    lengths = [bone_length(points[start], points[end]) * ratio for (start, end), ratio in zip(BONES, ratios)]
    angles = [bone_angle(points[start], points[end]) for start, end in BONES]
    if limit_feet:
        for foot, shin in ((RIGHT_FOOT, RIGHT_SHIN), (LEFT_FOOT, LEFT_SHIN)):
            lengths[foot] = min(lengths[foot], lengths[shin] * FOOT_PER_SHIN)
    rebuilt = [list(point) for point in points]
    for (start, end), length, angle in zip(BONES, lengths, angles):
        radians = math.radians(angle)
        rebuilt[end] = [rebuilt[start][0] - length * math.cos(radians),
                        rebuilt[start][1] - length * math.sin(radians), *points[end][2:]]
    return rebuilt


def template_offset(template: WanPose, reference_body: list, scaled_size: tuple[int, int], ratios: list[float],
                    kind: int) -> tuple[tuple[float, float], float]:
    """((dx, dy), anchor x): what retarget_pose subtracts from the rebuilt frames' points to put them on the
    reference (on its scaled canvas, `scaled_size` = (width, height)), and the x of the rebuilt template's
    anchor (mean hip x for a full body, else the neck x) that the first frame's correction measures from."""
    width, height = scaled_size
    points = [[x * template.width, y * template.height] for x, y, _ in np.asarray(template.body).tolist()]
    rebuilt = rebuilt_body(points, ratios, limit_feet=False)
    ref = reference_body
    if kind == FULL_BODY:
        # the reference's lower foot: the mean of ankle and toe y, the left foot first in max() as the official
        foot_y = max((ref[LEFT_ANKLE][1] + ref[LEFT_TOE][1]) / 2, (ref[RIGHT_ANKLE][1] + ref[RIGHT_TOE][1]) / 2)
        dy = max(rebuilt[RIGHT_ANKLE][1], rebuilt[LEFT_ANKLE][1]) - foot_y * height
        anchor_x = (rebuilt[RIGHT_HIP][0] + rebuilt[LEFT_HIP][0]) / 2
        dx = anchor_x - (ref[RIGHT_HIP][0] + ref[LEFT_HIP][0]) * width / 2
    else:
        anchor_x = rebuilt[NECK][0]
        dy = rebuilt[NECK][1] - ref[NECK][1] * height
        dx = anchor_x - ref[NECK][0] * width
    return (dx, dy), anchor_x


# ------------------------------------------------------------------------------------------- one frame

def retarget_frame(frame: WanPose, ratios: list[float], scale: float, offset: tuple[float, float],
                   anchor_x: float, kind: int, first: bool, reference: WanPose) -> WanPixels:
    """get_scaled_pose and the AAPoseMeta of one frame: the body rebuilt, moved by `offset` (corrected on the
    `first` frame), divided by `scale`; the hands scaled and moved with the wrists; on the reference's canvas."""
    width, height = frame.width, frame.height
    points = pixel_points(np.asarray(frame.body).tolist(), width, height)
    rebuilt = rebuilt_body(points, ratios, limit_feet=True)
    dx, dy = offset
    if first and kind == FULL_BODY:
        dx = dx + ((rebuilt[RIGHT_HIP][0] + rebuilt[LEFT_HIP][0]) / 2 - anchor_x)
    elif first and kind == HALF_BODY:
        dx = dx + (rebuilt[NECK][0] - anchor_x)
    placed = [[(x - dx) / scale, (y - dy) / scale, score] for x, y, score in rebuilt]

    hand_ratio = max(ratios[RIGHT_SHOULDER_BONE], ratios[LEFT_SHOULDER_BONE]) / scale
    right_hand = scaled_hand(relative_hand(frame.right_hand, width, height), hand_ratio)
    left_hand = scaled_hand(relative_hand(frame.left_hand, width, height), hand_ratio)
    right_shift = wrist_shift(placed[RIGHT_WRIST], points[RIGHT_WRIST], right_hand[0], width, height)
    left_shift = wrist_shift(placed[LEFT_WRIST], points[LEFT_WRIST], left_hand[0], width, height)
    # Both distances from the right hand's root (the official's), to tell whether the hands are crossed.
    root_x, root_y = right_hand[0][0] * width, right_hand[0][1] * height
    to_right_wrist = ((points[RIGHT_WRIST][0] - root_x) ** 2 + (points[RIGHT_WRIST][1] - root_y) ** 2) ** 0.5
    to_left_wrist = ((points[LEFT_WRIST][0] - root_x) ** 2 + (points[LEFT_WRIST][1] - root_y) ** 2) ** 0.5
    if to_right_wrist > to_left_wrist:
        out_right = placed_hand(right_hand, left_shift, width, height)
        out_left = placed_hand(left_hand, right_shift, width, height)
    else:  # the official's usual case: the right hand at the right wrist, handed out as the left hand
        out_left = placed_hand(right_hand, right_shift, width, height)
        out_right = placed_hand(left_hand, left_shift, width, height)

    out_width, out_height = reference.width, reference.height
    body = np.array([[x / out_width, y / out_height, score] for x, y, score in placed])
    body[:, :2] *= (out_width, out_height)
    return WanPixels(out_width, out_height, body, out_left, out_right)


def relative_hand(hand: np.ndarray, width: int, height: int) -> list[list[float]]:
    """A hand's rows as write_to_poses has them: multiplied by (width, height) in float64, divided back."""
    return [[x * width / width, y * height / height, score]
            for x, y, score in np.asarray(hand, np.float64).tolist()]


def scaled_hand(hand: list, ratio: float) -> list[list[float]]:
    """deal_hand_keypoints: the (relative) hand scaled by `ratio` about its root (point 0, whatever its score);
    points scoring < 0.4 become DROPPED."""
    shift_x, shift_y = hand[0][0] * (ratio - 1), hand[0][1] * (ratio - 1)
    return [list(DROPPED) if score < HAND_SCORE else [x * ratio - shift_x, y * ratio - shift_y, score]
            for x, y, score in hand]


def wrist_shift(placed_wrist: list, wrist: list, hand_root: list, width: int, height: int) -> tuple[float, float]:
    """How far a hand moves in pixels: its wrist's move (placed minus original), plus, when the hand's root was
    kept, the root's distance to the original wrist (so the root lands on the placed wrist)."""
    shift_x, shift_y = placed_wrist[0] - wrist[0], placed_wrist[1] - wrist[1]
    if hand_root[0] != -1:
        shift_x += wrist[0] - hand_root[0] * width
        shift_y += wrist[1] - hand_root[1] * height
    return shift_x, shift_y


def placed_hand(hand: list, shift: tuple[float, float], width: int, height: int) -> np.ndarray:
    """get_handpose_meta and the AAPoseMeta's hand: (21, 3) float64 rows int(x * width + shift x),
    int(y * height + shift y), score; NaN, NaN, 0 for a dropped point."""
    rows = []
    for x, y, score in hand:
        if score == 0:
            rows.append([math.nan, math.nan, 0.0])
        else:
            rows.append([float(int(x * width + shift[0])), float(int(y * height + shift[1])), score])
    return np.array(rows, np.float64)
