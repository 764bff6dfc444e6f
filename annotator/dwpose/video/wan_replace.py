"""Wan 2.2 Animate's replacement mode: the person's mask in every frame (SAM2 video segmentation prompted with body
points), the background video and the mask video, as its official preprocessing makes them (Wan-Video/Wan2.2 @
42bf4cf, wan/modules/animate/preprocess/process_pipepline.py: ProcessPipeline.__call__ with replace_flag=True and
ProcessPipeline.get_mask; utils.py get_mask_body_img, get_aug_mask; sam_utils.py / video_predictor.py), written
from those facts, with SAM2 run as Hugging Face transformers' Sam2VideoModel, given its input as the official's
sam2 predictor makes it (no transformers processor, so no torchvision).

The official steps, reproduced:
- get_mask (mask_prompts, Sam2VideoSegmenter, body_masks): the frames in chunks of 400; in each chunk, key frames
  (every (length // 4)-th frame from 0 when it has more than 4 frames: 4 to 7 key frames; frame 0 alone for 1 to
  4); on each, 8 body points (nose, neck, shoulders, hips, ankles; whatever their scores) in pixels of the chunk's
  first frame, truncated to int32; SAM2 given those points (object 1, every label 1) on each key frame in turn,
  then propagated through the chunk; the mask is the logits > 0 at the frame's own size;
- SAM2's input and output (sam2_pixels, sam2_points, Sam2VideoSegmenter): the frames as sam_utils.py's
  load_video_frames_v2 / _load_img_v2_as_tensor make them (PIL resize to the model's image size, 1024, with PIL's
  default bicubic filter; / 255.0; minus the ImageNet mean, divided by its std, float32); the points as sam2's
  add_new_points_or_box scales them (normalize_coords: float32 x / width * 1024, y / height * 1024); the masks as
  sam2's _get_orig_video_res_output makes them (the 256 x 256 logits resized to the frame's size, bilinear,
  align_corners=False), then > 0;
- per frame (replacement_frames): when iterations > 0 the mask dilated by a k x k square `iterations` times and
  made blocky (get_mask_body_img, get_aug_mask: wan_preprocess.dilated_mask, blocky_mask); the background is
  frame * (1 - mask), the mask frame mask * 255 on 3 channels (uint8 arithmetic, as the official's).

What differs:
- poses may be None (nobody in that frame; the official always has a pose): such key frames get no points; a
  chunk with no points at all gets all-zero masks without running SAM2; the pixel size is that of the chunk's
  first frame's pose, or of the chunk's first pose when that frame has none; where the first prompted frame is not
  the chunk's first (the official always prompts frame 0), the frames before it are reached by propagating
  backward from it. An all-zero mask stays all-zero (the official get_aug_mask raises on it): the background is
  the frame.
- frames of different sizes in one chunk (the official's video has one size; it scales points and masks by the
  size of the last frame it loaded): each frame's points are scaled by its own size, each mask comes back at its
  frame's size.
- SAM2 is transformers' Sam2VideoModel, not the sam2 package: the official's fill_hole_area=8 (background specks
  of up to 8 pixels in the low-resolution logits set to 0.1; done only where sam2's CUDA extension was built) is
  not done; the model runs in its own dtype (float32 unless loaded otherwise; the official's is float32); each
  prompted frame's memory is encoded when it is segmented (sam2 encodes it when propagation starts, from the same
  masks). transformers' Sam2VideoProcessor, which needs torchvision, would differ more: its frames are resized
  bilinearly with antialiasing, and its points multiplied by float32(1024 / width), not divided by the width then
  multiplied by 1024 (the last bit differs for about half the points).

Checkpoint: the official builds "sam2_hiera_l.yaml" with sam2_hiera_large.pt (UserGuider.md's ckpt layout
sam2/sam2_hiera_large.pt), SAM 2 (2024-07) Hiera-L, published in facebook/sam2-hiera-large (OFFICIAL_CHECKPOINT)
in the sam2 package's format (the .pt and its yaml), which Sam2VideoModel.from_pretrained does not read. The
transformers checkpoints of Sam2VideoModel are the SAM 2.1 ones (transformers' documentation uses
facebook/sam2.1-hiera-*), so the default is facebook/sam2.1-hiera-large (DEFAULT_CHECKPOINT), the later SAM 2.1
Hiera-L. For the official's weights, convert sam2_hiera_large.pt with transformers' convert_sam2_video_to_hf.py
(--model_name sam2_hiera_large, one of its choices) and load the folder it writes.

torch and transformers are imported only by Sam2VideoSegmenter (pip install "dwpose-annotator[sam2]").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..optional import require
from ..wan_preprocess import blocky_mask, dilated_mask

if TYPE_CHECKING:
    from ..wan_pose import WanPose

CHUNK_FRAMES = 400  # get_mask's th_step
# Wan body points given to SAM2: nose, neck, right and left shoulder, right and left hip, right and left ankle.
PROMPT_BODY_POINTS = [0, 1, 2, 5, 8, 11, 10, 13]
OBJECT_ID = 1  # the official's ann_obj_id
DEFAULT_CHECKPOINT = "facebook/sam2.1-hiera-large"  # SAM 2.1 Hiera-L in transformers' format
# The official's sam2_hiera_l.yaml + sam2_hiera_large.pt (the sam2 package's format: convert it for transformers).
OFFICIAL_CHECKPOINT = "facebook/sam2-hiera-large"
SAM2_PURPOSE = "wan-animate --replace (SAM2)"
SAM2_MEAN = (0.485, 0.456, 0.406)  # load_video_frames_v2's img_mean, img_std
SAM2_STD = (0.229, 0.224, 0.225)


def chunk_bounds(frame_count: int, chunk: int = CHUNK_FRAMES) -> list[tuple[int, int]]:
    """(start, stop) of get_mask's chunks of `frame_count` frames: num_step = 1 when frame_count < chunk, else
    (frame_count + chunk) // chunk; a chunk with no frames (the last one when frame_count is a multiple of chunk, or
    the only one of 0 frames) is skipped, as the official skips it."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 frame, got {chunk}")
    step_count = 1 if frame_count < chunk else (frame_count + chunk) // chunk
    bounds = [(step * chunk, min((step + 1) * chunk, frame_count)) for step in range(step_count)]
    return [(start, stop) for start, stop in bounds if stop > start]


def key_frame_indices(length: int) -> list[int]:
    """get_mask's key frames of a chunk of `length` (>= 1) frames, indices within the chunk: 4 key frames wanted
    when the chunk has more than 4 frames, else 1; every (length // wanted)-th frame from 0, which gives 4 to 7
    (5 for 399 frames, every frame for 5 to 7)."""
    wanted = 4 if length > 4 else 1
    return list(range(0, length, length // wanted))


def prompt_points(pose: WanPose, width: int, height: int) -> np.ndarray:
    """The 8 prompt points (8, 2) int32 of one pose: its body's relative x, y (float32, whatever the scores) times
    np.array([[width, height]]) (int64, so the product is float64), truncated toward zero by astype(int32)."""
    relative = np.asarray(pose.body)[PROMPT_BODY_POINTS, :2]
    return (relative * np.array([[width, height]])).astype(np.int32)


def mask_prompts(poses: list[WanPose | None],
                 chunk: int = CHUNK_FRAMES) -> list[tuple[int, int, dict[int, np.ndarray]]]:
    """get_mask's plan for a video whose frames have `poses` (one WanPose or None per frame): a list of chunks
    (start, stop, prompts), frames start..stop-1, prompts {key frame index within the chunk: points (8, 2) int32 in
    pixels}. Key frames whose pose is None are left out (a chunk may have no prompts). The pixels are those of the
    chunk's first frame's pose (width, height), or of the chunk's first pose when that frame has none."""
    plan = []
    for start, stop in chunk_bounds(len(poses), chunk):
        chunk_poses = poses[start:stop]
        present = [pose for pose in chunk_poses if pose is not None]
        prompts = {}
        if present:
            size = chunk_poses[0] if chunk_poses[0] is not None else present[0]
            for index in key_frame_indices(stop - start):
                if chunk_poses[index] is not None:
                    prompts[index] = prompt_points(chunk_poses[index], size.width, size.height)
        plan.append((start, stop, prompts))
    return plan


def sam2_pixels(frames, image_size: int):
    """load_video_frames_v2's input video: each RGB uint8 frame (H, W, 3) as _load_img_v2_as_tensor makes it (PIL
    Image.fromarray(frame.astype(uint8)).convert("RGB").resize((image_size, image_size)), PIL's default filter,
    bicubic; / 255.0 in float64; (3, S, S)) written into a float32 (frames, 3, S, S) tensor, then minus SAM2_MEAN and
    divided by SAM2_STD (float32 (3, 1, 1) tensors, in place). Frames may differ in size."""
    import torch
    from PIL import Image

    images = torch.zeros(len(frames), 3, image_size, image_size, dtype=torch.float32)
    for index, frame in enumerate(frames):
        resized = np.array(Image.fromarray(np.asarray(frame).astype(np.uint8)).convert("RGB")
                           .resize((image_size, image_size)))
        images[index] = torch.from_numpy(resized / 255.0).permute(2, 0, 1)
    images -= torch.tensor(SAM2_MEAN, dtype=torch.float32)[:, None, None]
    images /= torch.tensor(SAM2_STD, dtype=torch.float32)[:, None, None]
    return images


def sam2_points(points, width: int, height: int, image_size: int):
    """sam2's add_new_points_or_box (normalize_coords=True) on points (K, 2) x, y in pixels of a width x height
    frame: torch.tensor(points, float32) / torch.tensor([width, height]) * image_size, float32 (K, 2). (transformers'
    processor multiplies by the float32 of image_size / width instead, which differs in the last bit for about half
    the points.)"""
    import torch

    coords = torch.tensor(np.asarray(points), dtype=torch.float32).reshape(-1, 2)
    return coords / torch.tensor([width, height]) * image_size


class Sam2VideoSegmenter:
    """SAM2 video segmentation of one object with transformers' Sam2VideoModel (`model`), the frames and points
    prepared as the official's sam2 predictor prepares them (sam2_pixels, sam2_points) and the masks made as it makes
    them (_frame_mask), without transformers' processors (which need torchvision). The frames are stored and run on
    the model's device, in the model's dtype."""

    def __init__(self, model):
        self.model = model

    @classmethod
    def from_pretrained(cls, name_or_path: str = DEFAULT_CHECKPOINT, device=None, dtype=None) -> Sam2VideoSegmenter:
        """The Sam2VideoModel of a Hugging Face checkpoint in transformers' format (a hub name or a local folder), on
        `device` (None: cuda when available, else cpu), in `dtype` (None: transformers' default). MissingDependencyError
        when torch or transformers is not installed."""
        torch = require("torch", SAM2_PURPOSE)
        transformers = require("transformers", SAM2_PURPOSE)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype_argument = {} if dtype is None else {"dtype": dtype}
        model = transformers.Sam2VideoModel.from_pretrained(name_or_path, **dtype_argument).to(device).eval()
        return cls(model)

    @property
    def image_size(self) -> int:
        """The model's input size (its config's image_size; 1024 in the real checkpoints)."""
        size = self.model.config.image_size
        return int(size[0] if isinstance(size, (list, tuple)) else size)

    def segment(self, frames, prompts: dict[int, np.ndarray]) -> list[np.ndarray]:
        """Masks (H, W) uint8 0/1, one per frame at that frame's size, of the object that `prompts` points at:
        `frames` the RGB uint8 (H, W, 3) frames of one chunk, `prompts` {frame index in the chunk: points (K, 2) x, y
        in pixels of that frame}, all positive clicks on object 1. Each prompted frame is segmented in index order,
        then SAM2 propagates forward from the first prompted frame (and backward from it when it is not frame 0);
        mask = the low-resolution logits resized to the frame's size (bilinear) > 0. No prompts (or only empty ones):
        all-zero masks, the model is not run."""
        frames = [np.asarray(frame) for frame in frames]
        prompts = {int(index): np.asarray(points).reshape(-1, 2) for index, points in prompts.items() if len(points)}
        if not frames or not prompts:
            return [np.zeros(frame.shape[:2], np.uint8) for frame in frames]
        if min(prompts) < 0 or max(prompts) >= len(frames):
            raise ValueError(f"prompts on frames {sorted(prompts)} of a chunk of {len(frames)} frames")
        import torch

        sizes = [frame.shape[:2] for frame in frames]
        masks = {}
        with torch.inference_mode():
            session = self._session(frames)
            for index in sorted(prompts):
                self._add_points(session, index, prompts[index], *sizes[index])
                self.model(inference_session=session, frame_idx=index)
            first = min(prompts)
            for output in self.model.propagate_in_video_iterator(inference_session=session, start_frame_idx=first):
                masks[output.frame_idx] = self._frame_mask(output.pred_masks, *sizes[output.frame_idx])
            if first > 0:
                for output in self.model.propagate_in_video_iterator(inference_session=session,
                                                                     start_frame_idx=first, reverse=True):
                    masks.setdefault(output.frame_idx, self._frame_mask(output.pred_masks, *sizes[output.frame_idx]))
        return [masks[index] for index in range(len(frames))]

    def _session(self, frames):
        """transformers' Sam2VideoInferenceSession of the frames (sam2_pixels), as the processor's
        init_video_session makes it (video, inference and state on the model's device, in the model's dtype);
        video_height / video_width (used only by the processor, for points) are the first frame's."""
        from transformers.models.sam2_video.modeling_sam2_video import Sam2VideoInferenceSession

        device = self.model.device
        height, width = frames[0].shape[:2]
        return Sam2VideoInferenceSession(video=sam2_pixels(frames, self.image_size), video_height=height,
                                         video_width=width, inference_device=device, inference_state_device=device,
                                         video_storage_device=device, dtype=self.model.dtype)

    def _add_points(self, session, frame_index: int, points: np.ndarray, height: int, width: int) -> None:
        """What the processor's add_inputs_to_inference_session stores for object 1's points on a frame (replacing
        any there): point_coords (1, 1, K, 2) float32 (here sam2_points of the frame's size), point_labels
        (1, 1, K) int64 all 1, no mask input on that frame, and object 1 marked as having new inputs."""
        import torch

        obj_index = session.obj_id_to_idx(OBJECT_ID)
        coords = sam2_points(points, width, height, self.image_size)[None, None]
        labels = torch.ones(1, 1, coords.shape[2], dtype=torch.int64)
        session.add_point_inputs(obj_index, frame_index, {"point_coords": coords, "point_labels": labels})
        session.remove_mask_inputs(obj_index, frame_index)
        session.obj_with_new_inputs = [OBJECT_ID]

    @staticmethod
    def _frame_mask(pred_masks, height: int, width: int) -> np.ndarray:
        """Object 1's low-resolution logits (pred_masks, objects x 1 x h x w) as sam2's _get_orig_video_res_output
        resizes them (float32, F.interpolate to height x width, bilinear, align_corners=False), > 0 (get_mask's
        out_mask_logits > 0.0), uint8."""
        import torch.nn.functional as F

        logits = pred_masks.reshape(-1, *pred_masks.shape[-2:])[:1, None].float()
        if logits.shape[-2:] != (height, width):
            logits = F.interpolate(logits, size=(height, width), mode="bilinear", align_corners=False)
        return (logits[0, 0] > 0).cpu().numpy().astype(np.uint8)


def body_masks(frames, poses: list[WanPose | None], segmenter: Sam2VideoSegmenter,
               chunk: int = CHUNK_FRAMES) -> list[np.ndarray]:
    """The person's mask (H, W) uint8 0/1 in each of `frames` (RGB uint8, one size), from `poses` (one WanPose or
    None per frame): mask_prompts' chunks, each segmented by `segmenter` (Sam2VideoSegmenter.segment)."""
    if len(frames) != len(poses):
        raise ValueError(f"{len(frames)} frames but {len(poses)} poses")
    masks = []
    for start, stop, prompts in mask_prompts(poses, chunk):
        masks.extend(segmenter.segment(frames[start:stop], prompts))
    return masks


def replacement_frames(frames, masks, iterations: int = 3, k: int = 7, w_len: int = 1,
                       h_len: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The background and mask videos (src_bg, src_mask) of RGB uint8 `frames` and their uint8 0/1 `masks`: each
    mask, when iterations > 0, dilated by a k x k square `iterations` times then made blocky on a w_len x h_len grid
    (else used as it is); background = frame * (1 - mask[:, :, None]) (uint8: the frame where the mask is 0, black
    where it is 1); mask frame = mask * 255 stacked to (H, W, 3) uint8. The defaults are ProcessPipeline.__call__'s.
    The masks given are not changed."""
    if len(frames) != len(masks):
        raise ValueError(f"{len(frames)} frames but {len(masks)} masks")
    backgrounds, mask_frames = [], []
    for frame, mask in zip(frames, masks):
        mask = np.asarray(mask, dtype=np.uint8)
        if iterations > 0:
            mask = blocky_mask(dilated_mask(mask, k, iterations), w_len, h_len)
        backgrounds.append(frame * (1 - mask[:, :, None]))
        mask_frames.append(np.stack([mask * 255] * 3, axis=2))
    return backgrounds, mask_frames
