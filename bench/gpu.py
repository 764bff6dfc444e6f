"""The torch backend on a GPU, in one run: parity with onnxruntime on the CPU and timings.

    python -m bench.gpu [--device cuda] [--runs 20] [--out bench/GPU_RESULTS.md]

Builds the architecture-faithful YOLOX-l and DWPose-l stand-ins (bench/models.py), then on `device`, in
fp32, fp16 and bf16:
- parity: the detector's raw output and the pose model's SimCC logits against onnxruntime on the CPU
  (largest absolute difference, share of equal argmax bins);
- per image: detect() on a 512-px photo with 1 and with 7 people (the real YOLOX-nano's boxes at that
  size: the stand-ins find nobody, so the timed detector runs and the boxes are fixed, as in bench/run.py);
- per frame with tracking: the pose model alone on batches of 1, 2, 4, 8 and 16 crops;
- the same with torch.compile (mode "reduce-overhead": CUDA graphs) where it compiles.
Prints the GPU's name and writes a Markdown table to --out. Runs on the CPU too (--device cpu), slowly.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from bench.run import CASES, ROOT, STAND_INS, FixedPeople, load_photo, person_boxes

PRECISIONS = ("fp32", "fp16", "bf16")
BATCHES = (1, 2, 4, 8, 16)


def timed(call, runs: int, synchronize) -> float:
    """Median milliseconds of `call()` after two warm-up calls."""
    for _ in range(2):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def parity(session, reference, feed: dict) -> tuple[float, float]:
    """(largest |difference| over the outputs, share of equal argmax along the last axis)."""
    ours, theirs = session.run(None, feed), reference.run(None, feed)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    same = float(np.mean([np.mean(a.argmax(-1) == b.argmax(-1)) for a, b in zip(ours, theirs)]))
    return diff, same


def people_image(count: int):
    """A 512-px photo with `count` people and their boxes, as bench/run.py's cases."""
    from annotator.dwpose.images import resize_image

    photo, keep = CASES[count]
    return resize_image(load_photo(photo), 512), person_boxes(load_photo(photo), keep)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "GPU_RESULTS.md")
    args = parser.parse_args(argv)

    import torch

    from annotator.dwpose import DWposeDetector
    from annotator.dwpose.runtime import choose_runtime, create_session
    from bench.models import build_all

    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    print(f"device: {name}; torch {torch.__version__}", flush=True)
    models = build_all(STAND_INS)
    det, pose = models["yolox_l"], models["dw-ll_ucoco_384"]
    rng = np.random.default_rng(0)
    det_feed = {"images": rng.uniform(0, 255, (1, 3, 640, 640)).astype(np.float32)}
    crops = rng.standard_normal((16, 3, 384, 288)).astype(np.float32)
    cpu_det, cpu_pose = create_session(det, "detector"), create_session(pose, "pose model", batchable=True)
    scenes = {count: people_image(count) for count in (1, 7)}

    rows, batch_rows = [], []
    for precision in args.precisions:
        runtime = choose_runtime(backend="torch", device=args.device, precision=precision)
        detector = DWposeDetector(det, pose, backend="torch", device=args.device, precision=precision)
        session = create_session(pose, "pose model", runtime, batchable=True)
        det_diff, det_same = parity(detector.detector.session, cpu_det, {detector.detector.input_name: det_feed["images"]})
        pose_diff, pose_same = parity(session, cpu_pose, {"input": crops[:4]})
        detector.detector = FixedPeople(detector.detector)
        per_image = {}
        for count, (image, boxes) in scenes.items():
            detector.detector.boxes = boxes
            per_image[count] = timed(lambda: detector.detect(image), args.runs, synchronize)
        rows.append((precision, det_diff, det_same, pose_diff, pose_same, per_image[1], per_image[7]))
        for compiled in ([False] if args.no_compile else [False, True]):
            target = session
            if compiled:
                try:
                    session.module = torch.compile(session.module, mode="reduce-overhead", dynamic=False)
                except Exception as err:  # report and go on: compile is an option, not the backend
                    print(f"torch.compile failed: {type(err).__name__}: {err}", flush=True)
                    continue
            for batch in BATCHES:
                try:
                    ms = timed(lambda: target.run(None, {"input": crops[:batch]}), args.runs, synchronize)
                except Exception as err:
                    print(f"{precision} compiled={compiled} batch {batch}: {type(err).__name__}: {err}", flush=True)
                    ms = float("nan")
                batch_rows.append((precision, compiled, batch, ms))
        print(f"{precision}: done", flush=True)

    lines = [f"# Torch backend on {name}", "", f"`python -m bench.gpu --device {args.device}`; torch "
             f"{torch.__version__}; YOLOX-l + DWPose-l stand-ins; median of {args.runs} runs.", "",
             "| precision | detector max diff | detector argmax equal | pose max diff | pose argmax equal | "
             "1 person ms/image | 7 people ms/image |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {p} | {dd:.2e} | {ds:.1%} | {pd:.2e} | {ps:.1%} | {one:.1f} | {seven:.1f} |"
              for p, dd, ds, pd, ps, one, seven in rows]
    lines += ["", "Pose model per frame with tracking (crops per run):", "",
              "| precision | torch.compile | batch | ms/run | ms/person |", "|---|---|---|---|---|"]
    lines += [f"| {p} | {'yes' if c else 'no'} | {b} | {ms:.2f} | {ms / b:.2f} |" for p, c, b, ms in batch_rows]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
