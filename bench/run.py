"""Benchmark dw_openpose_full (exact and fast modes) against the reference-style baseline.

    python -m pip install torch==2.13.0 -e ".[bench]" && python -m bench.run

Builds the architecture-faithful stand-in models (bench/models.py, seeded random weights), then runs
every pipeline in its own process (so peak RSS is its own) on real photos from ../shared/photos with
the person count fixed by real detector boxes, and writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DWPOSE_SHARED", ROOT.parent / "shared"))
PHOTOS = SHARED / "photos"
REAL_YOLOX = SHARED / "ckpts" / "yolox_nano.onnx"
REAL_RTMDET = SHARED / "ckpts" / "rtmdet_nano.onnx"
RESOLUTION = 512
WARMUP = 1  # untimed rounds in each new process
PROCESSES = 3  # fresh processes per pipeline (see measure)
STAND_INS = ROOT / "bench" / "stand_ins"  # generated models (git-ignored)

# Person count -> (photo, how many of its real detections to keep, best first).
CASES = {1: ("people/woman.jpeg", 1), 4: ("people/girls.jpg", 4), 7: ("people/girls.jpg", 7),
         14: ("people/city.jpg", 14)}


def load_photo(relative: str) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(PHOTOS / relative) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def person_boxes(image: np.ndarray, count: int) -> np.ndarray:
    """The `count` best person boxes the real YOLOX-nano finds at the detect resolution."""
    from annotator.dwpose.images import resize_image
    from annotator.dwpose.models import load_person_detector
    from annotator.dwpose.runtime import Runtime

    detector = load_person_detector(REAL_YOLOX, Runtime(), score_threshold=0.3)
    boxes, _ = detector(resize_image(image, RESOLUTION))
    if len(boxes) < count:
        raise SystemExit(f"expected {count} people, the real detector found {len(boxes)}")
    return boxes[:count]


class Timed:
    """A session whose run() time is added up (the model stages of the breakdown)."""

    def __init__(self, session):
        self.session, self.seconds = session, 0.0

    def __getattr__(self, name):
        return getattr(self.session, name)

    def run(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.session.run(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


class FixedPeople:
    """Runs the real detector (so it is timed) and then reports the benchmark's fixed boxes."""

    def __init__(self, detector):
        self.detector, self.boxes = detector, np.zeros((0, 4))

    def __getattr__(self, name):
        return getattr(self.detector, name)

    def __call__(self, image, score_threshold=None):
        self.detector(image, score_threshold)
        return self.boxes, np.ones(len(self.boxes), dtype=np.float32)


def make_pipeline(kind: str, precision: str, det: str, pose: str):
    """(call(image) -> keypoints, set_boxes(boxes), det timer, pose timer) for one pipeline."""
    if kind == "baseline":
        from bench.baseline import BaselinePipeline, detect_people

        pipeline = BaselinePipeline(det, pose)
        pipeline.det_session, pipeline.pose_session = Timed(pipeline.det_session), Timed(pipeline.pose_session)
        fixed = {"boxes": np.zeros((0, 4))}

        def find_people(session, image):
            detect_people(session, image)
            return fixed["boxes"]

        pipeline.find_people = find_people
        return (lambda image: pipeline(image, RESOLUTION, RESOLUTION)[1],
                lambda boxes: fixed.update(boxes=boxes), pipeline.det_session, pipeline.pose_session)

    from annotator.dwpose import DWposeDetector

    detector = DWposeDetector(det, pose, precision=precision)
    detector.detector.session = Timed(detector.detector.session)
    detector.pose_model.session = Timed(detector.pose_model.session)
    detector.detector = FixedPeople(detector.detector)

    def set_boxes(boxes):
        detector.detector.boxes = boxes

    return (lambda image: detector.annotate(image, RESOLUTION, RESOLUTION)[1].exact_keypoints, set_boxes,
            detector.detector.session, detector.pose_model.session)


def serve(spec: dict) -> None:
    """One pipeline in this process, driven line by line from stdin by the parent (see Worker)."""
    start = time.perf_counter()
    call, set_boxes, det_timer, pose_timer = make_pipeline(spec["kind"], spec["precision"], spec["det"], spec["pose"])
    print(json.dumps({"create_s": time.perf_counter() - start}), flush=True)
    images = {count: load_photo(photo) for count, (photo, _) in spec["cases"].items()}
    keypoints = {}
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "run":
            photo, boxes = spec["cases"][argument]
            set_boxes(np.array(boxes, dtype=np.float64))
            det_timer.seconds = pose_timer.seconds = 0.0
            begin = time.perf_counter()
            keypoints[argument] = call(images[argument])
            total = time.perf_counter() - begin
            reply = {"total": total, "det": det_timer.seconds, "pose": pose_timer.seconds}
        elif command == "finish":
            np.savez(argument, **keypoints)
            reply = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        else:
            return
        print(json.dumps(reply), flush=True)


class Worker:
    """A pipeline in its own process (its own peak RSS); the parent runs one image at a time in it."""

    def __init__(self, spec: dict, env: dict):
        command = [sys.executable, "-m", "bench.run", "--worker", "serve", json.dumps(spec)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env={**os.environ, **env})
        self.create_s = self.ask(None)["create_s"]

    def ask(self, command: str | None) -> dict:
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"benchmark worker {self.process.args[-1][:80]} died (exit {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def measure(pipelines: dict, det: str, pose: str, cases: dict, runs: int, work: Path) -> dict:
    """Median timings per pipeline and case.

    The pipelines take turns image by image, so any drift of the machine's speed hits them alike. On
    this virtual machine one process can also run 20-40 % slower than an identical one started next to
    it (seen with two copies of the same pipeline), so each pipeline runs in PROCESSES fresh processes,
    started in rotating order, and its figures are medians over all of them.
    """
    names = list(pipelines)
    samples = {name: {count: [] for count in cases} for name in names}
    created, peak = {name: [] for name in names}, {name: [] for name in names}
    per_process = max(1, -(-runs // PROCESSES))
    for repeat in range(PROCESSES):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        workers = {}
        for name in order:
            kind, precision = pipelines[name]
            workers[name] = Worker({"kind": kind, "precision": precision, "det": det, "pose": pose, "cases": cases},
                                   {"DWPOSE_CACHE": str(work / "cache")})
            created[name].append(workers[name].create_s)
        for round_ in range(WARMUP + per_process):
            for count in cases:
                for name in order:
                    time.sleep(0.1)  # let the previous worker's idle threads stop spinning
                    reply = workers[name].ask(f"run {count}")
                    if round_ >= WARMUP:
                        samples[name][count].append(reply)
        for name, worker in workers.items():
            peak[name].append(worker.ask(f"finish {work / f'{name}-{repeat}.npz'}")["peak_rss_mb"])
            worker.close()
    results = {}
    for name in names:
        results[name] = {"create_s": statistics.median(created[name]), "peak_rss_mb": statistics.median(peak[name]),
                         "samples": len(samples[name][next(iter(cases))]), "cases": {}}
        for count, replies in samples[name].items():
            medians = {key: statistics.median(r[key] for r in replies) for key in ("total", "det", "pose")}
            medians["other"] = statistics.median(r["total"] - r["det"] - r["pose"] for r in replies)
            results[name]["cases"][str(count)] = medians
    return results


def in_subprocess(function: str, spec: dict, env: dict | None = None) -> dict:
    command = [sys.executable, "-m", "bench.run", "--worker", function, json.dumps(spec)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"{function} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def startup(spec: dict) -> dict:
    """Seconds to create a DWposeDetector in a new process, and a second one for the same files."""
    from annotator.dwpose import DWposeDetector

    start = time.perf_counter()
    first = DWposeDetector(spec["det"], spec["pose"], precision=spec["precision"])
    created = time.perf_counter() - start
    start = time.perf_counter()
    second = DWposeDetector(spec["det"], spec["pose"], precision=spec["precision"])
    again = time.perf_counter() - start
    assert second.pose_model.session is first.pose_model.session
    return {"first_s": created, "second_s": again}


def baseline_startup(spec: dict) -> dict:
    from bench.baseline import BaselinePipeline

    start = time.perf_counter()
    BaselinePipeline(spec["det"], spec["pose"])
    return {"first_s": time.perf_counter() - start}


def detector_agreement(precision: str) -> list[dict]:
    """Real detectors on every shared photo: boxes in `precision` against fp32, matched by IoU."""
    from annotator.dwpose import DWposeDetector
    from annotator.dwpose.images import HWC3, resize_image
    from annotator.dwpose.video.tracking import box_iou

    rows = []
    photos = sorted(p for p in PHOTOS.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
                    and "expected" not in p.parts)
    for det in (REAL_YOLOX, REAL_RTMDET):
        exact = DWposeDetector(det, STAND_INS / "rtmpose-m_ucoco_256.onnx").detector
        fast = DWposeDetector(det, STAND_INS / "rtmpose-m_ucoco_256.onnx", precision=precision).detector
        ious, missed, extra = [], 0, 0
        for path in photos:
            image = resize_image(HWC3(load_photo(str(path.relative_to(PHOTOS)))), RESOLUTION)
            a, b = exact(image)[0], fast(image)[0]
            if len(a) and len(b):
                overlap = box_iou(a, b)
                best = overlap.max(axis=1)
                ious += list(best[best > 0.5])
                missed += int((best <= 0.5).sum())
                extra += int((overlap.max(axis=0) <= 0.5).sum())
            else:
                missed, extra = missed + len(a), extra + len(b)
        rows.append({"detector": det.name, "photos": len(photos), "matched": len(ious),
                     "mean_iou": float(np.mean(ious)) if ious else float("nan"),
                     "min_iou": float(np.min(ious)) if ious else float("nan"), "missed": missed, "extra": extra})
    return rows


def machine() -> str:
    import cv2
    import onnxruntime

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        import openvino
        ov = openvino.__version__.split("-")[0]
    except ImportError:
        ov = "not installed"
    return (f"{cpu}, {os.cpu_count()} cores ({' '.join(simd)}), {memory:.0f} GiB; {platform.platform()}; "
            f"Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, OpenVINO {ov}, "
            f"numpy {np.__version__}, OpenCV {cv2.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("FUNCTION", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=9, help="timed runs per case and pipeline, over all its processes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.worker:
        function, spec = args.worker
        result = globals()[function](json.loads(spec))
        if result is not None:
            print(json.dumps(result))
        return 0

    from bench.models import build_all
    from bench.report import write_report

    began = time.perf_counter()
    models = build_all(STAND_INS)
    cases = {}
    for count, (photo, keep) in CASES.items():
        cases[count] = (photo, person_boxes(load_photo(photo), keep).tolist())
    work = Path(tempfile.mkdtemp(prefix="dwpose-bench-"))
    pipelines = {"baseline": ("baseline", "fp32"), "exact": ("ours", "fp32")}
    from annotator.dwpose.runtime import choose_runtime
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no bf16 here: the report says so
        if choose_runtime(precision="bf16").precision == "bf16":
            pipelines["bf16"] = ("ours", "bf16")
    results = {"machine": machine(), "runs": args.runs, "cases": {c: p for c, (p, _) in cases.items()},
               "models": {}, "startup": {}}
    for pose_name in ("dw-ll_ucoco_384", "rtmpose-m_ucoco_256"):
        print(f"timing yolox_l + {pose_name}: {', '.join(pipelines)} ...", file=sys.stderr)
        folder = work / pose_name
        folder.mkdir()
        runs = measure(pipelines, str(models["yolox_l"]), str(models[pose_name]), cases, args.runs, folder)
        base = np.load(folder / "baseline-0.npz")
        for name in pipelines:
            ours = np.load(folder / f"{name}-0.npz")
            gap = np.concatenate([np.abs(ours[k] - base[k]).max(axis=-1).ravel() for k in base.files])
            runs[name]["max_px"] = float(gap.max())
            runs[name]["within_1px"] = float((gap <= 1.0).mean())
        results["models"][pose_name] = runs

    det, pose = str(models["yolox_l"]), str(models["dw-ll_ucoco_384"])
    results["startup"]["baseline"] = in_subprocess("baseline_startup", {"det": det, "pose": pose})
    for name, (_, precision) in pipelines.items():
        if name == "baseline":
            continue
        cache = work / f"startup-{name}"
        spec = {"det": det, "pose": pose, "precision": precision}
        cold = in_subprocess("startup", spec, {"DWPOSE_CACHE": str(cache)})
        cached = in_subprocess("startup", spec, {"DWPOSE_CACHE": str(cache)})
        results["startup"][name] = {"cold_s": cold["first_s"], "cached_s": cached["first_s"],
                                    "second_in_process_s": cached["second_s"]}
    if "bf16" in pipelines:
        results["detector_agreement"] = detector_agreement("bf16")
    results["seconds"] = time.perf_counter() - began
    write_report(results, args.out)
    (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out} in {results['seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
