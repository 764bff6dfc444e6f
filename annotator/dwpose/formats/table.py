"""Parquet rows of poses (`batch --table`, Ray Data): one row per image or video frame, with pyarrow (the
optional extra `[table]`).

Columns (table_schema): path (the source file, absolute), frame and time (the video frame's index in the
file and its time in seconds; null for images), width and height (of the image or frame), boxes
(N x [x1, y1, x2, y2]), box_scores (N), keypoints (N x 134 x [x, y], OpenPose layout), scores (N x 134),
track_ids (N, videos; null for images). Coordinates are pixels of the width x height image.
"""

from __future__ import annotations

import os

from ..optional import require


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
