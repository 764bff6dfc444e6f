"""`python -m annotator.dwpose wan-animate DRIVING.mp4 --ref CHARACTER.png --out DIR`: Wan 2.2 Animate's inputs
(video/wan_animate.py): src_pose.mp4, src_face.mp4 (src_face_<id>.mp4 per other person), src_ref.png and
poses.jsonl, as the official preprocessing writes them without retargeting or replacement; --frames adds
lossless PNG folders."""

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
    parser.add_argument("--frames", action="store_true", help="also write PNG folders src_pose/, src_face/")
    add_model_arguments(parser)
    parser.set_defaults(run=run)


def people_choice(text: str):
    """--people: "largest" / "center", "all" (None: everyone), or comma-separated track ids."""
    text = text.strip().lower()
    if text in ("largest", "center"):
        return text
    if text == "all":
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--people: expected largest, center, all or track ids like 1,3; got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    try:
        people = people_choice(args.people)
        detector = make_detector(args)
        inputs = wan_animate_inputs(detector, args.video, args.ref, fps=args.fps, people=people,
                                    resolution_area=tuple(args.resolution_area), det_every=args.det_every)
        written = write_wan_animate_inputs(inputs, args.out, reference_path=args.ref, png_frames=args.frames)
    except SETUP_ERRORS as err:
        return fail(err)
    print(f"{len(inputs.pose_frames)} frames, {len(inputs.face_frames)} people: "
          + ", ".join(path.name for path in written))
    return 0
