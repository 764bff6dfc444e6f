"""The Wan 2.2 Animate bundle (video/wan_animate.py, WanAnimateInputs.as_pil) fed to a real diffusers
`WanAnimatePipeline`, offline, built from tiny seeded random components (tiny_wan_animate.py: diffusers' own fast
test's components, a text encoder built from a config, and the real model's 512 x 512 face input).

What the pipeline does with the bundle's sizes (diffusers 0.42.1, src/diffusers/pipelines/wan/pipeline_wan_animate.py,
WanAnimatePipeline.__call__, steps 4 and 5):

- `image` and every `pose_video` frame are resized to (`height`, `width`), the generated video's size, with a
  "Reshaping reference image / pose video" warning when their size differs; `height` and `width` must be multiples
  of 16 (check_inputs), as the bundle's reference is (resize_by_area, divisor 16). So the call passes the
  reference's size, and the pose frames already have it;
- every `face_video` frame is resized to `transformer.config.motion_encoder_size` square ("Reshaping face video"
  warning otherwise): 512 in WanAnimateTransformer3DModel's defaults and Wan 2.2 Animate, the bundle's FACE_SIZE.
  The motion encoder raises on any other size (WanAnimateMotionEncoder.forward, transformer_wan_animate.py);
- the videos are generated in segments of `segment_frame_length` frames (rounded to 4k+1: the VAE's 4x temporal
  compression), the pose and face videos padded by reflection to fill the last segment and the output cut back
  to len(pose_video). Any number of frames works; 5 frames and segment_frame_length=5 make one segment, cheap.

The test checks that the pipeline takes the bundle as it is, with none of those warnings (so nothing resized), that
the face frames reach the motion encoder unchanged (pixels / 127.5 - 1, in order), and that the output is a
(frames, height, width, 3) video of finite values in [0, 1].

The prompt goes in as `prompt_embeds` (seeded random): WanAnimatePipeline's prompt cleaning calls ftfy when a prompt
is given, and fails with a NameError where ftfy is not installed (diffusers imports it only if available).
"""

import inspect
import logging

import numpy as np
import pytest
from PIL import Image

from annotator.dwpose import DWposeDetector

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")
av = pytest.importorskip("av")
if not hasattr(diffusers, "WanAnimatePipeline"):
    pytest.skip("this diffusers has no WanAnimatePipeline (added in 0.36)", allow_module_level=True)

pytestmark = [pytest.mark.requires_diffusers, pytest.mark.requires_video, pytest.mark.usefixtures("one_torch_thread")]

RESOLUTION_AREA = (64, 64)  # the reference (300 x 400) becomes 48 x 64 (W x H): not square, so a swap would show
FRAMES = 5  # 10 frames at 10 fps sampled to 5 fps
STEPS = 1


@pytest.fixture(scope="module", autouse=True)
def offline(hub_offline):
    """Nothing in this module may reach the Hugging Face Hub."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory, crowd_image):
    """10 frames at 10 fps of the crowd panning."""
    from annotator.dwpose import VideoWriter

    path = tmp_path_factory.mktemp("wan_diffusers") / "drive.mp4"
    with VideoWriter(path, 10) as writer:
        for i in range(10):
            writer.write(np.roll(crowd_image, 6 * i, axis=1), i / 10)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("wan_diffusers_ref") / "character.png"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (400, 300, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def bundle(crowd_yolox, random_pose, clip, reference):
    """The bundle with the stand-in crowd detector and the random pose model: its varied face points give face
    boxes with an area (the marker model puts every point at one spot: empty boxes, black faces)."""
    from annotator.dwpose.video.wan_animate import wan_animate_inputs

    inputs = wan_animate_inputs(DWposeDetector(crowd_yolox, random_pose), clip, reference, fps=5,
                                resolution_area=RESOLUTION_AREA, det_every=1)
    return inputs.as_pil()


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    from tiny_wan_animate import tiny_wan_animate_pipeline

    return tiny_wan_animate_pipeline(tmp_path_factory.mktemp("tiny_wan_animate"))


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_bundle_has_the_pipelines_sizes(bundle, pipe):
    from tiny_wan_animate import FACE_SIZE

    width, height = bundle["image"].size
    assert (width, height) == (48, 64) and width % 16 == 0 and height % 16 == 0  # check_inputs: multiples of 16
    assert len(bundle["pose_video"]) == len(bundle["face_video"]) == FRAMES
    assert all(frame.size == (width, height) and frame.mode == "RGB" for frame in bundle["pose_video"])
    assert all(frame.size == (FACE_SIZE, FACE_SIZE) and frame.mode == "RGB" for frame in bundle["face_video"])
    # The face size the pipeline resizes to (transformer.config.motion_encoder_size), and the real model's default
    assert pipe.transformer.config.motion_encoder_size == FACE_SIZE
    signature = inspect.signature(diffusers.WanAnimateTransformer3DModel.__init__)
    assert signature.parameters["motion_encoder_size"].default == FACE_SIZE
    assert any(np.asarray(frame).any() for frame in bundle["pose_video"])  # someone was drawn
    assert any(np.asarray(frame).any() for frame in bundle["face_video"])  # a face was cropped


def generate(pipe, bundle: dict, mode: str):
    """The pipeline on the bundle's PIL inputs as they are (seeded prompt embeddings, one segment, one step), at
    the reference's size; returns the output and the warnings the pipeline logged."""
    from diffusers.pipelines.wan import pipeline_wan_animate

    width, height = bundle["image"].size
    records = Records()
    pipeline_logger = logging.getLogger(pipeline_wan_animate.__name__)
    pipeline_logger.addHandler(records)
    generator = torch.Generator("cpu").manual_seed(0)
    prompt_embeds = torch.randn(1, 16, pipe.transformer.config.text_dim, generator=generator)
    try:
        output = pipe(**bundle, prompt_embeds=prompt_embeds, height=height, width=width, mode=mode,
                      segment_frame_length=FRAMES, prev_segment_conditioning_frames=1, num_inference_steps=STEPS,
                      guidance_scale=1.0, generator=generator, output_type="np")
    finally:
        pipeline_logger.removeHandler(records)
    return output, records.messages


def test_pipeline_generates_from_the_bundle(bundle, pipe):
    width, height = bundle["image"].size
    faces_seen = []
    hook = pipe.transformer.motion_encoder.register_forward_pre_hook(
        lambda module, args: faces_seen.append(args[0].detach().clone()))
    try:
        output, messages = generate(pipe, bundle, "animate")
    finally:
        hook.remove()

    assert not [m for m in messages if "Reshaping" in m], messages  # nothing was resized
    video = output.frames
    assert isinstance(video, np.ndarray) and video.shape == (1, FRAMES, height, width, 3)
    assert np.isfinite(video).all() and video.min() >= 0 and video.max() <= 1

    # The face video reached the motion encoder as it is: (frames, 3, 512, 512), [-1, 1], in order
    faces = torch.cat(faces_seen).float()
    expected = np.stack([np.asarray(frame) for frame in bundle["face_video"]]).astype(np.float32) / 127.5 - 1
    assert faces.shape == (FRAMES, 3, 512, 512)
    np.testing.assert_allclose(faces.permute(0, 2, 3, 1).numpy(), expected, atol=1e-5)


def test_pipeline_replaces_from_the_replacement_bundle(crowd_yolox, random_pose, clip, reference, pipe):
    """mode="replace": the bundle's background_video and mask_video (wan_animate_inputs(replace=True), masks from a
    tiny random SAM2 through transformers) go in as they are: PIL lists of the frames' size, which replacement
    mode makes the reference's size too; the pipeline checks they are lists of PIL images and generates."""
    from test_wan_replace import tiny_sam2_config

    from annotator.dwpose.video.wan_animate import wan_animate_inputs
    from annotator.dwpose.video.wan_replace import Sam2VideoSegmenter

    segmenter = Sam2VideoSegmenter(transformers.Sam2VideoModel(tiny_sam2_config(transformers)).eval())
    inputs = wan_animate_inputs(DWposeDetector(crowd_yolox, random_pose), clip, reference, fps=5,
                                resolution_area=RESOLUTION_AREA, det_every=1, replace=True, segmenter=segmenter)
    bundle = inputs.as_pil()
    width, height = bundle["image"].size
    assert all(frame.size == (width, height) for key in ("pose_video", "background_video", "mask_video")
               for frame in bundle[key])
    assert len(bundle["background_video"]) == len(bundle["mask_video"]) == FRAMES
    output, messages = generate(pipe, bundle, "replace")
    assert not [m for m in messages if "Reshaping" in m], messages
    video = output.frames
    assert video.shape == (1, FRAMES, height, width, 3) and np.isfinite(video).all()
