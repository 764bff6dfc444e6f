"""`python -m annotator.dwpose batch INPUT... --out DIR [--table FILE.parquet] [--workers N] [--ray [ADDRESS]]`:
resumable runs over images and videos (the batch package).

INPUT: image or video files, folders (searched recursively), globs, or .txt files listing such inputs one a
line (relative to the list's folder). Each item's files go to DIR under its path relative to its input
root; a rerun skips what is done. Failed items are listed with their reason in DIR/failed.jsonl.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..batch import Job, collect_items, run_batch
from ..batch.run import FAILED
from .common import SETUP_ERRORS, add_common_arguments, detector_arguments, fail, map_options, positive_int


def add_parser(commands) -> None:
    parser = commands.add_parser("batch", help="resumable runs over folders of images and videos, Parquet tables, Ray",
                                 description="Resumable batch runs over images and videos")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="images, videos, folders (recursive), globs, or .txt lists of them")
    parser.add_argument("--json", action="store_true", help="also write <name>.json (OpenPose JSON) per image")
    parser.add_argument("--npz", action="store_true", help="also write <name>.npz per image")
    parser.add_argument("--table", type=Path, metavar="FILE.parquet",
                        help="one Parquet table, a row per image or video frame")
    parser.add_argument("--workers", type=positive_int, default=1, metavar="N",
                        help="worker processes (with --ray: actors; default 1)")
    parser.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                        help="run on Ray: a local instance, or the cluster at ADDRESS (auto, ray://head:10001); "
                             "DIR must be on storage every node writes to")
    add_common_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Exit status 0, 1 when an item failed, 2 when nothing could run."""
    try:
        job = Job(args.out.resolve(), detector_arguments(args), args.detect_resolution, args.image_resolution,
                  map_options(args), json=args.json, npz=args.npz, rows=args.table is not None)
    except ValueError as err:
        return fail(err)
    items = collect_items(args.inputs, exclude=job.out)
    if not items:
        return fail("nothing found in " + ", ".join(args.inputs))
    try:
        result = run_batch(items, job, workers=args.workers, ray_address=args.ray, table=args.table)
    except SETUP_ERRORS as err:
        return fail(err)
    failures = result.failures
    print(f"done {result.done}, skipped {result.skipped} (done before), failed {len(failures)}"
          + (f": see {job.out / FAILED}" if failures else ""), file=sys.stderr)
    return 1 if failures else 0
