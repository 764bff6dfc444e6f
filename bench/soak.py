"""Soak test of the cog predictor (not run in CI): cog's HTTP server on 127.0.0.1, N predictions from C
concurrent clients, p50 / p99 latency, errors and the server's RSS growth from request 100 to the last.

cog's server runs one prediction at a time (more needs an async predict()); a request sent while it is busy
gets HTTP 409 "at capacity", which the clients retry (counted as busy_retries_409, not as errors), so a
latency includes the wait for the slot, as behind a queue.

    python bench/soak.py                      # 1,000 requests, 4 clients, stand-in models
    python bench/soak.py --ckpts DIR          # real weights: DIR holds yolox_l.onnx, dw-ll_ucoco_384.onnx
    python bench/soak.py --requests 200       # shorter

Needs `pip install cog` (0.23, with coglet). Exits 1 when a request fails or RSS grows by 5 % or more.
"""

import argparse
import io
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from test_cog import CogServer, data_uri, encoded, make_ckpts  # noqa: E402


def stand_in_ckpts(folder: Path) -> Path:
    """yolox_l.onnx (finds six people in any image) and dw-ll_ucoco_384.onnx (the marker model)."""
    import stand_in_models as sim
    from conftest import CROWD_BOXES_416

    crowd = sim.save(sim.yolox_people_model(CROWD_BOXES_416), folder / "models" / "crowd.onnx")
    marker = sim.save(sim.simcc_marker_model(batch="batch"), folder / "models" / "marker.onnx")
    return make_ckpts(folder / "ckpts", crowd, marker)


def server_rss(pid: int) -> int:
    """RSS in bytes of the server process and all its children (the worker runs the model)."""
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--ckpts", type=Path, help="weights folder (default: stand-in models)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpts = args.ckpts or stand_in_ckpts(tmp)
        server = CogServer(tmp / "src", ckpts, tmp / "server.log")
        rng = np.random.default_rng(0)
        photos = [data_uri(encoded(rng.integers(0, 256, (360 + 40 * i, 480, 3), dtype=np.uint8), "JPEG"), "image/jpeg")
                  for i in range(8)]
        latencies, errors, rss, busy = [], [], {}, [0]
        lock, counter = threading.Lock(), iter(range(args.requests))

        def client() -> None:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                start = time.perf_counter()
                status, body = server.predict({"image": photos[n % len(photos)]})
                while status == 409:  # one prediction slot: "at capacity" is back-pressure, retried
                    with lock:
                        busy[0] += 1
                    time.sleep(0.005)
                    status, body = server.predict({"image": photos[n % len(photos)]})
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if status != 200 or body.get("status") != "succeeded":
                        errors.append((n, status, body.get("error")))
                    done = len(latencies)
                    if done in (100, args.requests):
                        rss[done] = server_rss(server.process.pid)

        try:
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - began
        finally:
            server.stop()

    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    growth = (rss[args.requests] / rss[100] - 1) * 100 if 100 in rss and 100 < args.requests else float("nan")
    report = {"requests": args.requests, "clients": args.clients, "wall_s": round(wall, 1),
              "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "errors": len(errors), "busy_retries_409": busy[0],
              "rss_at_100_mib": round(rss.get(100, 0) / 2**20, 1),
              "rss_at_end_mib": round(rss[args.requests] / 2**20, 1), "rss_growth_pct": round(growth, 2)}
    print(json.dumps(report, indent=2))
    for error in errors[:5]:
        print("error:", error, file=sys.stderr)
    return 0 if not errors and growth < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
