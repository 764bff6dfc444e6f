"""Gradio demo of the DWPose preprocessor (`dw_openpose_full`), with optional ControlNet generation.

    python gradio_dw_open_pose.py [--det PATH] [--pose PATH] [--sd-model ID_OR_DIR] [--controlnet ID_OR_DIR]
                                  [--host 127.0.0.1] [--port 7860]

Upload an image (or take a webcam snapshot) and get the pose map, its PNG, the OpenPose JSON and the
npz; upload a pose file (OpenPose JSON from the pose editors, POSE_KEYPOINT JSON, jsonl, npz) and get its map. With --sd-model (a Stable Diffusion 1.5 checkpoint) and --controlnet (an OpenPose ControlNet, e.g.
lllyasviel/control_v11p_sd15_openpose), both local diffusers folders or Hugging Face ids, the Generate
panel runs diffusers' StableDiffusionControlNetPipeline on the pose map. torch and diffusers are only
imported for that.

`build_app(detector, generator=None)` builds the same app around your own DWposeDetector.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry calls

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from annotator.dwpose import (POSE_FILE_SUFFIXES, STYLES, DWposeDetector, ImageError, PoseFormatError,  # noqa: E402
                              PoseMapOptions, VideoError, WeightsError, check_size, draw_pose_map, read_pose_file,
                              write_pose_maps, write_pose_video)

EXAMPLE_SD_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
EXAMPLE_CONTROLNET = "lllyasviel/control_v11p_sd15_openpose"
ENABLE_GENERATION_COMMAND = (
    f"python gradio_dw_open_pose.py --sd-model {EXAMPLE_SD_MODEL} --controlnet {EXAMPLE_CONTROLNET}"
)
GENERATION_PACKAGES = ["diffusers", "transformers", "torch"]
MAX_INPUT_PIXELS = 64_000_000  # 8000 x 8000; bigger uploads are refused before they are decoded
MAX_UPLOAD_SIZE = "100mb"
RESOLUTION_RANGE = (64, 2048)
OUTPUT_MAX_AGE_S = 3600  # our copies of the downloads; gradio serves its own cached copies
# System fonts only: the page must not need a font CDN (the app also runs offline).
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])


class ControlNetGenerator:
    """Stable Diffusion 1.5 + an OpenPose ControlNet through diffusers, loaded on first use."""

    def __init__(self, sd_model: str, controlnet: str):
        self.sd_model = sd_model
        self.controlnet = controlnet
        self._pipeline = None
        self._lock = threading.Lock()

    def pipeline(self):
        with self._lock:
            if self._pipeline is None:
                import torch
                from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, UniPCMultistepScheduler

                device = "cuda" if torch.cuda.is_available() else "cpu"
                dtype = torch.float16 if device == "cuda" else torch.float32
                controlnet = ControlNetModel.from_pretrained(self.controlnet, torch_dtype=dtype)
                pipeline = StableDiffusionControlNetPipeline.from_pretrained(
                    self.sd_model, controlnet=controlnet, torch_dtype=dtype)
                pipeline.scheduler = UniPCMultistepScheduler.from_config(pipeline.scheduler.config)
                pipeline.set_progress_bar_config(disable=True)
                self._pipeline = pipeline.to(device)
            return self._pipeline

    def __call__(self, pose_map: np.ndarray, prompt: str, negative_prompt: str = "", steps: int = 20,
                 guidance_scale: float = 7.5, seed: int = 0) -> tuple[Image.Image, bool]:
        """The generated image and whether the safety checker blanked it."""
        import torch

        pipeline = self.pipeline()
        result = pipeline(
            prompt, image=Image.fromarray(pose_map), negative_prompt=negative_prompt or None,
            num_inference_steps=steps, guidance_scale=guidance_scale,
            generator=torch.Generator("cpu").manual_seed(seed),  # same image on CPU and CUDA
        )
        flagged = bool(getattr(result, "nsfw_content_detected", None) and any(result.nsfw_content_detected))
        return result.images[0], flagged


def checked_image(image) -> Image.Image:
    """The uploaded image, or gr.Error when there is none or it is too big (checked before it is decoded)."""
    if image is None:
        raise gr.Error("Upload an image (or take a webcam snapshot) first.")
    try:
        check_size(image.width, image.height, MAX_INPUT_PIXELS)
    except ImageError as err:
        raise gr.Error(f"Please downscale it: {err}.") from None
    return image


def people_found_text(poses) -> str:
    if len(poses) == 1 and poses.box_scores[0] == 0:
        return ("No person detected: the pose model ran on the whole image, as the reference does "
                "(lower the detector threshold to find more people).")
    return f"{len(poses)} {'person' if len(poses) == 1 else 'people'} found."


def new_output_folder(root: str) -> Path:
    """A fresh folder under `root` for one run's files; folders older than OUTPUT_MAX_AGE_S are removed."""
    for old in Path(root).iterdir():
        with contextlib.suppress(FileNotFoundError):  # another request may be removing it
            if time.time() - old.stat().st_mtime > OUTPUT_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root))


def build_app(detector: DWposeDetector, generator: ControlNetGenerator | None = None) -> gr.Blocks:
    """The Gradio app around `detector`; the Generate panel works when `generator` is given."""
    output_root = tempfile.TemporaryDirectory(prefix="dwpose_app_")  # the closures keep it; removed at exit
    default_detector_threshold = float(detector.detector.score_threshold)

    def estimate_pose(image, detect_resolution, image_resolution, include_body, include_hand, include_face,
                      include_foot, keypoint_threshold, detector_threshold, stick_width, detect_at_input_size=False,
                      style="controlnet", scale_stick_for_xinsr_cn=False):
        image = checked_image(image)
        try:
            options = PoseMapOptions(include_body=include_body, include_hand=include_hand, include_face=include_face,
                                     include_foot=include_foot, threshold=float(keypoint_threshold),
                                     stick_width=int(stick_width), style=style,
                                     scale_stick_for_xinsr_cn=bool(scale_stick_for_xinsr_cn))
            canvas, poses = detector.annotate(image, None if detect_at_input_size else int(detect_resolution),
                                              int(image_resolution), options=options,
                                              det_threshold=float(detector_threshold))
        except (ValueError, OSError, Image.DecompressionBombError) as err:
            raise gr.Error(f"Could not process this image: {err}") from err
        folder = new_output_folder(output_root.name)
        png, json_file, npz = folder / "pose.png", folder / "pose_openpose.json", folder / "pose.npz"
        Image.fromarray(canvas).save(png)
        poses.save_openpose_json(json_file, options.threshold)
        poses.save_npz(npz, options.threshold)
        return canvas, people_found_text(poses), canvas, str(png), str(json_file), str(npz)

    def estimate_video(video, image_resolution, smooth, people):
        """The pose video (H.264) and its jsonl for an uploaded video (the frames of one shot, tracked)."""
        if not video:
            raise gr.Error("Upload a video first.")
        folder = new_output_folder(output_root.name)
        try:
            mp4, jsonl = write_pose_video(detector, video, folder, smooth=bool(smooth),
                                          people=None if people == "all" else people,
                                          image_resolution=int(image_resolution))
        except (VideoError, ValueError, ImportError) as err:
            raise gr.Error(f"Could not process this video: {err}") from err
        frames = sum(1 for _ in open(jsonl, encoding="utf-8"))
        return str(mp4), str(jsonl), f"{frames} frames."

    def render_pose_file(pose_file, width, height, include_body, include_hand, include_face, include_foot,
                         keypoint_threshold, stick_width, style="controlnet", scale_stick_for_xinsr_cn=False):
        """The map of an uploaded pose file (its first image or its video's first frame), and the file of
        its maps (a PNG, or an mp4 for a video's frames). Width and height: the map's size (0: the file's
        canvas), and the size npz files and COCO results refer to."""
        if not pose_file:
            raise gr.Error("Upload a pose file first (OpenPose JSON, POSE_KEYPOINT JSON, jsonl, npz).")
        size = (int(width), int(height)) if width and height else None
        try:
            options = PoseMapOptions(include_body=include_body, include_hand=include_hand, include_face=include_face,
                                     include_foot=include_foot, threshold=float(keypoint_threshold),
                                     stick_width=int(stick_width), style=style,
                                     scale_stick_for_xinsr_cn=bool(scale_stick_for_xinsr_cn))
            sequence = read_pose_file(pose_file, *(size or (None, None)))[0]
            if not sequence.frames:
                raise PoseFormatError("no frames in the file")
            first = sequence.frames[0]
            map_width, map_height = size or (first.width, first.height)
            check_size(map_width, map_height, MAX_INPUT_PIXELS)
            folder = new_output_folder(output_root.name)
            written = write_pose_maps(sequence, folder, options, size)
            pose_map = draw_pose_map(first, map_height, map_width, options)
        except (ValueError, OSError, ImportError) as err:  # PoseFormatError, ImageError, no PyAV for a video
            raise gr.Error(f"Could not draw this pose file: {err}") from err
        people = f"{len(first)} {'person' if len(first) == 1 else 'people'}"
        info = f"{len(sequence.frames)} frames, {people} in the first." if sequence.is_video else f"{people}."
        return pose_map, info, str(written[0])

    def generate(pose_map, prompt, negative_prompt, steps, guidance_scale, seed):
        if pose_map is None:
            raise gr.Error("Run the pose estimation first: the pose map is the ControlNet condition.")
        try:
            image, flagged = generator(pose_map, prompt or "", negative_prompt or "", int(steps),
                                       float(guidance_scale), int(seed))
        except (ImportError, OSError, ValueError, RuntimeError) as err:  # no diffusers, no weights, out of memory
            raise gr.Error(f"Generation failed: {err}") from err
        if flagged:
            gr.Warning("The safety checker flagged the result and blanked it; try another prompt or seed.")
        return image

    with gr.Blocks(title="DWPose (dw_openpose_full)", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown("# DWPose whole-body pose (`dw_openpose_full`)\n"
                    "Upload an image or take a webcam snapshot, then **Run**. The pose map is what "
                    "ControlNet OpenPose models expect.")
        pose_map_state = gr.State(None)
        with gr.Row():
            with gr.Column():
                # The webcam frame is not mirrored: a mirrored frame would swap left and right hands.
                input_image = gr.Image(label="Image", type="pil", image_mode=None,
                                       sources=["upload", "webcam", "clipboard"],
                                       webcam_options=gr.WebcamOptions(mirror=False), elem_id="input_image")
                run_button = gr.Button("Run", variant="primary", elem_id="run_button")
                with gr.Row():
                    detect_resolution = gr.Slider(*RESOLUTION_RANGE, value=512, step=64, label="Detect resolution",
                                                  elem_id="detect_resolution")
                    image_resolution = gr.Slider(*RESOLUTION_RANGE, value=512, step=64, label="Image resolution",
                                                 elem_id="image_resolution")
                detect_at_input_size = gr.Checkbox(value=False, label="Detect at the image's own size (more precise "
                                                   "for small hands; ignores Detect resolution)",
                                                   elem_id="detect_at_input_size")
                with gr.Row():
                    style = gr.Radio(list(STYLES), value="controlnet", label="Style (controlnet: the reference; "
                                     "sd-webui-controlnet: as the web UIs draw; the others: as those video "
                                     "pipelines draw)", elem_id="style")
                    scale_stick_for_xinsr_cn = gr.Checkbox(value=False, label="Thicker limbs for xinsir's SDXL "
                                                           "OpenPose ControlNet", elem_id="scale_stick_for_xinsr_cn")
                with gr.Row():
                    include_body = gr.Checkbox(value=True, label="Body")
                    include_hand = gr.Checkbox(value=True, label="Hands")
                    include_face = gr.Checkbox(value=True, label="Face")
                    include_foot = gr.Checkbox(value=False, label="Feet")
                with gr.Row():
                    keypoint_threshold = gr.Slider(0.0, 1.0, value=PoseMapOptions.threshold, step=0.05,
                                                   label="Keypoint threshold")
                    detector_threshold = gr.Slider(0.05, 0.95, value=default_detector_threshold, step=0.05,
                                                   label="Person detector threshold")
                    stick_width = gr.Slider(1, 16, value=PoseMapOptions.stick_width, step=1, label="Stick width")
            with gr.Column():
                pose_image = gr.Image(label="Pose map", type="numpy", format="png", interactive=False,
                                      elem_id="pose_image")
                people_found = gr.Textbox(label="People", interactive=False, elem_id="people_found")
                with gr.Row():
                    png_download = gr.DownloadButton("Download PNG", elem_id="download_png")
                    json_download = gr.DownloadButton("Download OpenPose JSON", elem_id="download_json")
                    npz_download = gr.DownloadButton("Download npz", elem_id="download_npz")

        with gr.Accordion("Video: pose video and per-frame keypoints (people tracked)", open=False,
                          elem_id="video_panel"):
            with gr.Row():
                with gr.Column():
                    input_video = gr.Video(label="Video", sources=["upload"], elem_id="input_video")
                    video_resolution = gr.Slider(*RESOLUTION_RANGE, value=512, step=64, label="Pose video resolution")
                    smooth = gr.Checkbox(value=True, label="Smooth the keypoints (One-Euro)")
                    people = gr.Radio(["all", "largest", "center"], value="all", label="People")
                    video_button = gr.Button("Run on video", variant="primary", elem_id="video_button")
                with gr.Column():
                    pose_video = gr.Video(label="Pose video", interactive=False, elem_id="pose_video")
                    jsonl_download = gr.File(label="Keypoints (jsonl)", elem_id="download_jsonl")
                    video_info = gr.Textbox(label="Frames", interactive=False, elem_id="video_info")
            video_button.click(estimate_video, [input_video, video_resolution, smooth, people],
                               [pose_video, jsonl_download, video_info])

        with gr.Accordion("Pose file: draw the map of an OpenPose JSON (pose editors), POSE_KEYPOINT JSON, jsonl "
                          "or npz, with the options above", open=False, elem_id="pose_file_panel"):
            with gr.Row():
                with gr.Column():
                    pose_file = gr.File(label="Pose file", file_types=list(POSE_FILE_SUFFIXES), type="filepath",
                                        elem_id="pose_file")
                    with gr.Row():
                        file_width = gr.Number(value=0, precision=0, minimum=0, label="Width (0: the file's)")
                        file_height = gr.Number(value=0, precision=0, minimum=0, label="Height (0: the file's)")
                    render_button = gr.Button("Draw", variant="primary", elem_id="render_button")
                with gr.Column():
                    file_pose_image = gr.Image(label="Pose map", type="numpy", format="png", interactive=False,
                                               elem_id="file_pose_image")
                    file_info = gr.Textbox(label="Poses", interactive=False, elem_id="file_info")
                    file_download = gr.File(label="Map (PNG, or mp4 for a video)", elem_id="download_file_map")
            render_button.click(render_pose_file, [pose_file, file_width, file_height, include_body, include_hand,
                                                   include_face, include_foot, keypoint_threshold, stick_width, style,
                                                   scale_stick_for_xinsr_cn],
                                [file_pose_image, file_info, file_download])

        with gr.Accordion("Generate with Stable Diffusion 1.5 + ControlNet OpenPose", open=generator is not None,
                          elem_id="generate_panel"):
            if generator is None:
                gr.Markdown(
                    "Generation is off: no Stable Diffusion model was given. To enable it, install "
                    f"`{' '.join(GENERATION_PACKAGES)}` and start the app with a Stable Diffusion 1.5 "
                    "checkpoint and an OpenPose ControlNet (Hugging Face ids or local diffusers folders):\n\n"
                    f"```\npip install {' '.join(GENERATION_PACKAGES)}\n{ENABLE_GENERATION_COMMAND}\n```",
                    elem_id="generation_help")
            else:
                gr.Markdown(f"Stable Diffusion: `{generator.sd_model}`, ControlNet: `{generator.controlnet}` "
                            "(loaded on the first Generate).")
                with gr.Row():
                    with gr.Column():
                        prompt = gr.Textbox(label="Prompt", value="a photo of people, best quality",
                                            elem_id="prompt")
                        negative_prompt = gr.Textbox(label="Negative prompt",
                                                     value="lowres, bad anatomy, worst quality, low quality")
                        with gr.Row():
                            steps = gr.Slider(1, 100, value=20, step=1, label="Steps")
                            guidance_scale = gr.Slider(1.0, 20.0, value=7.5, step=0.5, label="Guidance scale")
                            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
                        generate_button = gr.Button("Generate", variant="primary", elem_id="generate_button")
                    generated_image = gr.Image(label="Generated", type="pil", format="png", interactive=False,
                                               elem_id="generated_image")
                generate_button.click(generate, [pose_map_state, prompt, negative_prompt, steps, guidance_scale,
                                                 seed], generated_image)

        run_button.click(
            estimate_pose,
            [input_image, detect_resolution, image_resolution, include_body, include_hand, include_face,
             include_foot, keypoint_threshold, detector_threshold, stick_width, detect_at_input_size, style,
             scale_stick_for_xinsr_cn],
            [pose_image, people_found, pose_map_state, png_download, json_download, npz_download],
        )
    return app


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--det", help="person detector ONNX (default: yolox_l.onnx from $DWPOSE_CKPTS, "
                                      "annotator/ckpts or Hugging Face yzd-v/DWPose)")
    parser.add_argument("--pose", help="pose model ONNX (default: dw-ll_ucoco_384.onnx, found the same way)")
    parser.add_argument("--sd-model", help=f"Stable Diffusion 1.5 diffusers folder or hub id, e.g. {EXAMPLE_SD_MODEL}")
    parser.add_argument("--controlnet", help=f"OpenPose ControlNet folder or hub id, e.g. {EXAMPLE_CONTROLNET}")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all interfaces)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    if bool(args.sd_model) != bool(args.controlnet):
        parser.error("--sd-model and --controlnet go together: generation needs both")
    if args.sd_model:
        missing = [name for name in GENERATION_PACKAGES if importlib.util.find_spec(name) is None]
        if missing:
            parser.error(f"generation needs {', '.join(missing)}: pip install {' '.join(GENERATION_PACKAGES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        detector = DWposeDetector(args.det, args.pose)
    except WeightsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    generator = ControlNetGenerator(args.sd_model, args.controlnet) if args.sd_model else None
    app = build_app(detector, generator)
    app.queue().launch(server_name=args.host, server_port=args.port, theme=THEME, show_error=True,
                       max_file_size=MAX_UPLOAD_SIZE, ssr_mode=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
