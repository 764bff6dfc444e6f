"""Command line: `python -m annotator.dwpose IMAGE_OR_DIR... --out DIR [options]`; subcommands `video`,
`batch` (batch.py) and `eval` (evaluation.py).

Writes <name>_pose.png per image, and <name>.json (sd-webui-controlnet OpenPose JSON) and
<name>.npz with --json / --npz. An unreadable image is reported, the others are processed, and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from PIL import Image, ImageOps
from tqdm import tqdm

from .detector import DWposeDetector
from .render import STYLES, PoseMapOptions
from .weights import WeightsError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Weights, precision and the pose map options, shared by images and videos."""
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--det", help="person detector ONNX (default: yolox_l.onnx from $DWPOSE_CKPTS, "
                                      "annotator/ckpts or Hugging Face yzd-v/DWPose)")
    parser.add_argument("--pose", help="pose model ONNX (default: dw-ll_ucoco_384.onnx, found the same way)")
    parser.add_argument("--detect-resolution", type=detect_resolution, default=512, metavar="N|input",
                        help="shorter side the image is resized to for detection (default 512); "
                             "'input': detect on the image at its own size")
    parser.add_argument("--image-resolution", type=int, default=512)
    parser.add_argument("--no-hand", action="store_true", help="do not draw hands")
    parser.add_argument("--no-face", action="store_true", help="do not draw faces")
    parser.add_argument("--foot", action="store_true", help="draw feet (not in the reference renderer)")
    parser.add_argument("--stick-width", type=int, default=4, help="body limb half-width (reference: 4)")
    parser.add_argument("--style", choices=STYLES, default="controlnet",
                        help="controlnet: the ControlNet 1.1 / DWPose reference renderer (default); "
                             "sd-webui-controlnet: as the web UIs' built-in draws (person by person); "
                             "mimicmotion, musepose, unianimate, easy-dwpose: as those pipelines draw")
    parser.add_argument("--xinsir-sticks", action="store_true",
                        help="thicker limbs growing with the map size, for xinsir's SDXL OpenPose ControlNet "
                             "(comfyui_controlnet_aux's scale_stick_for_xinsr_cn)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                        help="fp32: the reference's keypoints (default); bf16 (OpenVINO on AMX CPUs) and fp16 "
                             "(TensorRT/CUDA GPUs) are faster and move a few keypoints slightly")
    parser.add_argument("--backend", choices=["onnxruntime", "openvino", "torch"],
                        help="how the models run (default: onnxruntime with a GPU provider when one loads, else "
                             "torch on a GPU when torch sees one, else onnxruntime on the CPU)")
    parser.add_argument("--device", help="torch device for --backend torch: cuda, cuda:N, mps, cpu")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m annotator.dwpose", description=__doc__.splitlines()[0],
                                     epilog="Videos: python -m annotator.dwpose video --help")
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders of images")
    parser.add_argument("--json", action="store_true", help="also write <name>.json (OpenPose JSON)")
    parser.add_argument("--npz", action="store_true", help="also write <name>.npz")
    add_common_arguments(parser)
    return parser.parse_args(argv)


def parse_video_args(argv) -> argparse.Namespace:
    from .detector import DET_EVERY

    parser = argparse.ArgumentParser(prog="python -m annotator.dwpose video",
                                     description="Pose videos: <name>_pose.mp4 (H.264) and <name>.jsonl per video "
                                                 "(one OpenPose JSON line per frame, people with a track_id)")
    parser.add_argument("inputs", nargs="+", metavar="VIDEO", help="video files")
    add_common_arguments(parser)
    parser.add_argument("--det-every", type=int, default=DET_EVERY,
                        help=f"run the person detector every K frames (default {DET_EVERY}); people are tracked "
                             "in between")
    parser.add_argument("--smooth", action="store_true", help="One-Euro smoothing of the keypoints")
    parser.add_argument("--fps", type=float, help="resample to this frame rate (default: the input's frames)")
    parser.add_argument("--start", type=float, help="first second to process")
    parser.add_argument("--end", type=float, help="second to stop at")
    parser.add_argument("--frames", action="store_true", help="also write <name>/<frame:06d>.png")
    parser.add_argument("--max-people", type=int, help="at most this many people per frame, biggest first")
    parser.add_argument("--people", choices=["largest", "center"], help="keep one person: the largest or the "
                                                                        "most central")
    parser.add_argument("--align-to", type=Path, metavar="REF",
                        help="align the poses to the (largest) person of this reference image and draw them on "
                             "its canvas, as pose-guided video models do")
    parser.add_argument("--align-method", choices=["mimicmotion", "limbs"], default="mimicmotion",
                        help="mimicmotion: MimicMotion's global rescale (default); limbs: every bone takes the "
                             "reference's length")
    return parser.parse_args(argv)


def detect_resolution(text: str):
    """argparse type of --detect-resolution: a positive integer, or 'input' (None: the image's own size)."""
    if text.strip().lower() == "input":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'input', got {text!r}")
    return value


def list_images(inputs: list[str]) -> list[Path]:
    """Files as given (whatever their suffix, so a bad one is reported), folders' images sorted."""
    images = []
    for item in map(Path, inputs):
        if item.is_dir():
            images += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            images.append(item)
    return images


def load_image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)  # phones store portrait photos rotated
        image.load()
        return image


def map_options(args: argparse.Namespace) -> PoseMapOptions:
    return PoseMapOptions(include_hand=not args.no_hand, include_face=not args.no_face, include_foot=args.foot,
                          stick_width=args.stick_width, style=args.style, scale_stick_for_xinsr_cn=args.xinsir_sticks)


def make_detector(args: argparse.Namespace) -> DWposeDetector:
    return DWposeDetector(args.det, args.pose, precision=args.precision, backend=args.backend, device=args.device)


def print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one plain line: on the command line the source line they point at means nothing."""
    tqdm.write(f"warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with warnings.catch_warnings():
        warnings.showwarning = print_warning
        if argv[:1] == ["video"]:
            return run_videos(parse_video_args(argv[1:]))
        if argv[:1] == ["batch"]:  # resumable runs over folders and videos (batch.py)
            from .batch import main as batch_main

            return batch_main(argv[1:])
        if argv[:1] == ["eval"]:  # COCO-WholeBody AP / AR (evaluation.py)
            from .evaluation import main as eval_main

            return eval_main(argv[1:])
        return run(parse_args(argv))


def run_videos(args: argparse.Namespace) -> int:
    """Each video streamed through DWposeDetector.track into <name>_pose.mp4 and <name>.jsonl. A video that
    cannot be read, or breaks off, is reported; what was done is kept; the others go on (exit status 1)."""
    from .video import VideoError, write_pose_video

    try:
        options = map_options(args)
        detector = make_detector(args)
        reference = load_image(args.align_to) if args.align_to else None
    except (ValueError, WeightsError, ImportError, OSError, Image.DecompressionBombError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in map(Path, args.inputs):
        try:
            write_pose_video(detector, path, args.out, det_every=args.det_every, smooth=args.smooth, fps=args.fps,
                             start=args.start, end=args.end, png_frames=args.frames, max_people=args.max_people,
                             people=args.people, detect_resolution=args.detect_resolution,
                             image_resolution=args.image_resolution, options=options,
                             progress=lambda frames: tqdm(frames, desc=path.name, unit="frame"),
                             align_to=reference, align_method=args.align_method)
        except (VideoError, OSError, ValueError) as err:
            tqdm.write(f"error: {path}: {err}", file=sys.stderr)
            failed.append(path)
    if failed:
        print(f"{len(failed)} of {len(args.inputs)} videos failed: " + ", ".join(map(str, failed)), file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    images = list_images(args.inputs)
    if not images:
        print("error: no images found in " + ", ".join(args.inputs), file=sys.stderr)
        return 2
    try:
        options = map_options(args)
        detector = make_detector(args)
    except (ValueError, WeightsError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    failed = []
    for path in tqdm(images, desc="dwpose", unit="image", disable=len(images) < 2):
        try:
            canvas, poses = detector.annotate(load_image(path), args.detect_resolution, args.image_resolution,
                                              options=options)
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            tqdm.write(f"error: {path}: {err}", file=sys.stderr)
            failed.append(path)
            continue
        Image.fromarray(canvas).save(args.out / f"{path.stem}_pose.png")
        if args.json:
            poses.save_openpose_json(args.out / f"{path.stem}.json")
        if args.npz:
            poses.save_npz(args.out / f"{path.stem}.npz")

    if failed:
        print(f"{len(failed)} of {len(images)} images failed: " + ", ".join(map(str, failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
