"""Wan 2.2 Animate's replacement mode (annotator/dwpose/video/wan_replace.py): get_mask's plan worked out by hand from
the official code (Wan-Video/Wan2.2 @ 42bf4cf, process_pipepline.py ProcessPipeline.get_mask), SAM2 through
transformers' Sam2VideoModel (a tiny randomly initialised one) given the official sam2 predictor's frames and points
(no torchvision), and the background / mask frames."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from annotator.dwpose.errors import MissingDependencyError
from annotator.dwpose.video import wan_replace
from annotator.dwpose.video.wan_replace import (OBJECT_ID, PROMPT_BODY_POINTS, Sam2VideoSegmenter, body_masks,
                                                key_frame_indices, mask_prompts, replacement_frames, sam2_pixels)
from annotator.dwpose.wan_pose import WanPose

WIDTH, HEIGHT = 1280, 720


def wan_pose(body=None, width=WIDTH, height=HEIGHT, fill=0.5):
    """A WanPose whose 20 body rows are `body` (float32 x / width, y / height, score), else all `fill`."""
    if body is None:
        body = np.full((20, 3), fill, np.float32)
    zeros = np.zeros((21, 3), np.float32)
    return WanPose(width, height, np.asarray(body, np.float32), zeros, zeros.copy(), np.zeros((68, 3), np.float32))


# ---------------------------------------------------------------------------------------------------- mask_prompts

@pytest.mark.parametrize("frame_count, expected", [
    (0, []),
    (1, [(0, 1, [0])]),
    (4, [(0, 4, [0])]),  # 1..4 frames: one key frame, step 4
    (5, [(0, 5, [0, 1, 2, 3, 4])]),  # 4 wanted, step 5 // 4 = 1: every frame
    (7, [(0, 7, [0, 1, 2, 3, 4, 5, 6])]),
    (399, [(0, 399, [0, 99, 198, 297, 396])]),  # step 99: a fifth key frame
    (400, [(0, 400, [0, 100, 200, 300])]),  # num_step (400 + 400) // 400 = 2: the empty second chunk skipped
    (401, [(0, 400, [0, 100, 200, 300]), (400, 401, [0])]),
    (800, [(0, 400, [0, 100, 200, 300]), (400, 800, [0, 100, 200, 300])]),  # num_step 3, the third empty
    (801, [(0, 400, [0, 100, 200, 300]), (400, 800, [0, 100, 200, 300]), (800, 801, [0])]),
])
def test_chunks_and_key_frames(frame_count, expected):
    poses = [wan_pose() for _ in range(frame_count)]
    plan = mask_prompts(poses)
    assert [(start, stop, sorted(prompts)) for start, stop, prompts in plan] == expected
    for _, _, prompts in plan:
        for points in prompts.values():
            assert points.dtype == np.int32 and points.shape == (8, 2)
            assert (points == [640, 360]).all()


def test_key_frames_of_short_chunks():
    assert [key_frame_indices(n) for n in (1, 2, 3, 4)] == [[0]] * 4
    assert key_frame_indices(8) == [0, 2, 4, 6]
    assert key_frame_indices(11) == [0, 2, 4, 6, 8, 10]  # step 11 // 4 = 2: six key frames


def test_points_are_the_official_float64_product_truncated():
    """points = (float32 relative coordinates * np.array([[width, height]])).astype(int32): the int64 array makes
    the product float64, and astype truncates toward zero."""
    x7 = np.float32(7) / np.float32(WIDTH)  # float32 just under 7 / 1280
    y47 = np.float32(47) / np.float32(HEIGHT)
    # the case tells float64 from float32 arithmetic: the float32 product rounds up to the whole pixel
    assert int(x7 * np.float32(WIDTH)) == 7 and int(np.float64(x7) * WIDTH) == 6
    assert int(y47 * np.float32(HEIGHT)) == 47 and int(np.float64(y47) * HEIGHT) == 46
    body = np.full((20, 3), 0.25, np.float32)
    rows = [(x7, y47, 0.9), (0.5, 0.5, 0.0), (-0.1, 1.2, 0.1), (1.0, 0.0, 1.0),
            (0.3, 0.7, 0.5), (0.999, 0.001, 0.5), (0.25, 0.75, 0.0), (0.6, 0.4, 0.2)]
    for index, row in zip(PROMPT_BODY_POINTS, rows):
        body[index] = row
    (_, _, prompts), = mask_prompts([wan_pose(body)])
    expected = [[6, 46],  # the float32 product would give 7, 47
                [640, 360],  # score 0 and all: every point is given
                [-128, 864],  # -0.1 * 1280 = -128.0000019 truncated toward zero
                [1280, 0],
                [384, 503],  # float32(0.3) * 1280 = 384.0000114; float32(0.7) * 720 = 503.99998 -> 503
                [1278, 0],  # 1278.72, 0.72
                [320, 540],
                [768, 288]]  # float32(0.6) * 1280 = 768.0000305
    assert prompts[0].dtype == np.int32
    assert prompts[0].tolist() == expected


def test_points_use_the_chunk_first_frame_size():
    poses = [wan_pose(width=100, height=50)] + [wan_pose(width=1000, height=500) for _ in range(5)]
    (_, _, prompts), = mask_prompts(poses)
    assert sorted(prompts) == [0, 1, 2, 3, 4, 5]
    assert all((points == [50, 25]).all() for points in prompts.values())  # 0.5 * (100, 50) everywhere
    second = mask_prompts([wan_pose(width=100, height=50)] * 3 + [wan_pose(width=1000, height=500)] * 2, chunk=3)
    assert [(start, stop) for start, stop, _ in second] == [(0, 3), (3, 5)]
    assert (second[1][2][0] == [500, 250]).all()  # the second chunk's first frame


def test_none_poses_are_left_out():
    poses = [wan_pose() for _ in range(5)]
    poses[2] = None
    (_, _, prompts), = mask_prompts(poses)
    assert sorted(prompts) == [0, 1, 3, 4]
    # the chunk's first frame has nobody: the size comes from the chunk's first pose
    poses = [None, wan_pose(width=100, height=50), wan_pose(width=1000, height=500), None, None]
    (_, _, prompts), = mask_prompts(poses)
    assert sorted(prompts) == [1, 2] and (prompts[2] == [50, 25]).all()
    # nobody in a whole chunk: the chunk is kept, with no prompts
    poses = [None] * 3 + [wan_pose()] * 2
    assert [(start, stop, sorted(prompts)) for start, stop, prompts in mask_prompts(poses, chunk=3)] == [
        (0, 3, []), (3, 5, [0])]
    # a key frame missing: 399 frames, frame 99 empty
    poses = [wan_pose() for _ in range(399)]
    poses[99] = None
    (_, _, prompts), = mask_prompts(poses)
    assert sorted(prompts) == [0, 198, 297, 396]


# ------------------------------------------------------------------------------------------------------ body_masks

class FakeSegmenter:
    """Records each chunk given to segment(); the mask of frame i (global index in the frame's pixel [0, 0])."""

    def __init__(self):
        self.calls = []

    def segment(self, frames, prompts):
        self.calls.append((len(frames), {index: points.tolist() for index, points in prompts.items()}))
        return [np.full(frame.shape[:2], frame[0, 0, 0], np.uint8) for frame in frames]


def test_body_masks_runs_the_plan_chunk_by_chunk():
    frames = [np.full((6, 8, 3), index, np.uint8) for index in range(9)]
    poses = [wan_pose(width=8, height=6) for _ in range(9)]
    poses[4] = None
    segmenter = FakeSegmenter()
    masks = body_masks(frames, poses, segmenter, chunk=4)
    assert [int(mask[0, 0]) for mask in masks] == list(range(9))
    assert all(mask.shape == (6, 8) for mask in masks)
    assert [(length, sorted(prompts)) for length, prompts in segmenter.calls] == [(4, [0]), (4, []), (1, [0])]
    assert segmenter.calls[0][1][0] == [[4, 3]] * 8
    with pytest.raises(ValueError):
        body_masks(frames, poses[:-1], segmenter)


# --------------------------------------------------------------------------------------------- Sam2VideoSegmenter

SAM2_SIZE = 64  # the tiny model's input size (1024 in the real checkpoints)


def tiny_sam2_config(transformers):
    """A Sam2VideoConfig small enough for CPU tests: 64 x 64 input, a 4-stage Hiera of 5 blocks, hidden size 128 (the
    memory attention's image cross-attention takes 64 channels of memory, object pointers split into 64-channel
    parts, so 64 memory channels and a hidden size that is a multiple of 64 above it)."""
    size, hidden = SAM2_SIZE, 128
    backbone = transformers.Sam2HieraDetConfig(
        hidden_size=12, image_size=[size, size], blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[12, 24, 48, 96],
        num_attention_heads_per_stage=[1, 1, 1, 1], window_size_per_stage=[4, 2, 2, 2], global_attention_blocks=[3],
        window_positional_embedding_background_size=[2, 2])
    vision = transformers.Sam2VisionConfig(
        backbone_config=backbone, backbone_channel_list=[96, 48, 24, 12], fpn_hidden_size=hidden,
        backbone_feature_sizes=[[size // 4, size // 4], [size // 8, size // 8], [size // 16, size // 16]])
    return transformers.Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=transformers.Sam2VideoPromptEncoderConfig(hidden_size=hidden, image_size=size,
                                                                        patch_size=16, mask_input_channels=8),
        mask_decoder_config=transformers.Sam2VideoMaskDecoderConfig(hidden_size=hidden, mlp_dim=64,
                                                                    num_attention_heads=4, iou_head_hidden_dim=32),
        image_size=size, memory_attention_hidden_size=hidden, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64, memory_attention_rope_feat_sizes=[size // 16, size // 16],
        memory_encoder_hidden_size=hidden, memory_encoder_output_channels=64, mask_downsampler_embed_dim=hidden,
        memory_fuser_embed_dim=hidden, memory_fuser_intermediate_dim=64, memory_fuser_num_layers=1)


@pytest.fixture(scope="module")
def tiny_model():
    """A randomly initialised tiny Sam2VideoModel that records what each forward call was given: the frame, whether
    object 1 had new inputs, and then its point coordinates and labels on that frame; and the last session."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    class RecordingSam2VideoModel(transformers.Sam2VideoModel):
        calls: list
        session = None

        def forward(self, inference_session, frame_idx=None, *args, **kwargs):
            self.session = inference_session
            new_inputs = OBJECT_ID in inference_session.obj_with_new_inputs
            inputs = inference_session.point_inputs_per_obj.get(0, {}).get(frame_idx) if new_inputs else None
            self.calls.append((frame_idx, new_inputs,
                               None if inputs is None else inputs["point_coords"].clone(),
                               None if inputs is None else inputs["point_labels"].clone()))
            return super().forward(inference_session, frame_idx, *args, **kwargs)

    import torch

    torch.manual_seed(0)
    model = RecordingSam2VideoModel(tiny_sam2_config(transformers)).eval()
    model.calls = []
    return model


@pytest.fixture
def one_torch_thread(tiny_model):
    """torch on one thread for the test (restored after), the model's record cleared."""
    import torch

    tiny_model.calls = []
    tiny_model.session = None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def segmenter(tiny_model, one_torch_thread):
    return Sam2VideoSegmenter(tiny_model)


def random_frames(count, height, width, seed=0):
    return [frame for frame in np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), np.uint8)]


def check_masks(masks, sizes):
    assert len(masks) == len(sizes)
    for mask, size in zip(masks, sizes):
        assert mask.shape == size and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1}


def official_frame_tensor(frame, image_size):
    """Wan's sam_utils.py load_video_frames_v2 for one frame, transcribed: _load_img_v2_as_tensor (PIL resize with
    its default filter, / 255.0 in float64, permuted to (3, S, S)) written into float32 zeros, then the mean
    subtracted and the std divided, both float32 (3, 1, 1)."""
    import torch
    from PIL import Image

    img_pil = Image.fromarray(frame.astype(np.uint8))
    img_np = np.array(img_pil.convert("RGB").resize((image_size, image_size)))
    assert img_np.dtype == np.uint8
    img_np = img_np / 255.0
    images = torch.zeros(1, 3, image_size, image_size, dtype=torch.float32)
    images[0] = torch.from_numpy(img_np).permute(2, 0, 1)
    images -= torch.tensor((0.485, 0.456, 0.406), dtype=torch.float32)[:, None, None]
    images /= torch.tensor((0.229, 0.224, 0.225), dtype=torch.float32)[:, None, None]
    return images[0]


def official_points(points, width, height, image_size):
    """sam2's add_new_points_or_box with normalize_coords=True, transcribed: float32 points / tensor([W, H]) * size."""
    import torch

    points = torch.tensor(np.asarray(points), dtype=torch.float32)
    return points / torch.tensor([width, height]).to(points.device) * image_size


def test_sam2_pixels_are_the_official_frames():
    torch = pytest.importorskip("torch")
    from PIL import Image

    frames = random_frames(1, 37, 52, seed=3) + random_frames(1, 80, 45, seed=4)  # smaller and larger than 64
    pixels = sam2_pixels(frames, SAM2_SIZE)
    assert pixels.dtype == torch.float32 and pixels.shape == (2, 3, SAM2_SIZE, SAM2_SIZE)
    for frame, tensor in zip(frames, pixels):
        assert torch.equal(tensor, official_frame_tensor(frame, SAM2_SIZE))
    # PIL's default filter is bicubic (not bilinear, the transformers processor's)
    bicubic = np.array(Image.fromarray(frames[0]).resize((SAM2_SIZE, SAM2_SIZE), Image.BICUBIC))
    bilinear = np.array(Image.fromarray(frames[0]).resize((SAM2_SIZE, SAM2_SIZE), Image.BILINEAR))
    assert (np.array(Image.fromarray(frames[0]).resize((SAM2_SIZE, SAM2_SIZE))) == bicubic).all()
    assert not (bicubic == bilinear).all()


def test_sam2_prompts_on_frames_0_and_2(segmenter):
    import torch

    height, width = 40, 60
    frames = random_frames(4, height, width)
    # points whose float32 scaling differs between sam2 (x / 60 * 64) and transformers' processor (x * (64 / 60))
    points0 = np.array([[38, 0], [4, 13], [48, 24]], np.int32)
    points2 = np.array([[45, 12], [7, 33]], np.int32)
    masks = segmenter.segment(frames, {0: points0, 2: points2})
    check_masks(masks, [(height, width)] * 4)
    calls = segmenter.model.calls
    # each prompted frame first, in order, with its points, then propagation from frame 0 through the chunk
    assert [(frame, new) for frame, new, _, _ in calls[:2]] == [(0, True), (2, True)]
    assert [frame for frame, _, _, _ in calls[2:]] == [0, 1, 2, 3]
    assert not any(new for _, new, _, _ in calls[2:])
    for (frame, _, coords, labels), points in zip(calls[:2], (points0, points2)):
        # what reaches the session: (image 1, object 1, points, x y) float32 scaled as sam2 scales them
        expected = official_points(points, width, height, SAM2_SIZE)
        assert coords.dtype == torch.float32 and coords.shape == (1, 1, len(points), 2)
        assert torch.equal(coords[0, 0], expected)
        assert labels.tolist() == [[[1] * len(points)]]
    # transformers' processor would have given other numbers (its scaling, called unbound: it uses no state)
    from transformers.models.sam2_video.processing_sam2_video import Sam2VideoProcessor

    processor_scaled = Sam2VideoProcessor._normalize_coordinates(None, SAM2_SIZE, torch.from_numpy(points0).float(),
                                                                 (height, width))
    torch.testing.assert_close(calls[0][2][0, 0], processor_scaled)  # the same up to the last bit
    assert not torch.equal(calls[0][2][0, 0], processor_scaled)
    # the session's frames are the official's preprocessing of each frame
    session = segmenter.model.session
    for index, frame in enumerate(frames):
        assert torch.equal(session.get_frame(index), official_frame_tensor(frame, SAM2_SIZE))


def test_sam2_frames_of_different_sizes(segmenter, monkeypatch):
    """Each frame's points are scaled by its own size and its mask comes back at its own size, resized from the
    model's low-resolution logits as sam2 resizes them (bilinear, align_corners=False), then > 0."""
    import torch
    import torch.nn.functional as F

    sizes = [(40, 60), (37, 52), (23, 71)]
    frames = [random_frames(1, height, width, seed=index)[0] for index, (height, width) in enumerate(sizes)]
    points = np.array([[26, 18], [3, 30]])
    logits = {}
    original = Sam2VideoSegmenter._frame_mask

    def recording_frame_mask(pred_masks, height, width):
        assert pred_masks.shape[-2:] == (SAM2_SIZE // 4, SAM2_SIZE // 4)  # the low-resolution logits
        logits[(height, width)] = pred_masks.clone()
        return original(pred_masks, height, width)

    monkeypatch.setattr(Sam2VideoSegmenter, "_frame_mask", staticmethod(recording_frame_mask))
    masks = segmenter.segment(frames, {1: points})
    check_masks(masks, sizes)
    (frame, new, coords, _), = segmenter.model.calls[:1]
    assert (frame, new) == (1, True)
    assert torch.equal(coords[0, 0], official_points(points, 52, 37, SAM2_SIZE))  # frame 1 is 52 x 37
    for mask, size in zip(masks, sizes):
        resized = F.interpolate(logits[size].float(), size=size, mode="bilinear", align_corners=False)
        assert (mask == (resized[0, 0] > 0).numpy()).all()


def test_sam2_prompt_on_a_later_frame_reaches_the_frames_before_it(segmenter):
    height, width = 37, 52  # masks come back at the frames' own size, whatever the model's input size
    masks = segmenter.segment(random_frames(4, height, width, seed=1), {2: np.array([[26, 18], [3, 30]])})
    check_masks(masks, [(height, width)] * 4)
    calls = segmenter.model.calls
    assert (calls[0][0], calls[0][1]) == (2, True)
    assert [frame for frame, _, _, _ in calls[1:]] == [2, 3, 2, 1, 0]  # forward from 2, then backward from it


def test_sam2_without_prompts_returns_zeros_without_running(segmenter, monkeypatch):
    def untouched(*args, **kwargs):
        raise AssertionError("the frames were prepared")

    monkeypatch.setattr(wan_replace, "sam2_pixels", untouched)
    frames = random_frames(3, 20, 30)
    for prompts in ({}, {1: np.zeros((0, 2), np.int32)}):
        masks = segmenter.segment(frames, prompts)
        check_masks(masks, [(20, 30)] * 3)
        assert not any(mask.any() for mask in masks)
    assert segmenter.model.calls == []
    with pytest.raises(ValueError):
        segmenter.segment(frames, {3: np.array([[1, 1]])})


def test_from_pretrained_loads_only_the_model(tmp_path):
    """A folder with the model's config and weights alone (no processor files) is enough."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    transformers.Sam2VideoModel(tiny_sam2_config(transformers)).save_pretrained(tmp_path)
    assert not [path.name for path in tmp_path.iterdir() if "processor" in path.name]
    segmenter = Sam2VideoSegmenter.from_pretrained(str(tmp_path), device="cpu", dtype=torch.float32)
    assert type(segmenter.model) is transformers.Sam2VideoModel and not segmenter.model.training
    assert segmenter.model.device.type == "cpu" and segmenter.model.dtype == torch.float32
    assert segmenter.image_size == SAM2_SIZE


def test_from_pretrained_names_the_extra_when_transformers_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers raises ImportError
    with pytest.raises(MissingDependencyError, match=r"dwpose-annotator\[sam2\]"):
        Sam2VideoSegmenter.from_pretrained()


def test_the_module_imports_without_torch_and_transformers():
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None; "
            "import annotator.dwpose.video.wan_replace")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# -------------------------------------------------------------------------------------------- replacement_frames

def frame_and_mask(height=64, width=80, seed=0):
    frame = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
    frame[0, 0] = 255  # values that would wrap if the arithmetic left uint8 0/1 masks
    return frame, np.zeros((height, width), np.uint8)


def check_outputs(frame, expected_mask, background, mask_frame):
    assert background.dtype == np.uint8 and mask_frame.dtype == np.uint8
    assert mask_frame.shape == frame.shape and background.shape == frame.shape
    assert (mask_frame == (expected_mask * 255)[:, :, None]).all()
    inside = expected_mask.astype(bool)
    assert (background[inside] == 0).all()
    assert (background[~inside] == frame[~inside]).all()


def test_rectangle_mask_is_grown_by_the_dilation():
    frame, mask = frame_and_mask()
    mask[20:30, 30:50] = 1  # rows 20..29, columns 30..49
    original = mask.copy()
    (background,), (mask_frame,) = replacement_frames([frame], [mask])  # 3 iterations of a 7 x 7 square
    expected = np.zeros_like(mask)
    expected[11:39, 21:59] = 1  # 3 pixels per side per iteration: rows 11..38, columns 21..58
    check_outputs(frame, expected, background, mask_frame)
    assert (mask == original).all()  # the mask given is not changed


def test_blocky_mask_fills_the_box_but_its_last_row_and_column():
    frame, mask = frame_and_mask()
    mask[10:13, 10:13] = 1
    mask[40:43, 60:63] = 1
    (background,), (mask_frame,) = replacement_frames([frame], [mask], iterations=1, k=7)
    dilated = np.zeros_like(mask)  # one 7 x 7 dilation: each square grown by 3 pixels per side
    dilated[7:16, 7:16] = 1
    dilated[37:46, 57:66] = 1
    expected = dilated.copy()
    expected[7:45, 7:65] = 1  # one w_len x h_len cell: the box x 7..65, y 7..45 without its last row and column
    check_outputs(frame, expected, background, mask_frame)
    assert expected[45, 57:66].all() and not expected[45, :57].any()  # the last row: only the dilated square


def test_iterations_0_keeps_the_mask():
    frame, mask = frame_and_mask()
    mask[10:13, 10:13] = 1
    mask[40:43, 60:63] = 1
    (background,), (mask_frame,) = replacement_frames([frame], [mask], iterations=0)
    check_outputs(frame, mask, background, mask_frame)


def test_empty_mask_keeps_the_frame():
    frame, mask = frame_and_mask()
    (background,), (mask_frame,) = replacement_frames([frame], [mask])
    assert (background == frame).all() and not mask_frame.any()
    with pytest.raises(ValueError):
        replacement_frames([frame, frame], [mask])
