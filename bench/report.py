"""bench/RESULTS.md from the figures bench/run.py measured."""

from __future__ import annotations

from pathlib import Path

TARGETS = "exact mode >= 1.15x the baseline at 1 person and >= 1.3x at 7 and more, peak RSS <= the baseline's; " \
          "fast mode >= 3x"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def write_report(results: dict, out: Path) -> None:
    lines = [
        "# Benchmark: dw_openpose_full, ours vs the reference-style baseline",
        "",
        "Regenerate with `python -m pip install torch==2.13.0 -e \".[bench]\" && python -m bench.run` "
        f"(this run took {results['seconds'] / 60:.1f} min).",
        "",
        f"- Machine: {results['machine']}",
        "- Models: architecture-faithful stand-ins with seeded random weights (`bench/models.py`): YOLOX-l 640x640 "
        "detector, and DWPose-l (RTMPose-l 384x288) or RTMPose-m 256x192 whole-body; the published files are static "
        "batch 1 and so are these.",
        "- Images: real photos from `../shared/photos`; the person count is fixed with the boxes the real "
        "YOLOX-nano finds (" + ", ".join(f"{n}: {photo}" for n, photo in results["cases"].items()) + "). The "
        "YOLOX-l stand-in still runs on every image and is timed; its random outputs are replaced by those boxes.",
        "- detect_resolution = image_resolution = 512. End-to-end = image in, pose map out (resize, detector, "
        f"pose model, drawing, resize). Median of {results['runs']} runs per case and pipeline, spread over 3 fresh "
        "processes per pipeline (one untimed warm-up round in each); the pipelines take turns image by image. "
        "Peak RSS is the median over those processes.",
        "- baseline = `bench/baseline.py`, the reference pipeline's steps (float64 normalisation per crop, one "
        "pose run per person, default onnxruntime session). exact = `DWposeDetector()` (precision fp32); "
        "bf16 = `DWposeDetector(precision=\"bf16\")` (OpenVINO, bfloat16 on AMX).",
        f"- Targets: {TARGETS}.",
        "",
    ]
    for pose_name, runs in results["models"].items():
        base = runs["baseline"]
        names = [name for name in runs if name != "baseline"]
        lines += [f"## yolox_l + {pose_name}", "", "### End-to-end ms per image", "",
                  "| persons | baseline | " + " | ".join(f"{n} | {n} / baseline" for n in names) + " |",
                  "|---|---|" + "---|---|" * len(names)]
        for count, figures in base["cases"].items():
            row = f"| {count} | {_ms(figures['total'])} |"
            for name in names:
                mine = runs[name]["cases"][count]["total"]
                row += f" {_ms(mine)} | **{figures['total'] / mine:.2f}x** |"
            lines.append(row)
        lines += ["", "### Stage breakdown (ms: detector model / pose model / everything else, share of the total)",
                  "", "| persons | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
        for count in base["cases"]:
            cells = []
            for name in runs:
                f = runs[name]["cases"][count]
                cells.append(f"{_ms(f['det'])} / {_ms(f['pose'])} / {_ms(f['other'])} ({f['other'] / f['total']:.1%})")
            lines.append(f"| {count} | " + " | ".join(cells) + " |")
        lines += ["", "### Memory and agreement with the baseline", "",
                  "| pipeline | peak RSS MB | max keypoint shift px | keypoints within 1 px |", "|---|---|---|---|"]
        for name, run in runs.items():
            lines.append(f"| {name} | {run['peak_rss_mb']:.0f} | {run['max_px']:.3g} | {run['within_1px']:.1%} |")
        lines += ["", "### Targets", ""]
        exact = runs["exact"]
        ratios = {c: base["cases"][c]["total"] / exact["cases"][c]["total"] for c in base["cases"]}
        lines += [f"- exact >= 1.15x at 1 person: {ratios['1']:.2f}x, {_mark(ratios['1'] >= 1.15)}",
                  "- exact >= 1.3x at 7 and 14 persons: "
                  f"{ratios['7']:.2f}x / {ratios['14']:.2f}x, {_mark(min(ratios['7'], ratios['14']) >= 1.3)}",
                  f"- exact keypoints within 1e-3 px of the baseline: {exact['max_px']:.3g} px, "
                  f"{_mark(exact['max_px'] <= 1e-3)}",
                  f"- exact peak RSS <= baseline: {exact['peak_rss_mb']:.0f} vs {base['peak_rss_mb']:.0f} MB, "
                  f"{_mark(exact['peak_rss_mb'] <= base['peak_rss_mb'])}"]
        if "bf16" in runs:
            fast = {c: base["cases"][c]["total"] / runs["bf16"]["cases"][c]["total"] for c in base["cases"]}
            lines.append(f"- bf16 >= 3x: {min(fast.values()):.2f}x to {max(fast.values()):.2f}x, "
                         f"{_mark(min(fast.values()) >= 3)}")
        lines.append("")

    lines += ["## Session creation (yolox_l + dw-ll_ucoco_384)", "",
              "| pipeline | new process, empty cache | new process, cached | second detector in the same process |",
              "|---|---|---|---|",
              f"| baseline | {_ms(results['startup']['baseline']['first_s'])} ms | - | - |"]
    for name, s in results["startup"].items():
        if name != "baseline":
            lines.append(f"| {name} | {_ms(s['cold_s'])} ms | {_ms(s['cached_s'])} ms | "
                         f"{s['second_in_process_s'] * 1000:.2f} ms |")
    if "detector_agreement" in results:
        lines += ["", "## Fast mode against exact mode: real detectors on ../shared/photos", "",
                  "Boxes found in bf16 matched to the fp32 ones (IoU > 0.5).", "",
                  "| detector | photos | matched boxes | mean IoU | min IoU | fp32 boxes missed | extra bf16 boxes |",
                  "|---|---|---|---|---|---|---|"]
        for row in results["detector_agreement"]:
            lines.append(f"| {row['detector']} | {row['photos']} | {row['matched']} | {row['mean_iou']:.4f} | "
                         f"{row['min_iou']:.4f} | {row['missed']} | {row['extra']} |")
        lines += ["", "Keypoint agreement of bf16 with the stand-in pose models is in the tables above (\"keypoints "
                  "within 1 px\"). Random weights give flat SimCC outputs whose argmax moves with tiny changes, so "
                  "this understates how a trained model's peaks hold up."]
    out.write_text("\n".join(lines) + "\n")
