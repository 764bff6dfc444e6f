"""`python -m annotator.dwpose eval --gt ANNOTATIONS.json (--images DIR [--gt-boxes] [--predictions OUT.json] |
--predictions PRED.json)`: the pipeline over an annotation file's images (or an existing results file) scored
as the official COCO-WholeBody evaluation scores it (the evaluation package)."""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from tqdm import tqdm

from ..errors import EvaluationError
from ..evaluation import evaluate, format_table, load_ground_truth, predict
from ..optional import require
from .common import SETUP_ERRORS, add_model_arguments, fail, make_detector


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "eval", help="COCO / COCO-WholeBody AP and AR, as the official evaluation computes them",
        description="COCO / COCO-WholeBody keypoint AP and AR (body, foot, face, hands, whole body) as the "
                    "official COCO-WholeBody evaluation computes them")
    parser.add_argument("--gt", required=True, type=Path, help="COCO or COCO-WholeBody annotation JSON")
    parser.add_argument("--images", type=Path, help="folder of the annotation file's images: run the pipeline on them")
    parser.add_argument("--gt-boxes", action="store_true",
                        help="with --images: use the annotated person boxes instead of the person detector")
    parser.add_argument("--predictions", type=Path, metavar="JSON",
                        help="with --images: where to write the predictions; without: the results file to evaluate")
    add_model_arguments(parser)
    parser.set_defaults(run=run, check=functools.partial(check, parser))


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The argument combinations argparse cannot express."""
    if args.images is None and args.predictions is None:
        parser.error("give --images DIR (run the pipeline) or --predictions JSON (evaluate a results file)")
    if args.gt_boxes and args.images is None:
        parser.error("--gt-boxes needs --images")


def run(args: argparse.Namespace) -> int:
    """Prints the table; 2 on a bad argument or file."""
    try:
        require("pycocotools", "eval")
        dataset = load_ground_truth(args.gt)
        if args.images is not None:
            if not args.images.is_dir():
                return fail(f"image folder not found: {args.images}")
            try:
                detector = make_detector(args)
            except SETUP_ERRORS as err:
                return fail(err)
            predictions = predict(detector, dataset, args.images, gt_boxes=args.gt_boxes,
                                  progress=lambda items: tqdm(items, desc="images", unit="image"))
            if args.predictions is not None:
                args.predictions.parent.mkdir(parents=True, exist_ok=True)
                with open(args.predictions, "w", encoding="utf-8") as f:
                    json.dump(predictions, f)
        else:
            predictions = args.predictions
        results = evaluate(dataset, predictions)
    except (EvaluationError, ImportError) as err:
        return fail(err)
    print(format_table(results))
    return 0
