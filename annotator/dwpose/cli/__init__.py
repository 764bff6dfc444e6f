"""The command line: `python -m annotator.dwpose [COMMAND] ...` (or `dwpose ...` once installed).

Commands, one module each: images (the default: pose maps, JSON, npz), video (pose videos, tracked),
batch (resumable runs, Parquet, Ray), eval (evaluation.py: COCO-WholeBody AP / AR), render (maps drawn
from pose files), wan-animate (Wan 2.2 Animate's inputs). common.py holds what they share: the
model and pose map arguments, the detector made from them, warnings and errors as one line.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .. import __version__
from . import batch, evaluation, images, render, video, wan_animate
from .common import print_warning

COMMANDS = {"images": images, "video": video, "batch": batch, "eval": evaluation, "render": render,
            "wan-animate": wan_animate}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m annotator.dwpose",
        description="DWPose whole-body pose maps (dw_openpose_full) and keypoints for ControlNet and "
                    "pose-guided video models.",
        epilog="Without a command, images is meant: python -m annotator.dwpose photo.jpg --out out. An image "
               "file named like a command is given as ./video or after the command (images video --out out). "
               "python -m annotator.dwpose COMMAND --help tells more.")
    parser.add_argument("--version", action="version", version=f"dwpose-annotator {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]); returns the exit status: 0 done, 1 when some
    inputs failed, 2 when nothing could run."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["images", *argv]  # the default command
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "check"):
        args.check(args)
    with warnings.catch_warnings():
        warnings.showwarning = print_warning
        return args.run(args)
