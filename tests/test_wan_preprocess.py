"""Wan 2.2 Animate's preprocessing steps (annotator/dwpose/wan_preprocess.py) on cases worked out by hand from the
official code (Wan-Video/Wan2.2 @ 42bf4cf, wan/modules/animate/preprocess/utils.py and process_pipepline.py)."""

import numpy as np
import pytest

from annotator.dwpose import wan_preprocess as wan


def test_frame_sampling():
    """get_frame_indices: k / fps * video_fps rounded (numpy: half to even), int(frame_num / video_fps * fps)
    frames, clipped to the last frame."""
    assert wan.sampled_frame_indices(10, 30.0, 15) == [0, 2, 4, 6, 8]
    assert wan.sampled_frame_indices(10, 30.0, None) == list(range(10))
    assert wan.sampled_frame_indices(10, 30.0, -1) == list(range(10))
    assert wan.sampled_frame_indices(5, 24.0, 30) == [0, 1, 2, 2, 3, 4]  # 0.8 k: 0, 0.8, 1.6, 2.4, 3.2, 4.0
    assert wan.sampled_frame_indices(4, 10.0, 20) == [0, 0, 1, 2, 2, 2, 3, 3]  # round(0.5) = 0, round(2.5) = 2


@pytest.mark.parametrize("size, area, divisor, expected", [
    ((1920, 1080), 1280 * 720, 16, (1280, 720)),  # sqrt(921600 / (16 / 9)) = 720 exactly
    ((1080, 1920), 1280 * 720, 16, (720, 1280)),
    ((1000, 1000), 1280 * 720, 64, (960, 960)),  # sqrt(921600) = 960
    ((640, 480), 1280 * 720, 64, (1088, 768)),  # w 1108.5 -> 1088, h 831.4 -> 768: both floored
])
def test_area_size_is_the_fallback_of_the_official_code(size, area, divisor, expected):
    width, height = size
    new_h = np.sqrt(area / (width / height))
    new_w = area / new_h
    floored = (int((new_w // divisor) * divisor), int((new_h // divisor) * divisor))
    assert wan.area_size(width, height, area, divisor) == floored == expected


def test_padding_resize_centres_with_black_bars():
    image = np.full((100, 200, 3), 200, np.uint8)
    out = wan.padding_resize(image, 200, 200)
    assert out.shape == (200, 200, 3) and out.dtype == np.uint8
    # wider than the canvas: width binds, new_h = int(200 / 200 * 100) = 100, top = int((200 - 100) / 2) = 50
    assert (out[:50] == 0).all() and (out[150:] == 0).all() and (out[50:150] == 200).all()
    tall = wan.padding_resize(np.full((300, 100, 3), 9, np.uint8), 150, 150)
    # taller: height binds, new_w = int(150 / 300 * 100) = 50, left = 50
    assert (tall[:, :50] == 0).all() and (tall[:, 100:] == 0).all() and (tall[:, 50:100] == 9).all()
    resized = wan.resize_by_area(np.zeros((1080, 1920, 3), np.uint8), 1280 * 720, divisor=16)
    assert resized.shape == (720, 1280, 3)


def test_face_box_grows_more_upward_than_downward():
    """A 100 x 50 px box of points at (200..300, 100..150) in a 1000 x 500 frame: area x 1.3 keeping the aspect
    ratio, new sides sqrt(1.3) times; x grows (new_w - 100) / 2 each side, y 3/4 of (new_h - 50) / ... up."""
    points = np.array([[200, 100], [300, 150], [250, 125]] + [[250, 125]] * 65, float) / [1000, 500]
    box = wan.face_box(points, 1000, 500)
    grow = np.sqrt(1.3)
    delta_w, delta_h = (100 * grow - 100) / 2, (50 * grow - 50) / 4
    assert box == (int(200 - delta_w), int(300 + delta_w), int(100 - 3 * delta_h), int(150 + delta_h))
    assert wan.face_box(np.array([[0.001, 0.001], [0.999, 0.999]] * 34), 100, 100) == (0, 100, 0, 100)  # clipped


def test_face_crop_is_512_and_empty_boxes_give_none():
    frame = np.arange(300 * 400 * 3, dtype=np.uint32).reshape(300, 400, 3).astype(np.uint8)
    crop = wan.face_crop(frame, (10, 110, 20, 70))
    assert crop.shape == (512, 512, 3)
    assert wan.face_crop(frame, (50, 50, 20, 70)) is None  # the official cv2.resize raises on this
    flat = np.array([[0.5, 0.2]] * 68)  # a face seen edge-on: no area, NaN growth in the official code
    assert wan.face_crop(frame, wan.face_box(flat, 400, 300)) is None


def test_masks():
    mask = np.zeros((40, 60), np.uint8)
    mask[10:12, 10:12] = 1
    mask[30, 50] = 1
    assert wan.dilated_mask(mask.copy(), k=3).sum() == 16 + 9
    blocky = wan.blocky_mask(mask.copy(), w_len=1, h_len=1)
    # one cell: the box x 10..50, y 10..30 without its last row and column, filled since it holds the mask
    assert blocky[10:30, 10:50].all() and blocky[30, 50] == 1 and blocky.sum() == 20 * 40 + 1
    assert wan.blocky_mask(np.zeros((5, 5), np.uint8)).sum() == 0
    thin = np.zeros((40, 60), np.uint8)
    thin[5:30, 20] = 1  # zero width: the official range() step of 0 raises
    assert np.array_equal(wan.blocky_mask(thin.copy()), thin)
