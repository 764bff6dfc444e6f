"""Ray Data (the optional extra `[ray]`): PoseAnnotator, a callable class for Dataset.map_batches whose
actors each make one DWposeDetector and reuse it for every batch.

>>> ds = ray.data.read_images("s3://bucket/photos", include_paths=True)   # or: ray.data.from_items([{"path": p}])
>>> ds = ds.map_batches(PoseAnnotator, fn_constructor_kwargs={"det": "yolox_l.onnx", "pose": "dw-ll_ucoco_384.onnx"},
...                     concurrency=4, batch_size=8)       # older Ray: compute=ray.data.ActorPoolStrategy(size=4)
>>> ds.write_parquet("poses/")                            # the columns of formats.table.table_schema()

Rows are those of `python -m annotator.dwpose batch --table`: one per image, one per frame of a video given
by path. ray.data.read_images decodes without the EXIF rotation; a "path" column is read as the command
line reads files (upright).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .batch.run import recorded
from .formats.table import pose_row, rows_table
from .images import HWC3, load_image
from .pipeline import DWposeDetector
from .video import VIDEO_SUFFIXES, read_video, video_size


class PoseAnnotator:
    """map_batches callable: a batch with an "image" column (HxWxC uint8 arrays; "path" is kept when there)
    or with only a "path" column (image or video files) -> a pyarrow Table of the table_schema columns.
    An unreadable file raises; `batch --ray` records failures instead."""

    def __init__(self, det=None, pose=None, detect_resolution: int | None = 512, **detector_kwargs):
        """`det`, `pose`: ONNX files as DWposeDetector takes them; `detector_kwargs`: its other arguments
        (backend="torch", device="cuda", precision, providers...)."""
        self.detector = DWposeDetector(det, pose, **detector_kwargs)
        self.detect_resolution = detect_resolution

    def __call__(self, batch: dict):
        paths = batch.get("path")
        rows = []
        if "image" in batch:
            for k, image in enumerate(batch["image"]):
                rows.append(self.image_row(np.asarray(image), None if paths is None else str(paths[k])))
        else:
            for path in paths:
                rows += self.path_rows(str(path))
        return rows_table(rows)

    def image_row(self, image, path: str | None) -> dict:
        """The row of one image (PIL or array, as DWposeDetector.annotate takes it)."""
        rgb = HWC3(image)
        poses = self.detector.detect(rgb, detect_resolution=self.detect_resolution)
        return pose_row(path, None, None, poses, rgb.shape[1], rgb.shape[0])

    def path_rows(self, path: str) -> list[dict]:
        """The row of an image file, or one row per frame of a video file."""
        if Path(path).suffix.lower() not in VIDEO_SUFFIXES:
            return [self.image_row(load_image(path), path)]
        rows = []
        tracked = self.detector.track(read_video(path), detect_resolution=self.detect_resolution)
        for _ in recorded(tracked, rows, path, video_size(path)):
            pass
        return rows
