"""What the subcommands share: the model and pose map arguments, the detector and map options made from them,
and how warnings and errors are printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from ..pipeline import DWposeDetector
from ..render import STICK_RULES, STYLES, PoseMapOptions
from ..runtime import BACKENDS, PRECISIONS

# What an input that cannot be read raises (reported, and the other inputs go on), and what a subcommand
# reports as "error: ..." with exit status 2 when it cannot start: bad options, weights, missing packages.
INPUT_ERRORS = (OSError, ValueError, Image.DecompressionBombError)
SETUP_ERRORS = (*INPUT_ERRORS, ImportError)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The weights and how the models run."""
    parser.add_argument("--det", help="person detector ONNX (default: yolox_l.onnx from $DWPOSE_CKPTS, "
                                      "annotator/ckpts or Hugging Face yzd-v/DWPose)")
    parser.add_argument("--pose", help="pose model ONNX (default: dw-ll_ucoco_384.onnx, found the same way)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="fp32: the reference's keypoints (default); bf16 (OpenVINO on AMX CPUs) and fp16 "
                             "(TensorRT/CUDA GPUs) are faster and move a few keypoints slightly")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="how the models run (default: onnxruntime with a GPU provider when one loads, else "
                             "torch on a GPU when torch sees one, else onnxruntime on the CPU)")
    parser.add_argument("--device", help="torch device for --backend torch: cuda, cuda:N, mps, cpu")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The output folder, the models, the resolutions and the pose map options, shared by images and videos."""
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    add_model_arguments(parser)
    parser.add_argument("--detect-resolution", type=detect_resolution, default=512, metavar="N|input",
                        help="shorter side the image is resized to for detection (default 512); "
                             "'input': detect on the image at its own size")
    parser.add_argument("--image-resolution", type=int, default=512)
    add_map_arguments(parser)


def add_map_arguments(parser: argparse.ArgumentParser) -> None:
    """What the pose maps show and how they are drawn (PoseMapOptions), shared by images, videos and render."""
    parser.add_argument("--no-hand", action="store_true", help="do not draw hands")
    parser.add_argument("--no-face", action="store_true", help="do not draw faces")
    parser.add_argument("--foot", action="store_true", help="draw feet (not in the reference renderer)")
    parser.add_argument("--stick-width", type=int, default=4, help="body limb half-width (reference: 4)")
    parser.add_argument("--style", choices=STYLES, default="controlnet",
                        help="controlnet: the ControlNet 1.1 / DWPose reference renderer (default); "
                             "sd-webui-controlnet: as the web UIs' built-in draws (person by person); "
                             "mimicmotion, musepose, unianimate, easy-dwpose, vace, wan-animate: as those pipelines draw")
    parser.add_argument("--xinsir-sticks", action="store_true",
                        help="thicker limbs growing with the map size, for xinsir's SDXL OpenPose ControlNet "
                             "(comfyui_controlnet_aux's scale_stick_for_xinsr_cn; the same as --stick-rule xinsir)")
    parser.add_argument("--stick-rule", choices=STICK_RULES, default="fixed",
                        help="limb half-width: fixed (--stick-width, the reference's 4), xinsir (--stick-width times "
                             "comfyui_controlnet_aux's scale), wan (Wan 2.2 Animate's: max(int(min(H, W) / 200) - 1, "
                             "1)), in pixels of the canvas drawn on")
    parser.add_argument("--draw-at-output-size", action="store_true",
                        help="draw the map at its output size (sharp lines, widths in output pixels) instead of "
                             "drawing at the detection size and resizing (the reference)")


def list_inputs(inputs: list[str], suffixes) -> list[Path]:
    """Files as given (whatever their suffix, so a bad one is reported), and the files of folders whose suffix is
    one of `suffixes`, sorted."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in suffixes and p.is_file())
        else:
            files.append(item)
    return files


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number above 0 (and below a million)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def detect_resolution(text: str):
    """argparse type of --detect-resolution: a positive integer, or 'input' (None: the image's own size)."""
    if text.strip().lower() == "input":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'input', got {text!r}") from None


def detector_arguments(args: argparse.Namespace) -> dict:
    """The DWposeDetector keyword arguments that add_model_arguments' options give."""
    return dict(det_model=args.det, pose_model=args.pose, precision=args.precision, backend=args.backend,
                device=args.device)


def make_detector(args: argparse.Namespace) -> DWposeDetector:
    return DWposeDetector(**detector_arguments(args))


def map_options(args: argparse.Namespace) -> PoseMapOptions:
    return PoseMapOptions(include_hand=not args.no_hand, include_face=not args.no_face, include_foot=args.foot,
                          stick_width=args.stick_width, style=args.style, scale_stick_for_xinsr_cn=args.xinsir_sticks,
                          stick_rule=args.stick_rule,
                          draw_at_output_size=args.draw_at_output_size)


def print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one plain line: on the command line the source line they point at means nothing."""
    tqdm.write(f"warning: {message}", file=sys.stderr)


def fail(message) -> int:
    """Print "error: <message>" and give exit status 2 (nothing could run)."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def report_failures(failed: list, total: int, what: str) -> int:
    """The closing line when some inputs failed (exit status 1), else 0."""
    if not failed:
        return 0
    print(f"{len(failed)} of {total} {what} failed: " + ", ".join(map(str, failed)), file=sys.stderr)
    return 1
