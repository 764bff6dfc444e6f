"""COCO / COCO-WholeBody keypoint AP and AR, computed as the official COCO-WholeBody evaluation does
(coco.py), and the predictions of a pipeline over an annotation file's images (predict.py).

`python -m annotator.dwpose eval` is the command line (cli/evaluation.py). Needs pycocotools
(`pip install "dwpose-annotator[eval]"`).
"""

from ..errors import EvaluationError
from .coco import PARTS, SIGMAS, STATS, evaluate, format_table, is_whole_body, load_ground_truth
from .predict import oks_nms, predict, to_results

__all__ = ["EvaluationError", "PARTS", "SIGMAS", "STATS", "evaluate", "format_table", "is_whole_body",
           "load_ground_truth", "oks_nms", "predict", "to_results"]
