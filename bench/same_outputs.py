"""Same outputs, bit for bit, from two checkouts, or from one checkout under two Pythons: the check that a
restructuring changed no behaviour, and that the results do not depend on the OpenCV installed.

    git worktree add ../base <commit> && python -m bench.same_outputs --base ../base [--out DIR]
    python -m bench.same_outputs --base . --base-python /path/to/opencv4-venv/bin/python

Each side runs in its own processes (its folder first on the path) through the API and command line
that both have, on the same inputs: every photo of ../shared/photos and crops of its people photos that cut
the people at the edges (hands and feet leave the frame) x both real detectors (YOLOX-nano, RTMDet-nano) x
two stand-in pose models (tests/stand_in_models.py: a marker model, a random CNN) x two
option sets -> annotate(), detect(), __call__, the maps of every style, and each pose format written;
track() on two clips (frames of a photo panned, and an H.264 file); the `video`, `batch` (images, a clip,
--json --npz --table), `eval` (COCO-WholeBody and COCO body, pipeline predictions) and `wan-animate` (tracked,
and official with retargeting on Wan-format stand-ins) commands. Every file
written is then compared byte for byte. Prints the counts; exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DWPOSE_SHARED", ROOT.parent / "shared"))
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
OPTION_SETS = {  # annotate() arguments: the defaults, and everything else at once
    "default": {"detect_resolution": 512, "image_resolution": 512},
    "other": {"detect_resolution": None, "image_resolution": 384, "include_foot": True, "threshold": 0.2,
              "stick_width": 6, "style": "sd-webui-controlnet", "scale_stick_for_xinsr_cn": True},
}
STYLES = ("controlnet", "sd-webui-controlnet", "mimicmotion", "musepose", "unianimate", "easy-dwpose", "vace",
          "wan-animate")


def photos() -> list[Path]:
    return sorted(p for p in (SHARED / "photos").rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)


def make_inputs(folder: Path) -> dict:
    """The stand-in pose models and the clips, made once (by this checkout's test helpers and PyAV)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import av
    import stand_in_heatmap as sh
    import stand_in_models as sim
    import stand_in_yolo as siy
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    poses = {"marker": sim.save(sim.simcc_marker_model(batch="batch"), folder / "marker.onnx"),
             "random": sim.save(sim.simcc_random_model(), folder / "random.onnx")}
    wan = {"det": sim.save(siy.marker_end_to_end_model(), folder / "wan_yolov10.onnx"),  # Wan's models' formats
           "pose": sim.save(sh.heatmap_marker_model(), folder / "wan_vitpose.onnx")}
    with Image.open(SHARED / "photos" / "people" / "girls.jpg") as image:
        still = np.asarray(image.convert("RGB").resize((320, 240)))
    frames = [np.ascontiguousarray(np.roll(still, 6 * i, axis=1)) for i in range(24)]
    np.save(folder / "pan.npy", np.stack(frames))
    clip = folder / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    crops = folder / "crops"  # the middle of each people photo: people cut at the edges
    crops.mkdir(exist_ok=True)
    for path in sorted((SHARED / "photos" / "people").iterdir()):
        if path.suffix.lower() in PHOTO_SUFFIXES:
            with Image.open(path) as image:
                width, height = image.size
                image.convert("RGB").crop((width // 5, height // 5, width - width // 5, height - height // 4)).save(
                    crops / f"{path.stem}.png")
    batch_in = folder / "batch_in"
    (batch_in / "sub").mkdir(parents=True, exist_ok=True)
    for n, path in enumerate(photos()[:6]):
        target = batch_in / ("sub" if n % 2 else "") / path.name
        target.write_bytes(path.read_bytes())
    (batch_in / "clip.mp4").write_bytes(clip.read_bytes())
    return {"poses": {k: str(v) for k, v in poses.items()}, "pan": str(folder / "pan.npy"), "clip": str(clip),
            "batch_in": str(batch_in), "crops": str(crops), "wan": {k: str(v) for k, v in wan.items()}}


def worker(inputs: dict, out: Path) -> None:
    """Everything through the API, in this process, into `out` (this checkout is first on the path)."""
    from PIL import Image, ImageOps

    import annotator.dwpose
    from annotator.dwpose import DWposeDetector, draw_poses

    assert Path(annotator.dwpose.__file__).resolve().is_relative_to(Path.cwd().resolve()), annotator.dwpose.__file__

    def save(name: str, value) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, np.ndarray):
            np.save(path.with_suffix(".npy"), value)
        else:
            path.with_suffix(".json").write_text(json.dumps(value, sort_keys=True))

    def save_poses(name: str, poses) -> None:
        for field in ("exact_keypoints", "keypoints", "scores", "boxes", "box_scores"):
            save(f"{name}/{field}", getattr(poses, field))
        if poses.track_ids is not None:
            save(f"{name}/track_ids", poses.track_ids)
        save(f"{name}/openpose", poses.to_openpose_json())
        save(f"{name}/coco", poses.to_coco_wholebody(1))
        for layout in ("mimicmotion", "easy_dwpose"):
            for key, value in _flat(poses.to_pose_dict(layout)).items():
                save(f"{name}/dict_{layout}/{key}", value)
        poses.save_npz(out / f"{name}/people.npz")

    for det in ("yolox_nano", "rtmdet_nano"):
        for pose_name, pose in inputs["poses"].items():
            detector = DWposeDetector(SHARED / "ckpts" / f"{det}.onnx", pose)
            for path in photos() + sorted(Path(inputs["crops"]).iterdir()):
                with Image.open(path) as image:
                    image = ImageOps.exif_transpose(image)
                    image.load()
                rgb = np.asarray(image.convert("RGB"))
                base = f"{det}/{pose_name}/{path.parent.name}/{path.stem}"
                save_poses(f"{base}/detect", detector.detect(rgb))
                for option_name, options in OPTION_SETS.items():
                    pose_map, poses = detector.annotate(image, **options)
                    save(f"{base}/{option_name}/map", pose_map)
                    save_poses(f"{base}/{option_name}/poses", poses)
                    if option_name == "default":
                        save(f"{base}/{option_name}/call", detector(image, output_type="np"))
                        for style in STYLES:
                            save(f"{base}/{option_name}/style_{style}", draw_poses(poses, style=style))
            pan = list(np.load(inputs["pan"]))
            for name, frames, kwargs in (("pan", pan, {"det_every": 4}), ("clip", inputs["clip"], {"smooth": True})):
                for frame in detector.track(frames, detect_resolution=256, image_resolution=256, **kwargs):
                    save(f"{det}/{pose_name}/track_{name}/{frame.index:03d}/map", frame.pose_map)
                    save_poses(f"{det}/{pose_name}/track_{name}/{frame.index:03d}/poses", frame.poses)


def _flat(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = np.asarray(value)
    return flat


def commands(inputs: dict, out: Path) -> list[list[str]]:
    """The command lines run in each checkout (argv after `python -m annotator.dwpose`)."""
    det, pose = str(SHARED / "ckpts" / "yolox_nano.onnx"), inputs["poses"]["marker"]
    models = ["--det", det, "--pose", pose]
    wholebody, coco17 = SHARED / "coco_wholebody", SHARED / "coco17_val"
    return [
        [str(p) for p in photos()[:8]] + ["--out", str(out / "cli_images"), "--json", "--npz", *models],
        ["video", inputs["clip"], "--out", str(out / "cli_video"), "--frames", "--smooth", *models],
        ["batch", inputs["batch_in"], "--out", str(out / "cli_batch"), "--json", "--npz", "--table",
         str(out / "cli_batch" / "table.parquet"), *models],
        ["eval", "--gt", str(wholebody / "example_gt.json"), "--images", str(wholebody), "--predictions",
         str(out / "cli_eval" / "wholebody.json"), *models],
        ["eval", "--gt", str(coco17 / "person_keypoints_val2017.json"), "--images", str(coco17 / "images"),
         "--predictions", str(out / "cli_eval" / "coco17.json"), "--det", str(SHARED / "ckpts" / "rtmdet_nano.onnx"),
         "--pose", pose],
        ["wan-animate", inputs["clip"], "--ref", str(photos()[0]), "--out", str(out / "cli_wan"), "--people", "all",
         "--det-every", "3", "--det", det, "--pose", inputs["poses"]["random"]],  # ~70 face videos: no PNGs
        ["wan-animate", inputs["clip"], "--ref", str(photos()[0]), "--out", str(out / "cli_wan_official"), "--frames",
         "--official", "--retarget", "--resolution-area", "640", "480", "--det", inputs["wan"]["det"], "--pose",
         inputs["wan"]["pose"]],
    ]


def run_checkout(tree: Path, inputs: dict, out: Path, cache: Path, python: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "DWPOSE_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    worker_done = subprocess.run([python, __file__, "--worker", json.dumps(inputs), str(out)], cwd=tree,
                                 env=env, capture_output=True, text=True)
    if worker_done.returncode != 0:
        raise SystemExit(f"{tree}: the API run failed:\n{worker_done.stderr[-3000:]}")
    (out / "exit_status").mkdir(parents=True, exist_ok=True)
    for number, argv in enumerate(commands(inputs, out)):  # exit status and stdout of each command
        done = subprocess.run([python, "-m", "annotator.dwpose", *argv], cwd=tree, env=env,
                              capture_output=True, text=True)
        (out / "exit_status" / f"{number}.txt").write_text(f"{done.returncode}\n{done.stdout}")


def compare(a: Path, b: Path) -> tuple[int, list[str]]:
    """(files compared, the relative paths that differ or exist on one side only)."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    different = sorted(str(p) for p in files_a ^ files_b)
    for relative in sorted(files_a & files_b):
        if not filecmp.cmp(a / relative, b / relative, shallow=False):
            different.append(str(relative))
    return len(files_a | files_b), different


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="the other checkout (e.g. a git worktree of main), or this one")
    parser.add_argument("--base-python", default=sys.executable,
                        help="the Python the base runs with (e.g. a venv with another OpenCV; default: this one)")
    parser.add_argument("--out", type=Path, help="where both checkouts write (default: a temporary folder)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker[0]), Path(args.worker[1]))
        return 0
    if args.base is None:
        parser.error("--base is required")
    out = args.out or Path(tempfile.mkdtemp(prefix="same_outputs_"))
    inputs = make_inputs(out / "inputs")
    sides = {"base": (args.base.resolve(), args.base_python), "this": (ROOT, sys.executable)}
    for name, (tree, python) in sides.items():
        run_checkout(tree, inputs, out / name, out / f"cache_{name}", python)
    compared, different = compare(out / "base", out / "this")
    crops = len(list(Path(inputs["crops"]).iterdir()))
    print(f"{compared} files compared ({len(photos())} photos, {crops} crops), {compared - len(different)} "
          f"identical, {len(different)} different; outputs in {out}")
    for path in different[:40]:
        print(f"  differs: {path}")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
