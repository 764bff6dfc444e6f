"""Resumable batch runs (`python -m annotator.dwpose batch`, cli/batch.py): run_batch(items, job).

Each item's files go to DIR under its output name (items.py): DIR/sub/<name>_pose.png (+ <name>.json /
<name>.npz) for an image, DIR/sub/<name>_pose.mp4 and <name>.jsonl for a video. Every file is written in
DIR/.partial and renamed into place, so an item is done exactly when all its files exist: a rerun skips
those and redoes the rest, whether the last run was killed or not. Failed items are listed with their
reason in DIR/failed.jsonl. With a table: one Parquet row per image or video frame (formats/table.py),
rebuilt at the end from the per-item row files in DIR/.rows, sorted by (path, frame).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..formats.table import pose_row, read_table, table_schema, write_rows
from ..images import load_image
from ..optional import require
from ..pipeline import DWposeDetector
from ..render import PoseMapOptions
from ..video import video_size, write_pose_video
from .items import Item

PARTIAL, ROWS, FAILED = ".partial", ".rows", "failed.jsonl"


@dataclass
class Job:
    """What every item of a run is made into; picklable, it travels to worker processes and Ray actors.
    `detector`: DWposeDetector keyword arguments; `rows`: also write the per-item table rows (--table)."""

    out: Path
    detector: dict
    detect_resolution: int | None = 512
    image_resolution: int = 512
    options: PoseMapOptions | None = None
    json: bool = False
    npz: bool = False
    rows: bool = False


@dataclass
class BatchResult:
    """What a run did: items done now, items skipped (done before), and the failures {source: reason}."""

    done: int
    skipped: int
    failures: dict = field(default_factory=dict)


def run_batch(items: list[Item], job: Job, *, workers: int = 1, ray_address: str | None = None,
              table: Path | None = None) -> BatchResult:
    """Make every item of `items` that is not done yet into its files (as `job` says), in this process, in
    `workers` processes, or on Ray (`ray_address`: "" for a local instance, else the cluster's address,
    with `workers` actors); then DIR/failed.jsonl, and with `table` the Parquet table of every done item.

    The optional packages the run needs (pyarrow for rows, Ray, PyAV for videos) are checked before any
    work: MissingDependencyError names the one to install. WeightsError, ValueError or OSError when the
    models cannot be made; a failing item is only recorded.
    """
    if table is not None and not job.rows:
        raise ValueError("a table is made of the items' rows: make the Job with rows=True")
    if job.rows:
        require("pyarrow", "batch --table")
    if ray_address is not None:
        require("ray", "batch --ray")
    if any(item.is_video for item in items):
        require("av", "batch over videos")
    shutil.rmtree(job.out / PARTIAL, ignore_errors=True)  # what a killed run left half-written
    (job.out / PARTIAL).mkdir(parents=True)
    pending = [item for item in items if not is_done(item, job)]
    if not pending:
        failures = {}
    elif ray_address is not None:
        failures = run_ray(pending, job, ray_address, workers)
    else:
        failures = run_local(pending, job, workers)
    write_failures(job.out / FAILED, failures)
    if table is not None:
        write_table(items, job, table)
    return BatchResult(len(pending) - len(failures), len(items) - len(pending), failures)


def outputs(item: Item, job: Job) -> list[Path]:
    """The files an item is complete with, in the order process_item stages them."""
    base = str(job.out / item.name)
    if item.is_video:
        files = [base + "_pose.mp4", base + ".jsonl"]
    else:
        files = [base + "_pose.png"] + [base + ".json"] * job.json + [base + ".npz"] * job.npz
    if job.rows:
        files.append(row_file(item, job))
    return [Path(f) for f in files]


def row_file(item: Item, job: Job) -> Path:
    return job.out / ROWS / f"{item.name}.parquet"


def is_done(item: Item, job: Job) -> bool:
    return all(path.exists() for path in outputs(item, job))


def make_detector(job: Job) -> DWposeDetector:
    return DWposeDetector(**job.detector)


def run_item(detector, item: Item, job: Job) -> str | None:
    """process_item, with any error returned as its reason (None when the item is done)."""
    try:
        process_item(detector, item, job)
    except Exception as err:  # whatever one file does, the run goes on
        return f"{type(err).__name__}: {err}".splitlines()[0]
    return None


def process_item(detector, item: Item, job: Job) -> None:
    """Annotate one item into a fresh folder under DIR/.partial, then rename its files into place."""
    stage = Path(tempfile.mkdtemp(dir=job.out / PARTIAL))
    try:
        if item.is_video:
            staged, rows = stage_video(detector, item.source, stage, job)
        else:
            staged, rows = stage_image(detector, item.source, stage, job)
        if job.rows:
            staged.append(stage / "rows.parquet")
            write_rows(rows, staged[-1])
        for path, final in zip(staged, outputs(item, job)):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def stage_image(detector, source: Path, stage: Path, job: Job) -> tuple[list[Path], list[dict]]:
    """The pose map (and JSON / npz) of one image written into `stage`; (their paths, the table row)."""
    image = load_image(source)
    height, width = image.shape[:2]
    canvas, poses = detector.annotate(image, job.detect_resolution, job.image_resolution, options=job.options)
    files = [stage / "pose.png"]
    Image.fromarray(canvas).save(files[0])
    if job.json:
        files.append(stage / "pose.json")
        poses.save_openpose_json(files[-1])
    if job.npz:
        files.append(stage / "pose.npz")
        poses.save_npz(files[-1])
    return files, [pose_row(str(source), None, None, poses, width, height)]


def stage_video(detector, source: Path, stage: Path, job: Job) -> tuple[list[Path], list[dict]]:
    """<name>_pose.mp4 and <name>.jsonl of one video written into `stage`; (their paths, one row per frame)."""
    rows = []
    size = video_size(source)
    files = write_pose_video(detector, source, stage, detect_resolution=job.detect_resolution,
                             image_resolution=job.image_resolution, options=job.options,
                             progress=lambda tracked: recorded(tracked, rows, str(source), size))
    return list(files), rows


def recorded(tracked, rows: list, path: str, size: tuple[int, int]):
    """The TrackedFrames of `tracked`, passed on, with each frame's table row appended to `rows`."""
    for frame in tracked:
        rows.append(pose_row(path, frame.index, frame.time, frame.poses, *size))
        yield frame


def progress_bar(total: int) -> tqdm:
    return tqdm(total=total, desc="dwpose batch", unit="item", disable=total < 2)


def run_local(pending: list[Item], job: Job, workers: int) -> dict[Path, str]:
    """The pending items in this process, or in `workers` spawned processes; {source: reason} of failures."""
    failures = {}
    with progress_bar(len(pending)) as bar:
        if workers == 1:
            detector = make_detector(job)
            results = ((item, run_item(detector, item, job)) for item in pending)
            for item, error in results:
                report(item, error, failures, bar)
            return failures
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, initializer=_start_worker, initargs=(job,)) as pool:
            for item, error in pool.imap_unordered(_worker_item, pending):
                report(item, error, failures, bar)
    return failures


def report(item: Item, error: str | None, failures: dict, bar: tqdm) -> None:
    if error is not None:
        failures[item.source] = error
        tqdm.write(f"error: {item.source}: {error}", file=sys.stderr)
    bar.update()


_worker = None  # in a worker process: (its detector or the error making it raised, the job)


def _start_worker(job: Job) -> None:
    global _worker
    try:
        _worker = make_detector(job), job
    except Exception as err:  # raised again with the first item, so the parent stops
        _worker = err, job


def _worker_item(item: Item) -> tuple[Item, str | None]:
    detector, job = _worker
    if isinstance(detector, Exception):
        raise detector
    return item, run_item(detector, item, job)


def run_ray(pending: list[Item], job: Job, address: str, actors: int) -> dict[Path, str]:
    """The pending items on Ray (ray.data, `actors` actors each with one detector, see RayItems); a local
    instance when `address` is empty, unless this process already connected to one."""
    ray = require("ray", "batch --ray")

    started = not ray.is_initialized()
    if started and address:
        ray.init(address=address)  # the cluster's nodes have the package installed
    elif started:
        ray.init(runtime_env={"env_vars": {"PYTHONPATH": python_path()}})
    try:
        dataset = ray.data.from_items([{"path": str(item.source), "name": item.name} for item in pending])
        dataset = dataset.map_batches(RayItems, fn_constructor_kwargs={"job": job}, concurrency=actors,
                                      batch_size=1)
        by_source = {str(item.source): item for item in pending}
        failures = {}
        with progress_bar(len(pending)) as bar:
            for row in dataset.iter_rows():
                report(by_source[row["path"]], row["error"] or None, failures, bar)
        return failures
    finally:
        if started:
            ray.shutdown()


def python_path() -> str:
    """$PYTHONPATH with the folder this package is imported from first (for local Ray workers)."""
    here = str(Path(__file__).resolve().parents[3])
    return os.pathsep.join([here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def write_failures(path: Path, failures: dict[Path, str]) -> None:
    """DIR/failed.jsonl: {"path", "error"} per failed item of this run, sorted; removed when none failed."""
    if not failures:
        path.unlink(missing_ok=True)
        return
    lines = "".join(json.dumps({"path": str(source), "error": failures[source]}) + "\n" for source in sorted(failures))
    replace_text(path, lines)


def replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_table(items: list[Item], job: Job, path: Path) -> None:
    """The row files of the done items as one Parquet table at `path`, sorted by (path, frame), written atomically."""
    pa = require("pyarrow", "batch --table")
    import pyarrow.parquet as pq

    tables = [read_table(row_file(item, job)) for item in items if is_done(item, job)]
    table = pa.concat_tables(tables) if tables else table_schema().empty_table()
    table = table.sort_by([("path", "ascending"), ("frame", "ascending")])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


class RayItems:
    """map_batches callable of run_ray: rows {"path", "name"} (an Item) -> each item's files written into
    job.out as run_local writes them; returns {"path", "error"} ("" when done)."""

    def __init__(self, job: Job):
        self.job = job
        self.detector = make_detector(job)

    def __call__(self, batch: dict) -> dict:
        paths = [str(path) for path in batch["path"]]
        errors = [run_item(self.detector, Item(Path(path), str(name)), self.job) or ""
                  for path, name in zip(paths, batch["name"])]
        return {"path": np.array(paths, dtype=object), "error": np.array(errors, dtype=object)}
