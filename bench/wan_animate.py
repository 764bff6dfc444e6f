"""Wan 2.2 Animate benchmark: frames per second of the official preprocessing steps against ours, with the
same two models (YOLOv10m detector, ViTPose-H whole-body), on the CPU.

    python -m pip install torch==2.13.0 -e ".[bench]" && python -m bench.wan_animate [--frames 24]

Pipelines, each in its own process (onnxruntime's threads spin for a while after a run), one after the other:

- official: the official per-frame steps, Wan-Video/Wan2.2 @ 42bf4cf wan/modules/animate/preprocess
  (process_pipepline.py animation mode, pose2d.py Pose2d): on EVERY frame Wan's detector preprocessing (plain
  resize to 640 x 640, float64 / 255), YOLOv10m, its postprocess and NMS, the largest box, the ViTPose crop (BGR,
  float64 normalisation), ViTPose-H, the DARK decode, the metas, the face crop resized to 512 x 512,
  draw_aapose_by_meta_new and padding_resize into the reference's size. This is
  `wan_animate_inputs(official=True)`: the library's "wan" steps are transcriptions of the official code with
  its arithmetic (tests/test_wan_animate_official.py checks the outputs against a transcription of the
  official pipeline), so they do the official's work. Its sessions are opened as Pose2d opens them
  (`onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])`, default options), not through
  the library. The official also runs Pose2d twice per clip outside the frame loop (on the reference image and
  again on frame 0, whether or not it retargets); those two calls are timed apart ("per-clip extras") and left
  out of the fps and the ratio (which favours the official).
- ours: `wan_animate_inputs(official=False, det_every=8)`: the library's default path (DWposeDetector
  sessions, people tracked, the detector every 8 frames, ultralytics' letterbox for the detector).
- ours_per_frame: the same with det_every=1 (the detector on every frame).
- ours_bf16: ours at precision="bf16" (OpenVINO; on CPUs with AMX or AVX512-BF16, else fp32 runs and the report
  says so): faster, the keypoints move a little (not the official's to the bit).

Models: the architecture-faithful stand-ins of bench/models.py (build_wan_models: random weights, the
published layers and sizes), or the real files with --det / --pose. Random weights find nobody and give noise
heatmaps, so the stand-ins' outputs carry a constant: the YOLOv10m's first row is a fixed person box, and the
ViTPose-H's heatmaps get Gaussian peaks at a standing person's 133 keypoints added (one Add): every frame has
one person to crop, track and draw, with keypoints where a trained model would put them.
Fixed detector schedule for ours: the stand-ins' keypoints do not follow anybody, so the tracker's
re-detection on collapsed or coinciding keypoints is off (TrackingOptions(redetect=False), as bench/video.py
does): the detector runs on frames 0, 8, 16, ... exactly.

Clip: a real photo (../shared/photos/people/woman.jpeg) resized into 1280 x 720 pixels of area (sides multiples
of 16, as a 720p portrait video), shifted one pixel a frame; a synthetic image where the photo is missing.
Reference: man.png (or a synthetic image). Writes bench/WAN_ANIMATE_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.run import PHOTOS, ROOT, STAND_INS, Timed, machine

PIPELINES = {"official": "official steps, per frame (wan_animate_inputs(official=True))",
             "ours": "ours, tracking (det_every=8)",
             "ours_per_frame": "ours, per frame (det_every=1)",
             "ours_bf16": "ours, tracking, precision bf16 (OpenVINO; keypoints move a little)"}
DET_EVERY = {"ours": 8, "ours_per_frame": 1, "ours_bf16": 8}
PRECISION = {"ours_bf16": "bf16"}  # fp32 otherwise; where bf16 cannot run, fp32 runs (the report says so)
DEFAULT_PHOTO = "people/woman.jpeg"
DEFAULT_REFERENCE = "people/man.png"
AREA = (1280, 720)  # the official default resolution_area; the clip's frames get this many pixels
AREA_DIVISOR = 16
FPS = 30.0


# ------------------------------------------------------------------------------------------------ the clip

def synthetic_photo(height: int = 750, width: int = 518, seed: int = 0) -> np.ndarray:
    """A stand-in photo (RGB uint8): a smooth textured background (red below 128), a dull red figure (red 150)
    and three bright squares, pure blue, green and red (what the tests' marker models look for)."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.float32)
    for cell in (4, 16, 64):
        field = rng.normal(size=(max(height // cell, 1), max(width // cell, 1), 3)).astype(np.float32)
        image += cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR) * cell / 8
    image = np.clip(75 + 4 * image, 30, 120).astype(np.uint8)
    x0, y0, x1, y1 = width // 4, height // 6, 3 * width // 4, 29 * height // 30
    cv2.rectangle(image, (x0, y0 + (y1 - y0) // 6), (x1, y1), (150, 40, 40), -1)
    cv2.circle(image, ((x0 + x1) // 2, y0 + (y1 - y0) // 12), (x1 - x0) // 5, (150, 40, 40), -1)
    side = max(6, width // 40)
    for (fx, fy), colour in zip([(0.35, 0.3), (0.6, 0.5), (0.45, 0.8)], [(0, 0, 255), (0, 255, 0), (255, 0, 0)]):
        x, y = int(width * fx), int(height * fy)
        image[y:y + side, x:x + side] = colour
    return image


def load_image(relative: str | None, seed: int) -> np.ndarray:
    """A photo of ../shared/photos (RGB, EXIF upright), or synthetic_photo when it is None or missing."""
    if relative and (PHOTOS / relative).is_file():
        from bench.run import load_photo

        return load_photo(relative)
    return synthetic_photo(seed=seed)


def clip(photo: str | None, frames: int, area=AREA) -> list[np.ndarray]:
    """The photo resized into `area` pixels (sides multiples of 16, official resize_by_area), shifted one
    pixel a frame: `frames` frames."""
    from annotator.dwpose.wan_preprocess import resize_by_area

    image = resize_by_area(load_image(photo, seed=0), area[0] * area[1], divisor=AREA_DIVISOR)
    return [np.ascontiguousarray(np.roll(image, i, axis=1)) for i in range(frames)]


# ------------------------------------------------------------------------------------------------ one pipeline

class Counted(Timed):
    """A session whose run() time and number of runs are added up."""

    def __init__(self, session):
        super().__init__(session)
        self.runs = 0

    def run(self, *args, **kwargs):
        self.runs += 1
        return super().run(*args, **kwargs)


def official_pair(det: str, pose: str):
    """Pose2d's two models as the official opens them (default onnxruntime sessions on the CPU), as the
    object wan_animate_inputs(official=True) reads (`.detector`: Wan's YOLOv10 steps, `.pose_model`: ViTPose
    in mode "wan"), and the two timed sessions."""
    from types import SimpleNamespace

    import onnxruntime as ort

    from annotator.dwpose.models import UltralyticsYOLO, ViTPose

    det_session = Counted(ort.InferenceSession(det, providers=["CPUExecutionProvider"]))
    pose_session = Counted(ort.InferenceSession(pose, providers=["CPUExecutionProvider"]))
    pair = SimpleNamespace(detector=UltralyticsYOLO(det_session, preprocessing="wan"), pose_model=ViTPose(pose_session))
    return pair, det_session, pose_session


def our_detector(det: str, pose: str, precision: str = "fp32"):
    """DWposeDetector on the two files (the library's sessions) at `precision`, and its two timed sessions."""
    from annotator.dwpose import DWposeDetector

    detector = DWposeDetector(det, pose, precision=precision)
    detector.detector.session = det_session = Counted(detector.detector.session)
    detector.pose_model.session = pose_session = Counted(detector.pose_model.session)
    return detector, det_session, pose_session


def worker(spec: dict) -> dict:
    """One pipeline over the clip in this process, after `warmup` untimed frames: seconds in total, in the
    detector and the pose model (and their runs), frames made; for the official, the per-clip extras."""
    from annotator.dwpose import TrackingOptions, wan_animate_inputs

    frames = clip(spec["photo"], spec["frames"], spec["area"])
    reference = load_image(spec["reference"], seed=1)
    name = spec["pipeline"]
    if name == "official":
        models, det, pose = official_pair(spec["det"], spec["pose"])
        options = {"official": True}
    else:
        models, det, pose = our_detector(spec["det"], spec["pose"], PRECISION.get(name, "fp32"))
        # a fixed schedule: the detector every det_every frames and only then (module docstring)
        options = {"tracking": TrackingOptions(DET_EVERY[name], people="largest", redetect=False)}

    def run(clip_frames):
        return wan_animate_inputs(models, clip_frames, reference, fps=FPS, resolution_area=spec["area"], **options)

    if spec["warmup"]:
        run(frames[:spec["warmup"]])
    det.seconds = pose.seconds = 0.0
    det.runs = pose.runs = 0
    start = time.perf_counter()
    result = run(frames)
    total = time.perf_counter() - start
    figures = {"total": total, "det": det.seconds, "pose": pose.seconds, "det_runs": det.runs,
               "pose_runs": pose.runs, "pose_frames": len(result.pose_frames),
               "people": sum(len(poses) for poses in result.poses) / len(result.poses),
               "precision": getattr(getattr(models, "runtime", None), "precision", "fp32")}
    if name == "official":
        figures["extra"] = official_extras(models, frames[0], reference, spec["area"])
    return figures


def official_extras(models, first_frame: np.ndarray, reference: np.ndarray, area) -> float:
    """Seconds of the two Pose2d calls the official animation mode makes per clip besides the frames': on the
    reference resized into the area (refer_pose_meta) and on frame 0 again (tpl_pose_meta0)."""
    from annotator.dwpose.video.wan_animate import official_pose
    from annotator.dwpose.wan_preprocess import resize_by_area

    start = time.perf_counter()
    resized = resize_by_area(reference, area[0] * area[1], divisor=AREA_DIVISOR)
    official_pose(models.detector, models.pose_model, resized)
    official_pose(models.detector, models.pose_model, first_frame)
    return time.perf_counter() - start


def in_process(spec: dict, cache: str) -> dict:
    """worker(spec) in a new Python process; its figures."""
    done = subprocess.run([sys.executable, "-m", "bench.wan_animate", "--worker", json.dumps(spec)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "DWPOSE_CACHE": cache}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{spec['pipeline']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ the run

def measure(pipelines: list[str], base: dict, rounds: int, cache: str, verbose: bool = True) -> dict:
    """{pipeline: figures}: each pipeline `rounds` times, each time in a fresh process, the order rotating
    from round to round; per pipeline the round with the median total."""
    runs = {name: [] for name in pipelines}
    for round_ in range(rounds):
        order = pipelines[round_ % len(pipelines):] + pipelines[:round_ % len(pipelines)]
        for name in order:
            if verbose:
                print(f"round {round_ + 1}/{rounds}: {name} ...", file=sys.stderr)
            runs[name].append(in_process({**base, "pipeline": name}, cache))
    results = {}
    for name, figures in runs.items():
        median = statistics.median_low([f["total"] for f in figures])
        results[name] = next(f for f in figures if f["total"] == median)
    return results


def report(results: dict, args, models: dict, model_lines: list[str], seconds: float) -> str:
    """The markdown report."""
    frames = args.frames
    photo = args.photo if args.photo and (PHOTOS / args.photo).is_file() else "a synthetic image"
    reference = args.reference if args.reference and (PHOTOS / args.reference).is_file() else "a synthetic image"
    size = clip(args.photo, 1, tuple(args.area))[0].shape
    lines = ["# Wan 2.2 Animate preprocessing: official steps against ours", "",
             f"`python -m bench.wan_animate --frames {frames}` on {machine()} (this run took {seconds / 60:.1f} min).",
             "",
             f"Clip: {photo} at {size[1]} x {size[0]} (resize_by_area into {args.area[0]} x {args.area[1]} pixels "
             f"of area), shifted one pixel a frame, {frames} frames timed after {args.warmup} untimed; reference "
             f"{reference}. Each pipeline in its own process, {args.rounds} round(s), the median one shown. "
             + "Models: " + ", ".join(f"`{Path(p).name}`" for p in models.values()) + ".", ""]
    if model_lines:
        lines += [("Stand-ins (bench/models.py, random weights; parameters and multiply-accumulates of one run "
                   "against the published figures):"), "", *model_lines, ""]
    header = "| pipeline | fps | s / frame | vs official | detector runs | detector s | pose runs | pose s | other s |"
    lines += [header, "|---|---|---|---|---|---|---|---|---|"]
    official = results.get("official")
    for name, r in results.items():
        ratio = f"{official['total'] / r['total']:.2f}x" if official else "-"
        label = PIPELINES[name] + ("" if r.get("precision", "fp32") == PRECISION.get(name, "fp32") else
                                   f" [ran {r['precision']}: bf16 unavailable here]")
        lines.append(f"| {label} | {frames / r['total']:.2f} | {r['total'] / frames:.2f} | {ratio} | "
                     f"{r['det_runs']} | {r['det']:.1f} | {r['pose_runs']} | {r['pose']:.1f} | "
                     f"{r['total'] - r['det'] - r['pose']:.1f} |")
    lines.append("")
    if official and "ours" in results:
        lines.append(f"**ours / official: {official['total'] / results['ours']['total']:.2f}x** "
                     f"({frames / results['ours']['total']:.2f} fps against {frames / official['total']:.2f} fps).")
    if official:
        with_extras = official["total"] + official["extra"]
        line = (f"Official per-clip extras (Pose2d on the reference and again on frame 0, outside the frame loop): "
                f"{official['extra']:.1f} s, not in the table; with them the official makes "
                f"{frames / with_extras:.2f} fps")
        if "ours" in results:
            line += f" and ours / official is {with_extras / results['ours']['total']:.2f}x for this clip length"
        lines.append(line + ".")
    lines += ["", ("Pipelines (see bench/wan_animate.py): official = the official per-frame steps "
                   "(`wan_animate_inputs(official=True)` on default onnxruntime sessions, as Pose2d opens them); "
                   "ours = `wan_animate_inputs(official=False, det_every=8)` (the library's sessions, tracking; fixed "
                   "detector schedule: re-detection off, the stand-ins' keypoints follow nobody); ours per frame = "
                   "det_every=1. Detector and pose seconds are the models' run() calls; other = everything else "
                   "(pre- and post-processing, decode, face crops, drawing, padding).")]
    people = {name: r["people"] for name, r in results.items()}
    lines.append(f"People per frame: {', '.join(f'{n} {p:.2f}' for n, p in people.items())}.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wan_animate", description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=24, help="timed frames per pipeline (default 24)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed frames first, in the same process")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per pipeline (median shown)")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated, of: " + ", ".join(PIPELINES))
    parser.add_argument("--det", help="detector file (default: the YOLOv10m stand-in)")
    parser.add_argument("--pose", help="pose model file (default: the ViTPose-H stand-in)")
    parser.add_argument("--photo", default=DEFAULT_PHOTO, help="under ../shared/photos; 'none': synthetic")
    parser.add_argument("--reference", default=DEFAULT_REFERENCE, help="under ../shared/photos; 'none': synthetic")
    parser.add_argument("--area", type=int, nargs=2, default=list(AREA), metavar=("W", "H"))
    parser.add_argument("--cache", default=str(STAND_INS / "cache"), help="DWPOSE_CACHE of the workers")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "WAN_ANIMATE_RESULTS.md")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    start = time.perf_counter()
    pipelines = [name.strip() for name in args.pipelines.split(",") if name.strip()]
    unknown = [name for name in pipelines if name not in PIPELINES]
    if unknown or not pipelines or args.frames < 1:
        parser.error(f"unknown pipelines {unknown}" if unknown else "nothing to run")
    model_lines = []
    if args.det and args.pose:
        models = {"det": args.det, "pose": args.pose}
    else:
        from bench.models import build_wan_models, wan_report

        built = build_wan_models(STAND_INS, verbose=True)
        models = {"det": args.det or str(built["yolov10m"]), "pose": args.pose or str(built["vitpose_h_wholebody"])}
        model_lines = wan_report(built)
    args.photo = None if args.photo == "none" else args.photo
    args.reference = None if args.reference == "none" else args.reference
    base = {**models, "frames": args.frames, "warmup": args.warmup, "photo": args.photo,
            "reference": args.reference, "area": list(args.area)}
    results = measure(pipelines, base, max(1, args.rounds), args.cache)
    text = report(results, args, models, model_lines, time.perf_counter() - start)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
