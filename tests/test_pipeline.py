"""pipeline.py: the stages of DWposeDetector compose to what detect(), annotate() and track() give, bit for
bit; and video.VideoTracker, the tracker behind track(), used directly."""

import numpy as np
import pytest

from annotator.dwpose import DWposeDetector, PoseMapOptions, TrackingOptions, VideoTracker, draw_poses
from annotator.dwpose.images import resize_image, resize_pose_map


@pytest.fixture(scope="module")
def crowd(crowd_yolox, marker_pose):
    return DWposeDetector(crowd_yolox, marker_pose)


def same_poses(a, b) -> None:
    for field in ("exact_keypoints", "scores", "boxes", "box_scores"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.width, a.height) == (b.width, b.height)


def test_find_people_then_estimate_poses_is_detect(crowd, crowd_image):
    boxes, scores = crowd.find_people(crowd_image)
    assert len(boxes) == 6 and (np.diff(scores) <= 0).all()
    same_poses(crowd.estimate_poses(crowd_image, boxes, scores), crowd.detect(crowd_image))


def test_detect_at_a_detect_resolution_is_detect_on_the_resized_image(crowd, crowd_image):
    at_256 = crowd.detect(crowd_image, detect_resolution=256)
    same_poses(at_256, crowd.detect(resize_image(crowd_image, 256)))
    assert (at_256.width, at_256.height) == (320, 256)  # ControlNet's rule: shorter side 256, sides of 64


def test_annotate_is_detect_then_draw_then_the_map_resize(crowd, crowd_image):
    options = PoseMapOptions(include_foot=True, style="sd-webui-controlnet")
    pose_map, poses = crowd.annotate(crowd_image, 256, 384, options=options)
    same_poses(poses, crowd.detect(crowd_image, detect_resolution=256))
    expected = resize_pose_map(draw_poses(poses, options), *crowd_image.shape[:2], 384)
    np.testing.assert_array_equal(pose_map, expected)
    assert pose_map.shape == (384, 512, 3)


def test_nobody_found_gives_the_whole_image_or_nobody(empty_yolox, marker_pose, crowd_image):
    detector = DWposeDetector(empty_yolox, marker_pose)
    fallback = detector.detect(crowd_image)
    assert len(fallback) == 1 and fallback.box_scores[0] == 0
    np.testing.assert_array_equal(fallback.boxes[0], [0, 0, 832, 624])
    assert len(detector.detect(crowd_image, fallback_whole_image=False)) == 0
    assert len(DWposeDetector(empty_yolox, marker_pose, fallback_whole_image=False).detect(crowd_image)) == 0


def test_estimate_poses_refuses_boxes_that_are_not_finite(crowd, crowd_image):
    with pytest.raises(ValueError, match="finite"):
        crowd.estimate_poses(crowd_image, [[0, 0, np.nan, 10]])


class CountingDetector:
    """A pipeline's person detector, counting its runs."""

    def __init__(self, detector):
        self.detector, self.runs = detector, 0

    def __call__(self, image, score_threshold=None):
        self.runs += 1
        return self.detector(image, score_threshold)


def test_tracker_with_a_fixed_schedule_runs_the_detector_every_det_every_frames(crowd_yolox, marker_pose,
                                                                               crowd_image):
    detector = DWposeDetector(crowd_yolox, marker_pose)
    detector.detector = counting = CountingDetector(detector.detector)
    frames = [np.roll(crowd_image, 3 * i, axis=1) for i in range(9)]
    tracker = VideoTracker(detector, TrackingOptions(det_every=4, redetect=False), detect_resolution=None,
                           image_resolution=128)
    results = list(tracker.track(frames))
    assert counting.runs == 3  # frames 0, 4 and 8
    assert [len(r.poses) for r in results] == [6] * 9 and all(r.pose_map.shape == (128, 192, 3) for r in results)
    # track() is the same tracker behind the door
    detector.detector = counting.detector
    door = list(detector.track(frames, det_every=4, detect_resolution=None, image_resolution=128))
    for ours, theirs in zip(results[:4], door[:4]):  # up to the first frame where redetect may differ
        np.testing.assert_array_equal(ours.pose_map, theirs.pose_map)


def test_tracking_options_are_checked_when_made():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="det_every"):
            TrackingOptions(det_every=bad)


def test_no_person_detector_takes_the_whole_image_as_one_person(marker_pose, crowd_image):
    for spelling in ("none", "None", " NONE "):
        detector = DWposeDetector(spelling, marker_pose)
        poses = detector.detect(crowd_image)
        assert len(poses) == 1 and poses.box_scores[0] == 1
        np.testing.assert_array_equal(poses.boxes[0], [0, 0, 832, 624])
        same_poses(poses, detector.estimate_poses(crowd_image, [[0, 0, 832, 624]]))
