"""20 consecutive /controlnet/detect calls in AUTOMATIC1111 + sd-webui-controlnet (the tests' stand-in of
the host, tests/sd_webui_stub), with dwpose-annotator's "keep the models loaded" setting off and on.

    python -m pip install torch==2.13.0 -e ".[bench]" && python -m bench.webui_api

sd-webui-controlnet unloads the preprocessor after every detect call, so with the setting off each call
loads both models again. Models: the architecture-faithful YOLOX-l and DWPose-l stand-ins (bench/models.py)
under the published file names; frames: a real photo from ../shared, shifted by one pixel per call (the
host caches results for identical inputs). Each setting runs in its own process; prints a table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLS = 20


def worker(keep_loaded: bool, ckpts: str, photo: str) -> dict:
    """Run in a fresh process: load the web UI stand-in and the extension, time CALLS detect calls."""
    import numpy as np
    from PIL import Image

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sd_webui_stub" / "webui")]
    import sd_webui_stub as stub
    from modules import script_callbacks, scripts, shared

    os.environ["DWPOSE_CKPTS"] = ckpts
    scripts.load_scripts([str(stub.CONTROLNET_DIR), str(ROOT)])
    script_callbacks.ui_settings_callback()
    script_callbacks.before_ui_callback()
    shared.opts.data["dwpose_annotator_keep_loaded"] = keep_loaded
    api = next(m for m in scripts.loaded_modules if Path(m.__file__).name == "api.py")
    image = np.asarray(Image.open(photo).convert("RGB"))
    seconds = []
    for call in range(CALLS):
        frame = np.ascontiguousarray(np.roll(image, call, axis=1))
        start = time.perf_counter()
        api.detect("dw_openpose_full", [frame])
        seconds.append(time.perf_counter() - start)
    return {"keep_loaded": keep_loaded, "seconds": seconds}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2] == "on", sys.argv[3], os.environ["BENCH_PHOTO"])))
        return 0
    from bench.models import build_all
    from bench.run import PHOTOS, machine

    models = build_all(ROOT / "bench" / "stand_ins")
    ckpts = Path(tempfile.mkdtemp(prefix="dwpose-webui-bench-"))
    shutil.copy(models["yolox_l"], ckpts / "yolox_l.onnx")
    shutil.copy(models["dw-ll_ucoco_384"], ckpts / "dw-ll_ucoco_384.onnx")
    env = {**os.environ, "BENCH_PHOTO": str(PHOTOS / "people" / "girls.jpg"),
           "DWPOSE_CACHE": str(ckpts / "cache"), "HF_HUB_OFFLINE": "1"}
    results = {}
    for setting in ("off", "on", "off", "on"):  # each twice, taking turns; the second run of each is kept
        done = subprocess.run([sys.executable, "-m", "bench.webui_api", "--worker", setting, str(ckpts)],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        results[setting] = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    print(machine())
    print(f"{CALLS} consecutive /controlnet/detect calls (girls.jpg, YOLOX-l + DWPose-l stand-ins, fp32 CPU)")
    print("| keep models loaded | total s | first call s | mean of calls 2-20 s |")
    print("|---|---|---|---|")
    for setting, seconds in results.items():
        rest = seconds[1:]
        print(f"| {setting} | {sum(seconds):.2f} | {seconds[0]:.2f} | {sum(rest) / len(rest):.2f} |")
    print(f"speed-up of 20 calls: {sum(results['off']) / sum(results['on']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
