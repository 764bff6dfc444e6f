"""diffusers integration, end to end and offline.

A tiny Stable Diffusion 1.5-shaped ControlNet pipeline is built here from small, seeded, randomly
initialised components (nothing comes from the Hugging Face Hub), and our pose map is its `image=`.
A forward pre-hook on the ControlNet records the `controlnet_cond` it receives, so the tests check
that the pose map arrives at the right size, in [0, 1], and equal to our pixels / 255.

Needs torch, diffusers and transformers (skipped without them); the pose maps come from stand-in models
(the crowd detector and a random pose model) on a synthetic portrait, so ../shared is not needed.
"""

import contextlib
import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from annotator.dwpose import DWposeDetector

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")

pytestmark = [pytest.mark.requires_diffusers, pytest.mark.usefixtures("one_torch_thread")]

DETECT_RESOLUTION = 256
IMAGE_RESOLUTION = 64  # small, so the pipeline is cheap; sides are multiples of 64 as SD needs
MAP_SIZE = (64, 128)  # PIL (width, height) of the pose map; not square, so a swapped H/W would show
PROMPT = "a person dancing"
STEPS = 2


@pytest.fixture(scope="module", autouse=True)
def offline(hub_offline):
    """Nothing in this module may reach the Hugging Face Hub."""


@pytest.fixture(scope="module")
def detector(crowd_yolox, random_pose):
    # The stand-in person detector (people found in any image) and the stand-in pose model with a real
    # model's kind of output (varied keypoints and scores), so the pose map has limbs, hands and face
    # points to compare.
    return DWposeDetector(crowd_yolox, random_pose)


@pytest.fixture(scope="module")
def photo(crowd_image):
    """A 416 x 624 portrait (the left half of the synthetic crowd): a 64 x 128 (W x H) pose map."""
    return Image.fromarray(crowd_image[:, :416])


def pose_map_of(detector, image, **options):
    return detector(image, detect_resolution=DETECT_RESOLUTION, image_resolution=IMAGE_RESOLUTION, **options)


def write_tokenizer(folder):
    """A CLIP BPE tokenizer with a tiny vocabulary (letters, a few merges), from local files only."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    merges = ["p e", "pe r", "per s", "o n</w>", "d a", "da n", "dan c"]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in [*letters, *(c + "</w>" for c in letters), *(m.replace(" ", "") for m in merges)]:
        vocab.setdefault(token, len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 16}), encoding="utf-8")
    return transformers.CLIPTokenizer.from_pretrained(folder, local_files_only=True), len(vocab)


def tiny_components(tokenizer_dir):
    """Seeded SD1.5-shaped components: 2-level UNet and VAE (latents are 1/2 of the image), a
    ControlNet copied from the UNet whose condition embedding also halves the image, CLIP text."""
    from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, UNet2DConditionModel

    tokenizer, vocab_size = write_tokenizer(tokenizer_dir)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=(2, 4),
    )
    torch.manual_seed(0)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
    )
    torch.manual_seed(0)
    text_encoder = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    ))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False)
    return dict(unet=unet, controlnet=controlnet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                scheduler=scheduler)


@pytest.fixture(scope="module")
def components(tmp_path_factory):
    return tiny_components(tmp_path_factory.mktemp("tiny_sd") / "tokenizer")


@pytest.fixture(scope="module")
def pipe(components):
    from diffusers import StableDiffusionControlNetPipeline

    pipe = StableDiffusionControlNetPipeline(**components, safety_checker=None, feature_extractor=None,
                                             requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextlib.contextmanager
def control_inputs(controlnet):
    """Records the `controlnet_cond` of every ControlNet forward call."""
    seen = []

    def hook(module, args, kwargs):
        seen.append(kwargs["controlnet_cond"].detach().clone())

    handle = controlnet.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def as_control(pose_map) -> "torch.Tensor":
    """What the ControlNet should receive for a pose map: float (3, H, W), our uint8 pixels / 255."""
    return torch.from_numpy(np.array(pose_map, dtype=np.float32) / 255.0).permute(2, 0, 1)


def generate(pipe, prompt, image, **kwargs):
    width, height = MAP_SIZE
    kwargs = dict(height=height, width=width, num_inference_steps=STEPS, output_type="np",
                  generator=torch.Generator().manual_seed(0), **kwargs)
    with control_inputs(pipe.controlnet) as seen:
        images = pipe(prompt, image=image, **kwargs).images
    return images, seen


def check_images(images, count):
    width, height = MAP_SIZE
    assert images.shape == (count, height, width, 3)
    assert np.isfinite(images).all()
    assert images.min() >= 0 and images.max() <= 1


def test_pose_map_reaches_the_controlnet_unchanged(detector, photo, pipe):
    pose_map = pose_map_of(detector, photo)
    assert isinstance(pose_map, Image.Image) and pose_map.mode == "RGB"
    assert pose_map.size == MAP_SIZE
    pixels = np.asarray(pose_map)
    assert pixels.any(axis=-1).mean() > 0.05 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10

    width, height = pose_map.size
    images, seen = generate(pipe, PROMPT, pose_map, guidance_scale=7.5)
    assert len(seen) == STEPS  # one ControlNet call per denoising step
    expected = as_control(pose_map)
    for cond in seen:
        # Classifier-free guidance: the unconditional and the conditional half get the same map.
        assert cond.shape == (2, 3, height, width) and cond.dtype == torch.float32
        # The control image is not normalised to [-1, 1]: the black background stays 0.
        assert cond.min() == 0 and cond.max() <= 1
        for half in cond:
            torch.testing.assert_close(half, expected, rtol=0, atol=1e-6)
    check_images(images, 1)


def test_numpy_pose_map_is_passed_as_a_batch_in_0_1(detector, photo, pipe):
    """output_type="np" gives the same uint8 pixels as the PIL map. diffusers reads a numpy image as a
    batch (N, H, W, C) of floats in [0, 1] and does not divide by 255: pass pose_map[None] / 255."""
    array = pose_map_of(detector, photo, output_type="np")
    pil = pose_map_of(detector, photo)
    assert array.dtype == np.uint8 and np.array_equal(array, np.asarray(pil))
    width, height = MAP_SIZE
    with pytest.raises(ValueError, match=f"image batch size: {height}"):  # (H, W, C) is taken as H images
        pipe(PROMPT, image=array, height=height, width=width, num_inference_steps=STEPS)

    images, seen = generate(pipe, PROMPT, array[None].astype(np.float32) / 255.0, guidance_scale=1.0)
    for cond in seen:
        assert cond.shape == (1, 3, height, width)  # no guidance: no unconditional half
        torch.testing.assert_close(cond[0], as_control(pil), rtol=0, atol=1e-6)
    check_images(images, 1)


def video_frames(photo):
    """Three frames of the same size, as from a video: the photo, mirrored, and shifted."""
    shifted = Image.fromarray(np.roll(np.asarray(photo), photo.width // 8, axis=1))
    return [photo, ImageOps.mirror(photo), shifted]


@pytest.fixture(scope="module")
def frame_maps(detector, photo):
    return pose_map_of(detector, video_frames(photo))


def test_list_of_frames_gives_list_of_pose_maps(detector, photo, frame_maps):
    frames = video_frames(photo)
    assert isinstance(frame_maps, list) and len(frame_maps) == len(frames)
    for frame, pose_map in zip(frames, frame_maps):
        assert isinstance(pose_map, Image.Image) and pose_map.size == MAP_SIZE
        assert np.array_equal(np.asarray(pose_map), np.asarray(pose_map_of(detector, frame)))
    assert not np.array_equal(np.asarray(frame_maps[0]), np.asarray(frame_maps[1]))  # the frames differ

    arrays = pose_map_of(detector, tuple(frames), output_type="np")
    assert isinstance(arrays, list)
    for array, pose_map in zip(arrays, frame_maps):
        assert array.dtype == np.uint8 and np.array_equal(array, np.asarray(pose_map))


def test_pose_maps_of_frames_are_the_image_batch(pipe, frame_maps):
    # diffusers' rule: an image list of length n > 1 needs n prompts; each image goes with its prompt
    # and is repeated num_images_per_prompt times.
    n, per_prompt = len(frame_maps), 2
    width, height = MAP_SIZE
    images, seen = generate(pipe, [PROMPT] * n, frame_maps, num_images_per_prompt=per_prompt, guidance_scale=7.5)
    expected = torch.stack([as_control(m) for m in frame_maps]).repeat_interleave(per_prompt, dim=0)
    expected = torch.cat([expected, expected])  # unconditional half, conditional half
    assert len(seen) == STEPS
    for cond in seen:
        assert cond.shape == (2 * n * per_prompt, 3, height, width)
        torch.testing.assert_close(cond, expected, rtol=0, atol=1e-6)
    check_images(images, n * per_prompt)

    with pytest.raises(ValueError, match="batch size"):
        pipe(PROMPT, image=frame_maps, height=height, width=width, num_inference_steps=STEPS)


def test_pose_maps_of_frames_condition_animatediff(components, frame_maps):
    """Video: AnimateDiff + ControlNet takes one pose map per frame (conditioning_frames)."""
    from diffusers import AnimateDiffControlNetPipeline, MotionAdapter

    torch.manual_seed(0)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=1, motion_num_attention_heads=2,
                            motion_norm_num_groups=2, motion_max_seq_length=8, use_motion_mid_block=False)
    pipe = AnimateDiffControlNetPipeline(**components, motion_adapter=adapter)
    pipe.set_progress_bar_config(disable=True)
    n = len(frame_maps)
    width, height = MAP_SIZE
    with control_inputs(pipe.controlnet) as seen:
        frames = pipe(PROMPT, conditioning_frames=frame_maps, num_frames=n, height=height, width=width,
                      num_inference_steps=STEPS, guidance_scale=7.5, output_type="np",
                      generator=torch.Generator().manual_seed(0)).frames
    expected = torch.stack([as_control(m) for m in frame_maps])
    assert len(seen) == STEPS
    for cond in seen:
        assert cond.shape == (2 * n, 3, height, width)  # frames of the unconditional, then conditional video
        torch.testing.assert_close(cond, torch.cat([expected, expected]), rtol=0, atol=1e-6)
    frames = np.asarray(frames)
    assert frames.shape == (1, n, height, width, 3) and np.isfinite(frames).all()
