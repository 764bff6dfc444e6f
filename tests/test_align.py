"""align_poses: MimicMotion's global rescale, numerically as its get_video_pose (Tencent/MimicMotion
mimicmotion/dwpose/preprocess.py, transcribed below as the oracle), and per-bone retargeting ("limbs") on
a pair of different synthetic people whose bones are known."""

import numpy as np
import pytest

from annotator.dwpose import Poses, align_poses, draw_poses
from annotator.dwpose.skeleton import FACE, FEET, LEFT_HAND, LEFT_WRIST, NECK, NOSE, RIGHT_HAND, RIGHT_WRIST
from annotator.dwpose.video.align import BONES


def skeleton(neck, lengths, angles, hand_size=20.0, face_size=30.0, seed=0):
    """134 points: the body and feet built bone by bone from the neck (bone b at angles[b] radians with
    lengths[b]), each hand 21 points around its wrist and the face 68 points around the nose."""
    rng = np.random.default_rng(seed)
    points = np.zeros((134, 2))
    points[NECK] = neck
    for (parent, child), length, angle in zip(BONES, lengths, angles):
        points[child] = points[parent] + length * np.array([np.cos(angle), np.sin(angle)])
    for part, anchor in ((LEFT_HAND, LEFT_WRIST), (RIGHT_HAND, RIGHT_WRIST)):
        points[part] = points[anchor] + rng.uniform(-0.5, 0.5, (21, 2)) * hand_size
    points[FACE] = points[NOSE] + rng.uniform(-0.5, 0.5, (68, 2)) * face_size
    return points


# Bone angles of a standing person (image y down): arms and legs down, head up.
STANDING = np.array([0, np.pi, np.pi / 2, np.pi / 2, np.pi / 2, np.pi / 2, 1.7, 1.6, 1.6, 1.4, 1.6, 1.6, -np.pi / 2,
                     -2.0, -2.5, -1.1, -0.6, 0.1, 0.5, 1.2, 3.0, 2.6, 1.9])


def as_poses(people, width, height, scores=None):
    keypoints = np.array(people, dtype=np.float64).reshape(-1, 134, 2)
    scores = np.full(keypoints.shape[:2], 0.9, np.float32) if scores is None else np.asarray(scores, np.float32)
    boxes = np.array([[*k[:18].min(0), *k[:18].max(0)] for k in keypoints], np.float32).reshape(-1, 4)
    return Poses(keypoints, scores, boxes, np.full(len(keypoints), 0.9, np.float32), width, height)


def driving_clip(frames=12, width=640, height=360):
    """A short person (bones 0.6x the reference's, other proportions) walking right, limbs swinging; a
    frame with two people (left out of MimicMotion's fit), an empty frame, and a hidden elbow."""
    rng = np.random.default_rng(1)
    lengths = rng.uniform(15, 45, len(BONES))
    clip = []
    for i in range(frames):
        angles = STANDING + rng.uniform(-0.4, 0.4, len(BONES))
        person = skeleton((200 + 10 * i, 120), lengths, angles, hand_size=12, face_size=18, seed=i)
        if i == 4:
            clip.append(as_poses([person, skeleton((500, 130), lengths, STANDING, seed=99)], width, height))
        elif i == 7:
            clip.append(Poses.empty(width, height))
        else:
            scores = np.full((1, 134), 0.9, np.float32)
            if i == 9:
                scores[0, 6] = 0.1  # the left elbow hidden
            clip.append(as_poses([person], width, height, scores))
    return clip


def reference_image(width=512, height=768):
    rng = np.random.default_rng(2)
    lengths = rng.uniform(40, 110, len(BONES))
    scores = np.full((1, 134), 0.9, np.float32)
    scores[0, 16] = 0.2  # the reference's right ear hidden: left out of the fit
    return as_poses([skeleton((256, 200), lengths, STANDING, hand_size=35, face_size=50, seed=5)], width, height,
                    scores), lengths


def mimicmotion_oracle(driving, reference):
    """get_video_pose's rescale, line by line on the dicts MimicMotion's detector builds (to_pose_dict)."""
    ref_pose = reference.to_pose_dict()
    ref_keypoint_id = [0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    ref_keypoint_id = [i for i in ref_keypoint_id
                       if len(ref_pose["bodies"]["subset"]) > 0 and ref_pose["bodies"]["subset"][0][i] >= .0]
    ref_body = ref_pose["bodies"]["candidate"][ref_keypoint_id]
    height, width = reference.height, reference.width
    detected_poses = [p.to_pose_dict() for p in driving]
    detected_bodies = np.stack([p["bodies"]["candidate"] for p in detected_poses
                                if p["bodies"]["candidate"].shape[0] == 18])[:, ref_keypoint_id]
    ay, by = np.polyfit(detected_bodies[:, :, 1].flatten(), np.tile(ref_body[:, 1], len(detected_bodies)), 1)
    fh, fw = driving[0].height, driving[0].width
    ax = ay / (fh / fw / height * width)
    bx = np.mean(np.tile(ref_body[:, 0], len(detected_bodies)) - detected_bodies[:, :, 0].flatten() * ax)
    a, b = np.array([ax, ay]), np.array([bx, by])
    for detected_pose in detected_poses:
        detected_pose["bodies"]["candidate"] = detected_pose["bodies"]["candidate"] * a + b
        detected_pose["faces"] = detected_pose["faces"] * a + b
        detected_pose["hands"] = detected_pose["hands"] * a + b
    return detected_poses


def test_mimicmotion_rescale_equals_get_video_pose():
    driving, (reference, _) = driving_clip(), reference_image()
    aligned = align_poses(driving, reference, method="mimicmotion")
    expected = mimicmotion_oracle(driving, reference)
    size = np.array([float(reference.width), float(reference.height)])
    assert len(aligned) == len(driving)
    for poses, pose in zip(aligned, expected):
        assert (poses.width, poses.height) == (reference.width, reference.height)
        ours = poses.exact_keypoints / size  # the aligned poses are in pixels of the reference image
        n = len(poses)
        np.testing.assert_allclose(ours[:, :18].reshape(n * 18, 2), pose["bodies"]["candidate"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(ours[:, FACE], pose["faces"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.concatenate([ours[:, LEFT_HAND], ours[:, RIGHT_HAND]]), pose["hands"],
                                   rtol=1e-12, atol=0)
        # Drawn as MimicMotion draws them: the same map as its own rescaled dict gives.
        theirs = Poses.from_pose_dict({k: v for k, v in pose.items() if k != "pixel_residual"}, reference.width,
                                      reference.height)
        np.testing.assert_array_equal(draw_poses(poses, style="mimicmotion"), draw_poses(theirs, style="mimicmotion"))
    assert len(aligned[7]) == 0 and len(aligned[4]) == 2  # empty frames stay empty; two people both aligned
    assert aligned[9].scores[0, 6] < 0.3  # hidden points stay hidden


def angle_of(vector):
    return np.degrees(np.arctan2(vector[1], vector[0]))


def test_limbs_take_the_reference_lengths_and_the_driving_directions():
    driving, (reference, ref_lengths) = driving_clip(), reference_image()
    aligned = align_poses(driving, reference, method="limbs")
    for frame, (before, after) in enumerate(zip(driving, aligned)):
        for n in range(len(before)):
            shown = before.visible()[n]
            for (parent, child), ref_length in zip(BONES, ref_lengths):
                if not (shown[parent] and shown[child]):
                    continue
                bone = after.exact_keypoints[n, child] - after.exact_keypoints[n, parent]
                if parent == 16 or child == 16:
                    continue  # the reference's right ear is hidden: that bone has the body's ratio instead
                assert abs(np.hypot(*bone) - ref_length) <= 1.0, (frame, parent, child)
                driving_bone = before.exact_keypoints[n, child] - before.exact_keypoints[n, parent]
                difference = (angle_of(bone) - angle_of(driving_bone) + 180) % 360 - 180
                assert abs(difference) <= 1.0, (frame, parent, child)
    assert len(aligned[7]) == 0 and aligned[9].scores[0, 6] < 0.3  # empty stays empty, hidden stays hidden


def test_limbs_anchor_at_the_reference_and_keep_the_motion():
    driving, (reference, _) = driving_clip(), reference_image()
    aligned = align_poses(driving, reference, method="limbs")
    np.testing.assert_allclose(aligned[0].exact_keypoints[0, NECK], reference.exact_keypoints[0, NECK])
    steps = [a.exact_keypoints[0, NECK] - aligned[0].exact_keypoints[0, NECK] for a in aligned if len(a)]
    moved = [d.exact_keypoints[0, NECK] - driving[0].exact_keypoints[0, NECK] for d in driving if len(d)]
    ratios = [s[0] / m[0] for s, m in zip(steps[1:], moved[1:])]
    assert np.allclose(ratios, ratios[0]) and ratios[0] > 1.5  # the walk, scaled up to the taller person
    # Hands follow their wrists and faces the nose, scaled by the reference's hand and face sizes.
    for part, anchor in ((LEFT_HAND, LEFT_WRIST), (RIGHT_HAND, RIGHT_WRIST), (FACE, NOSE)):
        offsets_before = driving[3].exact_keypoints[0, part] - driving[3].exact_keypoints[0, anchor]
        offsets_after = aligned[3].exact_keypoints[0, part] - aligned[3].exact_keypoints[0, anchor]
        ratio = np.linalg.norm(offsets_after) / np.linalg.norm(offsets_before)
        assert ratio == pytest.approx(50 / 18 if part == FACE else 35 / 12, rel=0.25)
        np.testing.assert_allclose(offsets_after, offsets_before * ratio, rtol=1e-9, atol=1e-9)
    assert np.isfinite(aligned[3].exact_keypoints[0, FEET]).all()


def test_a_reference_without_a_person_is_an_error():
    driving = driving_clip(3)
    with pytest.raises(ValueError, match="shows no person"):
        align_poses(driving, Poses.empty(512, 512))
    hidden = as_poses([np.zeros((134, 2))], 512, 512, np.zeros((1, 134)))
    with pytest.raises(ValueError, match="shows no person"):
        align_poses(driving, hidden, method="limbs")
    with pytest.raises(ValueError, match="method must be one of"):
        align_poses(driving, reference_image()[0], method="stretch")
    with pytest.raises(ValueError, match="exactly one person"):
        align_poses([driving[0].subset([])], reference_image()[0])
