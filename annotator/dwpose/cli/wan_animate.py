"""`python -m annotator.dwpose wan-animate DRIVING.mp4 --ref CHARACTER.png --out DIR`: Wan 2.2 Animate's inputs
(video/wan_animate.py): src_pose.mp4, src_face.mp4 (src_face_<id>.mp4 per other person), src_ref.png and
poses.jsonl (with --replace also src_bg.mp4 and src_mask.mp4), as the official preprocessing writes them;
--official runs Wan's own per-frame steps with its models; --frames adds lossless PNG folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..video.wan_animate import RESOLUTION_AREA, wan_animate_inputs, write_wan_animate_inputs
from .common import SETUP_ERRORS, add_model_arguments, fail, make_detector, positive_int


def add_parser(commands) -> None:
    parser = commands.add_parser("wan-animate", help="Wan 2.2 Animate's pose, face and reference inputs",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path, help="the driving video")
    parser.add_argument("--ref", required=True, type=Path, help="the reference (character) image")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--fps", type=float, default=30.0,
                        help="frames per second of the outputs (default 30, as the official; -1: the video's)")
    parser.add_argument("--resolution-area", type=positive_int, nargs=2, metavar=("W", "H"),
                        default=list(RESOLUTION_AREA), help="the reference is resized to W x H pixels' area "
                                                            "(default 1280 720)")
    parser.add_argument("--people", default="largest",
                        help="largest (default: the official's one person), center, all, or track ids "
                             "separated by commas")
    parser.add_argument("--det-every", type=positive_int, default=8, help="run the person detector every K frames")
    parser.add_argument("--official", action="store_true",
                        help="Wan's own steps: its YOLOv10 detector on every frame, the largest person, ViTPose "
                             "(pass Wan's yolov10m.onnx as --det and vitpose_h_wholebody.onnx as --pose)")
    parser.add_argument("--ckpt-path", type=Path, metavar="DIR",
                        help="the official's checkpoint folder (Wan2.2-Animate-14B/process_checkpoint): its "
                             "det/yolov10m.onnx and pose2d/vitpose_h_wholebody.onnx are the models unless --det / "
                             "--pose say otherwise")
    parser.add_argument("--retarget", action="store_true",
                        help="map the driving poses onto the reference's proportions (get_retarget_pose)")
    parser.add_argument("--replace", action="store_true",
                        help="replacement mode: also src_bg.mp4 and src_mask.mp4 (SAM2 through transformers)")
    parser.add_argument("--sam2", default=None, metavar="NAME_OR_PATH",
                        help="SAM2 checkpoint for --replace in transformers' format (a Hugging Face name or a "
                             "local folder; default facebook/sam2.1-hiera-large; the official's sam2_hiera_large.pt "
                             "converted with transformers' convert_sam2_video_to_hf.py works too)")
    parser.add_argument("--frames", action="store_true", help="also write PNG folders src_pose/, src_face/, ...")
    add_model_arguments(parser)
    parser.set_defaults(run=run)


# Where the official preprocess_data.py finds its two ONNX models in its --ckpt_path folder.
OFFICIAL_DET = Path("det") / "yolov10m.onnx"
OFFICIAL_POSE = Path("pose2d") / "vitpose_h_wholebody.onnx"


def official_checkpoints(folder: Path, det, pose) -> tuple:
    """--det and --pose from the official checkpoint folder (those given explicitly win); FileNotFoundError
    naming the file expected where one is missing."""
    chosen = []
    for given, relative in ((det, OFFICIAL_DET), (pose, OFFICIAL_POSE)):
        if given:
            chosen.append(given)
            continue
        path = folder / relative
        if not path.is_file():
            raise FileNotFoundError(f"--ckpt-path: {path} not found (the official layout: {folder}/{OFFICIAL_DET} "
                                    f"and {folder}/{OFFICIAL_POSE})")
        chosen.append(str(path))
    return tuple(chosen)


def run(args: argparse.Namespace) -> int:
    try:
        if args.retarget and args.replace:
            raise ValueError("--retarget and --replace cannot be combined (the official replacement mode does "
                             "not retarget)")
        if args.ckpt_path is not None:
            args.det, args.pose = official_checkpoints(args.ckpt_path, args.det, args.pose)
        segmenter = None
        if args.replace:  # first: a missing torch / transformers is one error before anything is loaded
            from ..video.wan_replace import Sam2VideoSegmenter

            segmenter = Sam2VideoSegmenter.from_pretrained(*([args.sam2] if args.sam2 else []), device=args.device)
        detector = make_detector(args)
        inputs = wan_animate_inputs(detector, args.video, args.ref, fps=args.fps, people=args.people,
                                    resolution_area=tuple(args.resolution_area), det_every=args.det_every,
                                    official=args.official, retarget=args.retarget, replace=args.replace,
                                    segmenter=segmenter)
        written = write_wan_animate_inputs(inputs, args.out, reference_path=args.ref, png_frames=args.frames)
    except SETUP_ERRORS as err:
        return fail(err)
    print(f"{len(inputs.pose_frames)} frames, {len(inputs.face_frames)} people: "
          + ", ".join(path.name for path in written))
    return 0
