"""The cog predictor (predict.py) run by cog's own HTTP server (PyPI cog with its coglet runtime, no Docker).

The server runs in a temporary folder holding predict.py and the schema `python predict.py` writes
(.cog/openapi_schema.json, what `cog build` makes), with DWPOSE_CKPTS pointing at stand-in models (the real
yolox_nano detector where the shared data is present) and HF_HUB_OFFLINE=1.
"""

import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, SHARED
from test_hardening import huge_jpeg, huge_png

pytest.importorskip("cog")

from annotator.dwpose import DWposeDetector  # noqa: E402
from annotator.dwpose import PoseMapOptions  # noqa: E402

SETUP_TIMEOUT = 90


def make_ckpts(folder: Path, crowd_yolox: Path, marker_pose: Path) -> Path:
    """A DWPOSE_CKPTS folder: yolox_l.onnx (the real yolox_nano where shared, else the crowd stand-in) and
    dw-ll_ucoco_384.onnx (the marker stand-in)."""
    folder.mkdir(parents=True, exist_ok=True)
    real = SHARED / "ckpts" / "yolox_nano.onnx"
    shutil.copy(real if real.is_file() else crowd_yolox, folder / "yolox_l.onnx")
    shutil.copy(marker_pose, folder / "dw-ll_ucoco_384.onnx")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(ckpts: Path, port: int) -> dict:
    """The server's environment: this Python first on PATH (cog starts its worker with `python`)."""
    env = dict(os.environ, DWPOSE_CKPTS=str(ckpts), HF_HUB_OFFLINE="1", PORT=str(port),
               COG_PREDICT_TYPE_STUB="predict.py:Predictor")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


class CogServer:
    """`python -m cog.server.http` on 127.0.0.1 in `folder`, in its own process group."""

    def __init__(self, folder: Path, ckpts: Path, log: Path):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "predict.py", folder / "predict.py")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = server_env(ckpts, self.port)
        subprocess.run([sys.executable, "predict.py"], cwd=folder, env=env, check=True, capture_output=True)
        self.log = open(log, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "cog.server.http", "--host", "127.0.0.1"], cwd=folder,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SETUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cog server exited with {self.process.returncode}")
            try:
                if self.get("/health-check")["status"] == "READY":
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        raise TimeoutError("cog server not ready")

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    def predict(self, inputs: dict) -> tuple[int, dict]:
        """POST /predictions: (HTTP status, JSON body). cog frees its single prediction slot just after it
        answers, so a request sent at once may get 409 (busy): it is sent again, for up to 10 s."""
        deadline = time.monotonic() + 10
        while True:
            request = urllib.request.Request(self.url + "/predictions", json.dumps({"input": inputs}).encode(),
                                             {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    return response.status, json.load(response)
            except urllib.error.HTTPError as err:
                if err.code != 409 or time.monotonic() > deadline:
                    return err.code, json.load(err)
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def encoded(image: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt)
    return buffer.getvalue()


def from_data_uri(uri: str) -> bytes:
    assert uri.startswith("data:"), uri[:80]
    return base64.b64decode(uri.split(",", 1)[1])


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory, crowd_yolox, marker_pose):
    return make_ckpts(tmp_path_factory.mktemp("ckpts"), crowd_yolox, marker_pose)


@pytest.fixture(scope="module")
def server(tmp_path_factory, ckpts):
    folder = tmp_path_factory.mktemp("cog")
    cog = CogServer(folder / "src", ckpts, folder / "server.log")
    yield cog
    cog.stop()


def library_outputs(ckpts: Path, photo: np.ndarray, threshold=0.3, detect_resolution=512, image_resolution=512,
                    **parts) -> dict:
    """What the library gives for `photo`: pose map, overlay, npz people, JSON."""
    import predict

    detector = DWposeDetector(ckpts / "yolox_l.onnx", ckpts / "dw-ll_ucoco_384.onnx")
    options = PoseMapOptions(threshold=threshold, **parts)
    pose_map, poses = detector.annotate(photo, detect_resolution, image_resolution, options=options)
    buffer = io.BytesIO()
    poses.save_npz(buffer, threshold)
    buffer.seek(0)
    npz = np.load(buffer, allow_pickle=True)
    people = {name: npz[name].item() for name in npz.files}
    return {"pose_map": pose_map, "overlay": predict.overlay(photo, pose_map), "npz": people,
            "json": poses.to_openpose_json(threshold)}


def assert_outputs_equal(output: dict, expected: dict) -> None:
    assert set(output) == {"npz", "pose_map", "overlay", "json"}
    for key in ("pose_map", "overlay"):
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(from_data_uri(output[key])))), expected[key])
    assert json.loads(from_data_uri(output["json"])) == expected["json"]
    npz = np.load(io.BytesIO(from_data_uri(output["npz"])), allow_pickle=True)
    assert sorted(npz.files) == sorted(expected["npz"])
    for name in npz.files:
        person = npz[name].item()
        assert {k: v.shape for k, v in person.items()} == {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)}
        for part, values in person.items():
            np.testing.assert_array_equal(values, expected["npz"][name][part])


def test_health_check_is_ready(server):
    health = server.get("/health-check")
    assert health["status"] == "READY" and health["setup"]["status"] == "succeeded"


@pytest.mark.parametrize("fmt, mime, inputs", [
    ("PNG", "image/png", {}),
    ("JPEG", "image/jpeg", {"threshold": 0.6, "detect_resolution": 256, "image_resolution": 384,
                            "include_foot": True, "include_face": False}),
])
def test_prediction_equals_the_library(server, ckpts, crowd_image, fmt, mime, inputs):
    data = encoded(crowd_image, fmt)
    status, body = server.predict({"image": data_uri(data, mime), **inputs})
    assert status == 200 and body["status"] == "succeeded", body.get("error")
    photo = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    parts = {k: v for k, v in inputs.items() if k.startswith("include_")}
    expected = library_outputs(ckpts, photo, inputs.get("threshold", 0.3), inputs.get("detect_resolution", 512),
                               inputs.get("image_resolution", 512), **parts)
    assert_outputs_equal(body["output"], expected)
    assert len(expected["npz"]) >= 1


def test_outputs_not_asked_for_are_none(server, crowd_image):
    status, body = server.predict({"image": data_uri(encoded(crowd_image, "PNG"), "image/png"),
                                   "return_npz": False, "return_overlay": False})
    assert status == 200 and body["status"] == "succeeded"
    assert body["output"]["npz"] is None and body["output"]["overlay"] is None
    assert body["output"]["pose_map"] and body["output"]["json"]


@pytest.mark.parametrize("inputs, field", [
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": -0.1}, "threshold"),
    ({"detect_resolution": 32}, "detect_resolution"),
    ({"image_resolution": 4096}, "image_resolution"),
    ({"detect_resolution": "big"}, "detect_resolution"),
    ({"image": None}, "image"),
])
def test_inputs_out_of_range_get_cogs_validation_error(server, crowd_image, inputs, field):
    request = {"image": data_uri(encoded(crowd_image[:64, :64], "PNG"), "image/png"), **inputs}
    if request["image"] is None:
        del request["image"]
    status, body = server.predict(request)
    assert status == 422
    assert any(field in detail["loc"] for detail in body["detail"])


@pytest.mark.parametrize("make, mime, said", [
    (lambda image: b"this is not an image", "text/plain", "not an image"),
    (lambda image: encoded(image, "JPEG")[:300], "image/jpeg", "truncated"),
    (lambda image: encoded(image, "PNG")[:500], "image/png", "truncated"),
    (lambda image: huge_png(), "image/png", "too big"),
    (lambda image: huge_jpeg(), "image/jpeg", "too big"),
    (lambda image: b"", "image/png", "not an image"),
])
def test_bad_files_fail_with_a_clear_error_and_the_server_keeps_serving(server, crowd_image, make, mime, said):
    start = time.monotonic()
    status, body = server.predict({"image": data_uri(make(crowd_image), mime)})
    assert status == 200 and body["status"] == "failed"
    assert "ValueError" in body["error"] and said in body["error"]
    assert time.monotonic() - start < 30
    status, body = server.predict({"image": data_uri(encoded(crowd_image[:128, :160], "PNG"), "image/png")})
    assert status == 200 and body["status"] == "succeeded"
    # cog frees its prediction slot just after answering: BUSY for a moment, then READY again.
    deadline = time.monotonic() + 10
    while server.get("/health-check")["status"] != "READY":
        assert time.monotonic() < deadline, "the server did not become READY again"
        time.sleep(0.05)
