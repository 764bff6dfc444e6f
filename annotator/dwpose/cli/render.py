"""`python -m annotator.dwpose render POSES... --out DIR`: pose maps drawn from pose files (pose_files.py: OpenPose
JSON, POSE_KEYPOINT JSON, jsonl, npz, Parquet, COCO-WholeBody results): <name>_pose.png for an image's poses,
<name>_pose.mp4 (and with --frames <name>/<frame:06d>.png) for a video's. A file that cannot be read is reported,
the others are drawn, and the exit status is 1."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tqdm import tqdm

from ..pose_files import DEFAULT_FPS, POSE_FILE_SUFFIXES, read_pose_file, write_pose_maps
from .common import (INPUT_ERRORS, SETUP_ERRORS, add_map_arguments, fail, list_inputs, map_options, positive_float,
                     report_failures)


def add_parser(commands) -> None:
    parser = commands.add_parser("render", help="pose maps drawn from pose files (JSON, jsonl, npz, Parquet)",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="POSES_OR_DIR",
                        help=f"pose files ({', '.join(POSE_FILE_SUFFIXES)}) or folders of them")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--size", type=map_size, metavar="WxH",
                        help="the maps' size (default: each file's canvas size); needed for the files that do not "
                             "say the size their coordinates refer to (npz, COCO results), which it then gives")
    parser.add_argument("--fps", type=positive_float, help="frame rate of the videos (default: from the jsonl's "
                                                            f"times, else {DEFAULT_FPS:g})")
    parser.add_argument("--frames", action="store_true", help="also write each video frame as <name>/<frame>.png")
    parser.add_argument("--no-video", action="store_true", help="write no mp4 (with --frames: the frames only)")
    add_map_arguments(parser)
    parser.set_defaults(run=run)


def map_size(text: str) -> tuple[int, int]:
    """argparse type of --size: WxH -> (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or min(int(match[1]), int(match[2])) < 1:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 768x1024, got {text!r}")
    return int(match[1]), int(match[2])


def run(args: argparse.Namespace) -> int:
    files = list_inputs(args.inputs, POSE_FILE_SUFFIXES)
    if not files:
        return fail("no pose files found in " + ", ".join(args.inputs))
    try:
        options = map_options(args)
    except SETUP_ERRORS as err:
        return fail(err)
    args.out.mkdir(parents=True, exist_ok=True)
    width, height = args.size or (None, None)
    failed = []
    for path in tqdm(files, desc="render", unit="file", disable=len(files) < 2):
        try:
            for sequence in read_pose_file(path, width, height):
                write_pose_maps(sequence, args.out, options, args.size, args.fps, video=not args.no_video,
                                png_frames=args.frames)
        except INPUT_ERRORS as err:
            tqdm.write(f"error: {path}: {err}" if str(path) not in str(err) else f"error: {err}", file=sys.stderr)
            failed.append(path)
    return report_failures(failed, len(files), "pose files")
