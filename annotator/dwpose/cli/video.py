"""`python -m annotator.dwpose video VIDEO... --out DIR`: <name>_pose.mp4 (H.264) and <name>.jsonl per video
(one OpenPose JSON line per frame, people with a track_id). A video that cannot be read, or breaks off, is
reported; what was done is kept; the others go on (exit status 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from ..images import load_image
from ..optional import require
from ..video import DET_EVERY, write_pose_video
from ..video.align import METHODS
from .common import SETUP_ERRORS, add_common_arguments, fail, make_detector, map_options, report_failures


def add_parser(commands) -> None:
    parser = commands.add_parser("video", help="pose videos (mp4 + jsonl), people tracked across frames",
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
    parser.add_argument("--align-method", choices=METHODS, default="mimicmotion",
                        help="mimicmotion: MimicMotion's global rescale (default); limbs: every bone takes the "
                             "reference's length")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Each video streamed through the detector's tracker into <name>_pose.mp4 and <name>.jsonl."""
    try:
        require("av", "video")
        options = map_options(args)
        detector = make_detector(args)
        reference = load_image(args.align_to) if args.align_to else None
    except SETUP_ERRORS as err:
        return fail(err)
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
        except (OSError, ValueError) as err:
            tqdm.write(f"error: {path}: {err}", file=sys.stderr)
            failed.append(path)
    return report_failures(failed, len(args.inputs), "videos")
