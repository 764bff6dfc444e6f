"""`python -m annotator.dwpose [images] IMAGE_OR_DIR... --out DIR`: <name>_pose.png per image, and <name>.json
(sd-webui-controlnet OpenPose JSON) and <name>.npz with --json / --npz. An unreadable image is reported,
the others are processed, and the exit status is 1."""

from __future__ import annotations

import argparse
import sys

from PIL import Image
from tqdm import tqdm

from ..images import IMAGE_SUFFIXES, load_image
from .common import (INPUT_ERRORS, SETUP_ERRORS, add_common_arguments, fail, list_inputs, make_detector, map_options,
                     report_failures)


def add_parser(commands) -> None:
    parser = commands.add_parser("images", help="pose maps (and JSON / npz) of images (the default command)",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders of images")
    parser.add_argument("--json", action="store_true", help="also write <name>.json (OpenPose JSON)")
    parser.add_argument("--npz", action="store_true", help="also write <name>.npz")
    add_common_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    images = list_inputs(args.inputs, IMAGE_SUFFIXES)
    if not images:
        return fail("no images found in " + ", ".join(args.inputs))
    try:
        options = map_options(args)
        detector = make_detector(args)
    except SETUP_ERRORS as err:
        return fail(err)
    args.out.mkdir(parents=True, exist_ok=True)

    failed = []
    for path in tqdm(images, desc="dwpose", unit="image", disable=len(images) < 2):
        try:
            canvas, poses = detector.annotate(load_image(path), args.detect_resolution, args.image_resolution,
                                              options=options)
        except INPUT_ERRORS as err:
            tqdm.write(f"error: {path}: {err}", file=sys.stderr)
            failed.append(path)
            continue
        Image.fromarray(canvas).save(args.out / f"{path.stem}_pose.png")
        if args.json:
            poses.save_openpose_json(args.out / f"{path.stem}.json")
        if args.npz:
            poses.save_npz(args.out / f"{path.stem}.npz")
    return report_failures(failed, len(images), "images")
