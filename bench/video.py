"""Video benchmark: frames per second of the reference's per-frame steps against ours per frame, ours
tracking, and ours tracking in bf16, on 512-px clips made from real photos; and peak RSS over a long clip.

    python -m pip install torch==2.13.0 -e ".[bench,video]" && python -m bench.video [--frames 120]

Models: the architecture-faithful YOLOX-l and DWPose-l stand-ins (bench/models.py). Clips: woman.jpeg
(1 person) and girls.jpg (4 people) from ../shared/photos at the detect resolution, panned by one pixel a
frame. The person count is fixed by the real YOLOX-nano's boxes on the photo (bench/run.py), as the
stand-ins find nobody. Fixed detector schedule for the timing: the stand-ins' keypoints do not follow
people, so tracking runs the (timed) detector every DET_EVERY frames exactly (TrackingOptions(redetect=False):
no re-detection because keypoint scores collapse or coincide), and the people in between come from the
tracker as they would.
Each pipeline runs in its own process; the pipelines take turns clip by clip. Writes
bench/VIDEO_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from annotator.dwpose import DET_EVERY
from bench.run import REAL_YOLOX, RESOLUTION, ROOT, STAND_INS, FixedPeople, Timed, load_photo, machine, person_boxes

CLIPS = {1: ("people/woman.jpeg", 1), 4: ("people/girls.jpg", 4)}
PIPELINES = {"baseline": "per-frame reference steps", "per_frame": "ours, per frame (exact)",
             "tracking": "ours, tracking (exact)", "tracking_bf16": "ours, tracking + bf16"}


def clip(photo: str, frames: int):
    """The photo at the detect resolution, shifted one pixel a frame: `frames` frames, made one at a time."""
    from annotator.dwpose.images import resize_image

    image = resize_image(load_photo(photo), RESOLUTION)
    for i in range(frames):
        yield np.ascontiguousarray(np.roll(image, i, axis=1))


def worker(spec: dict) -> dict:
    """One pipeline over one clip in this process: seconds in total, in the detector, in the pose model."""
    from annotator.dwpose import DWposeDetector, TrackingOptions, VideoTracker

    boxes = np.array(spec["boxes"], dtype=np.float64)
    frames = list(clip(spec["photo"], spec["frames"]))
    if spec["pipeline"] == "baseline":
        from bench.baseline import BaselinePipeline, detect_people

        pipeline = BaselinePipeline(spec["det"], spec["pose"])
        pipeline.det_session, pipeline.pose_session = Timed(pipeline.det_session), Timed(pipeline.pose_session)
        pipeline.find_people = lambda session, image: (detect_people(session, image), boxes)[1]
        run = lambda: [pipeline(frame, RESOLUTION, RESOLUTION) for frame in frames]  # noqa: E731
        det, pose = pipeline.det_session, pipeline.pose_session
    else:
        precision = "bf16" if spec["pipeline"] == "tracking_bf16" else "fp32"
        detector = DWposeDetector(spec["det"], spec["pose"], precision=precision)
        detector.detector.session = det = Timed(detector.detector.session)
        detector.pose_model.session = pose = Timed(detector.pose_model.session)
        detector.detector = FixedPeople(detector.detector)
        detector.detector.boxes = boxes
        tracker = VideoTracker(detector, TrackingOptions(redetect=False),  # the fixed schedule (module docstring)
                               detect_resolution=RESOLUTION)
        if spec["pipeline"] == "per_frame":
            run = lambda: [detector.annotate(frame, RESOLUTION, RESOLUTION) for frame in frames]  # noqa: E731
        else:
            run = lambda: list(tracker.track(frames))  # noqa: E731
    full, frames[:] = frames[:], frames[:5]
    run()  # warm-up on 5 frames
    frames[:] = full
    det.seconds = pose.seconds = 0.0
    start = time.perf_counter()
    run()
    total = time.perf_counter() - start
    return {"total": total, "det": det.seconds, "pose": pose.seconds}


def rss_worker(spec: dict) -> dict:
    """Peak RSS (MB) at frame 300 and at the last frame of a long tracked clip."""
    from annotator.dwpose import DWposeDetector

    detector = DWposeDetector(spec["det"], spec["pose"])
    marks = {}
    for result in detector.track(clip(spec["photo"], spec["frames"]), detect_resolution=RESOLUTION):
        if result.index + 1 in (300, spec["frames"]):
            marks[str(result.index + 1)] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return marks


def in_process(function: str, spec: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.video", "--worker", function, json.dumps(spec)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "DWPOSE_CACHE": spec["cache"]})
    if done.returncode != 0:
        raise SystemExit(f"{function} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--rss-frames", type=int, default=3000, help="0: no RSS run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "VIDEO_RESULTS.md")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(globals()[args.worker[0]](json.loads(args.worker[1]))))
        return 0
    from annotator.dwpose.runtime import choose_runtime
    from bench.models import build_all

    models = build_all(STAND_INS)
    cache = str(ROOT / "bench" / "stand_ins" / "cache")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipelines = [p for p in PIPELINES if p != "tracking_bf16" or choose_runtime(precision="bf16").precision == "bf16"]
    base = {"det": str(models["yolox_l"]), "pose": str(models["dw-ll_ucoco_384"]), "frames": args.frames,
            "cache": cache}
    results = {}
    for count, (photo, keep) in CLIPS.items():
        boxes = person_boxes(load_photo(photo), keep)  # the real detector's boxes at the detect resolution
        for name in pipelines:
            print(f"{count} person(s): {name} ...", file=sys.stderr)
            results[(count, name)] = in_process("worker", {**base, "pipeline": name, "photo": photo,
                                                           "boxes": boxes.tolist()})
    rss = None
    if args.rss_frames:
        print(f"RSS over {args.rss_frames} frames ...", file=sys.stderr)
        rss = in_process("rss_worker", {"det": str(REAL_YOLOX), "pose": str(models["rtmpose-m_ucoco_256"]),
                                        "photo": CLIPS[4][0], "frames": args.rss_frames, "cache": cache})
    lines = ["# Video benchmark", "", f"`python -m bench.video` on {machine()}.", "",
             f"{args.frames}-frame 512-px clips; YOLOX-l + DWPose-l stand-ins; detector every {DET_EVERY} frames when "
             "tracking (fixed schedule, see bench/video.py). Seconds per clip and frames per second.", "",
             "| people | pipeline | fps | vs baseline | detector s | pose s | other s |", "|---|---|---|---|---|---|---|"]
    for (count, name), r in results.items():
        fps = args.frames / r["total"]
        ratio = results[(count, "baseline")]["total"] / r["total"]
        lines.append(f"| {count} | {PIPELINES[name]} | {fps:.2f} | {ratio:.2f}x | {r['det']:.1f} | {r['pose']:.1f} | "
                     f"{r['total'] - r['det'] - r['pose']:.1f} |")
    if rss is not None:
        growth = rss[str(args.rss_frames)] / rss["300"] - 1
        lines += ["", f"Peak RSS, tracking {args.rss_frames} frames of girls.jpg (real YOLOX-nano + RTMPose-m "
                      f"stand-in, for time): {rss['300']:.0f} MB at frame 300, {rss[str(args.rss_frames)]:.0f} MB "
                      f"at frame {args.rss_frames} ({growth * 100:+.1f} %).", ""]
    if "tracking_bf16" not in pipelines:
        lines.append("bf16: not measured, this CPU has no bf16 instructions (AMX or AVX512-BF16).")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
