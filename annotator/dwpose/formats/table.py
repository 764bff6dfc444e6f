"""Parquet rows of poses (`batch --table`, Ray Data): one row per image or video frame, with pyarrow (the
optional extra `[table]`).

Columns (table_schema): path (the source file, absolute), frame and time (the video frame's index in the
file and its time in seconds; null for images), width and height (of the image or frame), boxes
(N x [x1, y1, x2, y2]), box_scores (N), keypoints (N x 134 x [x, y], OpenPose layout), scores (N x 134),
track_ids (N, videos; null for images). Coordinates are pixels of the width x height image.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import PoseFormatError
from ..optional import require
from ..skeleton import NUM_OPENPOSE
from .checks import describe, image_size, numbers_array


def table_schema():
    """The pyarrow schema of the table (module docstring)."""
    pa = require("pyarrow", "Parquet tables")
    return pa.schema([("path", pa.string()), ("frame", pa.int64()), ("time", pa.float64()),
                      ("width", pa.int64()), ("height", pa.int64()),
                      ("boxes", pa.list_(pa.list_(pa.float32()))), ("box_scores", pa.list_(pa.float32())),
                      ("keypoints", pa.list_(pa.list_(pa.list_(pa.float64())))),
                      ("scores", pa.list_(pa.list_(pa.float32()))), ("track_ids", pa.list_(pa.int64()))])


def pose_row(path: str | None, frame: int | None, time: float | None, poses, width: int, height: int) -> dict:
    """The row of one image or frame; `poses` (a Poses, e.g. in pixels of the detection canvas) are given in
    pixels of the width x height image."""
    poses = poses.in_pixels_of(width, height)
    return {"path": path, "frame": frame, "time": time, "width": int(width), "height": int(height),
            "boxes": poses.boxes.tolist(), "box_scores": poses.box_scores.tolist(),
            "keypoints": poses.exact_keypoints.tolist(), "scores": poses.scores.tolist(),
            "track_ids": None if poses.track_ids is None else poses.track_ids.tolist()}


def rows_table(rows: list[dict]):
    """A pyarrow Table of rows (pose_row dicts) with the table_schema columns."""
    pa = require("pyarrow", "Parquet tables")
    return pa.Table.from_pylist(rows, schema=table_schema())


def write_rows(rows: list[dict], path: str | os.PathLike) -> None:
    """The rows as a Parquet file at `path`."""
    require("pyarrow", "Parquet tables")
    import pyarrow.parquet as pq

    pq.write_table(rows_table(rows), path)


def read_table(path: str | os.PathLike):
    """The Parquet file at `path` as a pyarrow Table with the table_schema columns."""
    require("pyarrow", "Parquet tables")
    import pyarrow.parquet as pq

    return pq.read_table(path, schema=table_schema())


def read_row(row: dict) -> dict:
    """The Poses fields of one row (a dict, as pyarrow's to_pylist gives it), in pixels of its width x height;
    lossless: the row a Poses gives (pose_row) is read back to the same keypoints, scores, boxes and ids."""
    if not isinstance(row, dict):
        raise PoseFormatError(f"expected a table row (a dict), got {describe(row)}")
    for column in ("width", "height", "keypoints", "scores"):
        if column not in row:
            raise PoseFormatError(f"{column}: missing from the row")
    width, height = image_size(row["width"], "width"), image_size(row["height"], "height")
    keypoints = _column(row, "keypoints", (None, NUM_OPENPOSE, 2))
    n = len(keypoints)
    scores = _column(row, "scores", (n, NUM_OPENPOSE))
    boxes = _column(row, "boxes", (n, 4), default=np.tile([0.0, 0.0, width, height], (n, 1)))
    box_scores = _column(row, "box_scores", (n,), default=np.zeros(n))
    track_ids = _column(row, "track_ids", (n,), default=None)
    track_ids = None if track_ids is None else track_ids.astype(np.int64)
    return dict(exact_keypoints=keypoints, scores=scores.astype(np.float32), boxes=boxes.astype(np.float32),
                box_scores=box_scores.astype(np.float32), width=width, height=height, track_ids=track_ids)


def _column(row: dict, column: str, shape: tuple, default=None) -> np.ndarray | None:
    """The row's `column` as a float64 array of `shape`; `default` where the value is null."""
    value = row.get(column)
    if value is None:
        return default
    if isinstance(value, list) and not value:  # no people
        value = np.zeros(tuple(0 if size is None else size for size in shape))
    return numbers_array(value, column, shape)
