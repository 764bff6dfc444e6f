"""Resumable batch runs: `python -m annotator.dwpose batch INPUT... --out DIR [--table FILE.parquet]
[--workers N] [--ray [ADDRESS]]`.

INPUT: image or video files, folders (searched recursively), globs, or .txt files listing such inputs one a
line (relative to the list's folder). Each item's files go to DIR under its path relative to its input
root: DIR/sub/<name>_pose.png (+ <name>.json / <name>.npz with --json / --npz) for an image,
DIR/sub/<name>_pose.mp4 and <name>.jsonl for a video. Every file is written in DIR/.partial and renamed
into place, so an item is done exactly when all its files exist: a rerun skips those and redoes the rest,
whether the last run was killed or not. Failed items are listed with their reason in DIR/failed.jsonl.
--table: one Parquet row per image or video frame (columns: SCHEMA), rebuilt at the end from the per-item
row files in DIR/.rows, sorted by (path, frame).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from .__main__ import IMAGE_SUFFIXES, add_common_arguments, load_image, map_options, print_warning
from .render import PoseMapOptions

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
PARTIAL, ROWS, FAILED = ".partial", ".rows", "failed.jsonl"


def table_schema():
    """The Parquet table's columns: path (the source file, absolute), frame and time (the video frame's index
    in the file and its time in seconds; null for images), width and height (of the image or frame),
    boxes (N x [x1, y1, x2, y2]), box_scores (N), keypoints (N x 134 x [x, y], OpenPose layout), scores
    (N x 134), track_ids (N, videos; null for images). Coordinates are pixels of the width x height image."""
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("frame", pa.int64()), ("time", pa.float64()),
                      ("width", pa.int64()), ("height", pa.int64()),
                      ("boxes", pa.list_(pa.list_(pa.float32()))), ("box_scores", pa.list_(pa.float32())),
                      ("keypoints", pa.list_(pa.list_(pa.list_(pa.float64())))),
                      ("scores", pa.list_(pa.list_(pa.float32()))), ("track_ids", pa.list_(pa.int64()))])


@dataclass(frozen=True)
class Item:
    """One input file (absolute path) and its output name: its path relative to its input root, without the
    suffix, with '/' separators (e.g. "sub/photo")."""

    source: Path
    name: str

    @property
    def is_video(self) -> bool:
        return self.source.suffix.lower() in VIDEO_SUFFIXES


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


# Inputs -> items


def collect_items(inputs, exclude: Path | None = None) -> list[Item]:
    """The items the INPUT arguments stand for, each file once, sorted by path; files under `exclude` (the
    output folder) are left out. Files given by name are items whatever their suffix (a bad one fails)."""
    roots = {}
    for entry in inputs:
        for source, root in expand(str(entry), Path.cwd()):
            if exclude is None or not is_within(source, Path(os.path.abspath(exclude))):
                roots.setdefault(source, root)
    return [Item(source, name) for source, name in sorted(unique_names(roots).items())]


def expand(entry: str, base: Path):
    """(file, root) pairs of one input, relative to `base`: a folder's media files (recursively) with the
    folder as root, a glob's matches with its fixed leading folders as root, a .txt list's entries with
    the list's folder as root, any other path as itself with its folder as root (missing ones too)."""
    path = Path(os.path.abspath(base / entry))
    if glob.has_magic(entry):
        root = Path(*iter_fixed_parts(path))
        for match in map(Path, sorted(glob.glob(str(path), recursive=True))):
            yield from media_files(match, root) if match.is_dir() else [(match, root)]
    elif path.is_dir():
        yield from media_files(path, path)
    elif path.suffix.lower() == ".txt" and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                for source, root in expand(line.strip(), path.parent):
                    yield source, path.parent if is_within(source, path.parent) else root
    else:
        yield path, path.parent


def iter_fixed_parts(path: Path):
    """The leading parts of a glob pattern's path that hold no wildcard."""
    for part in path.parts:
        if glob.has_magic(part):
            return
        yield part


def media_files(folder: Path, root: Path) -> list[tuple[Path, Path]]:
    """(file, root) for the images and videos in `folder` and its subfolders."""
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    return [(p, root) for p in sorted(folder.rglob("*")) if p.suffix.lower() in suffixes and p.is_file()]


def is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def unique_names(roots: dict[Path, Path]) -> dict[Path, str]:
    """{file: output name}: the path relative to its root without its suffix; where two would collide
    (a.jpg and a.png, or the same relative path under two roots) the suffix is kept, and where they
    still collide, ~2, ~3... follow in path order. Compared case-insensitively, as some file systems do."""
    relative = {source: source.relative_to(root) for source, root in roots.items()}
    plain = {source: rel.with_suffix("").as_posix() for source, rel in relative.items()}
    counts = {}
    for name in plain.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    names, taken = {}, set()
    for source in sorted(relative):
        name = plain[source] if counts[plain[source].casefold()] == 1 else relative[source].as_posix()
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}~{n}"
        taken.add(candidate.casefold())
        names[source] = candidate
    return names


# One item


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


def make_detector(job: Job):
    from .detector import DWposeDetector

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
    canvas, poses = detector.annotate(image, job.detect_resolution, job.image_resolution, options=job.options)
    files = [stage / "pose.png"]
    Image.fromarray(canvas).save(files[0])
    if job.json:
        files.append(stage / "pose.json")
        poses.save_openpose_json(files[-1])
    if job.npz:
        files.append(stage / "pose.npz")
        poses.save_npz(files[-1])
    return files, [pose_row(str(source), None, None, poses, image.width, image.height)]


def stage_video(detector, source: Path, stage: Path, job: Job) -> tuple[list[Path], list[dict]]:
    """<name>_pose.mp4 and <name>.jsonl of one video written into `stage`; (their paths, one row per frame)."""
    from .video import write_pose_video

    rows = []
    size = video_size(source)
    files = write_pose_video(detector, source, stage, detect_resolution=job.detect_resolution,
                             image_resolution=job.image_resolution, options=job.options,
                             progress=lambda tracked: recorded(tracked, rows, str(source), size))
    return list(files), rows


def video_size(path) -> tuple[int, int]:
    """(width, height) of the video's first frame, upright."""
    from .video import read_video

    frames = read_video(path)
    try:
        image = next(frames).image
    finally:
        frames.close()
    return image.shape[1], image.shape[0]


def recorded(tracked, rows: list, path: str, size: tuple[int, int]):
    """The TrackedFrames of `tracked`, passed on, with each frame's table row appended to `rows`."""
    for frame in tracked:
        rows.append(pose_row(path, frame.index, frame.time, frame.poses, *size))
        yield frame


def pose_row(path: str | None, frame: int | None, time: float | None, poses, width: int, height: int) -> dict:
    """The table row of one image or frame; `poses` (in pixels of the detection canvas) are given in pixels
    of the width x height image."""
    poses = poses.in_pixels_of(width, height)
    return {"path": path, "frame": frame, "time": time, "width": int(width), "height": int(height),
            "boxes": poses.boxes.tolist(), "box_scores": poses.box_scores.tolist(),
            "keypoints": poses.exact_keypoints.tolist(), "scores": poses.scores.tolist(),
            "track_ids": None if poses.track_ids is None else poses.track_ids.tolist()}


def rows_table(rows: list[dict]):
    """A pyarrow Table of rows (pose_row dicts) with the table_schema columns."""
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=table_schema())


def write_rows(rows: list[dict], path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(rows_table(rows), path)


# The run


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m annotator.dwpose batch", description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="images, videos, folders (recursive), globs, or .txt lists of them")
    parser.add_argument("--json", action="store_true", help="also write <name>.json (OpenPose JSON) per image")
    parser.add_argument("--npz", action="store_true", help="also write <name>.npz per image")
    parser.add_argument("--table", type=Path, metavar="FILE.parquet",
                        help="one Parquet table, a row per image or video frame")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes (with --ray: actors; default 1)")
    parser.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                        help="run on Ray: a local instance, or the cluster at ADDRESS (auto, ray://head:10001); "
                             "DIR must be on storage every node writes to")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def make_job(args: argparse.Namespace) -> Job:
    detector = dict(det_model=args.det, pose_model=args.pose, precision=args.precision, backend=args.backend,
                    device=args.device)
    return Job(args.out.resolve(), detector, args.detect_resolution, args.image_resolution, map_options(args),
               json=args.json, npz=args.npz, rows=args.table is not None)


def main(argv=None) -> int:
    """`batch` command line (argv without the word "batch"); exit status 0, 1 when an item failed, 2 when
    nothing could run."""
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    with warnings.catch_warnings():
        warnings.showwarning = print_warning
        return run(args)


def run(args: argparse.Namespace) -> int:
    from .weights import WeightsError

    try:
        job = make_job(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    items = collect_items(args.inputs, exclude=job.out)
    if not items:
        print("error: nothing found in " + ", ".join(args.inputs), file=sys.stderr)
        return 2
    shutil.rmtree(job.out / PARTIAL, ignore_errors=True)  # what a killed run left half-written
    (job.out / PARTIAL).mkdir(parents=True)
    pending = [item for item in items if not is_done(item, job)]
    try:
        if not pending:
            failures = {}
        elif args.ray is not None:
            failures = run_ray(pending, job, args.ray, args.workers)
        else:
            failures = run_local(pending, job, args.workers)
    except (ValueError, WeightsError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_failures(job.out / FAILED, failures)
    if args.table is not None:
        write_table(items, job, args.table)
    done = len(pending) - len(failures)
    print(f"done {done}, skipped {len(items) - len(pending)} (done before), failed {len(failures)}"
          + (f": see {job.out / FAILED}" if failures else ""), file=sys.stderr)
    return 1 if failures else 0


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
    """The pending items on Ray (ray.data, `actors` actors each with one detector, see ray.BatchItems); a
    local instance when `address` is empty, unless this process already connected to one."""
    import ray

    from .ray import BatchItems

    started = not ray.is_initialized()
    if started and address:
        ray.init(address=address)  # the cluster's nodes have the package installed
    elif started:
        ray.init(runtime_env={"env_vars": {"PYTHONPATH": python_path()}})
    try:
        dataset = ray.data.from_items([{"path": str(item.source), "name": item.name} for item in pending])
        dataset = dataset.map_batches(BatchItems, fn_constructor_kwargs={"job": job}, concurrency=actors,
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
    here = str(Path(__file__).resolve().parents[2])
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(row_file(item, job), schema=table_schema()) for item in items if is_done(item, job)]
    table = pa.concat_tables(tables) if tables else table_schema().empty_table()
    table = table.sort_by([("path", "ascending"), ("frame", "ascending")])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
