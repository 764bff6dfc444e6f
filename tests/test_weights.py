import random
import socket
from pathlib import Path
from types import SimpleNamespace

import onnx
import pytest
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import _http as hf_http
from onnx import TensorProto, helper

from annotator.dwpose import weights
from annotator.dwpose.weights import (DET_FILENAME, POSE_FILENAME, WeightsError, check_weights_file, find_weights,
                                      resolve_weights)
from hub_server import serve_hub

ONNX_WHAT = "a YOLOX/RTMDet person detector in ONNX format"


def onnx_like(size=4096, seed=0) -> bytes:
    """Bytes that pass the cheap ONNX check (first byte 0x08); not a real model."""
    return b"\x08" + random.Random(seed).randbytes(size - 1)


def tiny_onnx_model() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "tiny", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # onnxruntime 1.31 rejects the IR version onnx writes by default
    onnx.checker.check_model(model)
    return model.SerializeToString()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DWPOSE_CKPTS", "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    # Anything that tries to download without a fake hub gets "connection refused" on 127.0.0.1.
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    # huggingface_hub reads HF_HUB_OFFLINE at import time; make sure the test run itself is online.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    ckpts = tmp_path / "ckpts"
    ckpts.mkdir()
    monkeypatch.setattr(weights, "CKPTS_DIR", ckpts)
    # The hub retries 5xx / connection errors with 1+2+4+8+8 s of back-off; record the sleeps instead.
    sleeps = []
    monkeypatch.setattr(hf_http, "time", SimpleNamespace(sleep=sleeps.append))
    return SimpleNamespace(tmp=tmp_path, cache=tmp_path / "hf_cache", ckpts=ckpts, sleeps=sleeps, mp=monkeypatch)


def use_hub(env, url):
    env.mp.setenv("HF_ENDPOINT", url)


def repo_cache(env) -> Path:
    return env.cache.resolve() / "models--yzd-v--DWPose"


# --- local lookup order ----------------------------------------------------------------------


def test_explicit_path_wins(env):
    explicit = env.tmp / "mine.onnx"
    explicit.write_bytes(onnx_like(seed=1))
    env_dir = env.tmp / "env"
    env_dir.mkdir()
    (env_dir / DET_FILENAME).write_bytes(onnx_like(seed=2))
    (env.ckpts / DET_FILENAME).write_bytes(onnx_like(seed=3))
    env.mp.setenv("DWPOSE_CKPTS", str(env_dir))

    assert find_weights(DET_FILENAME, explicit, cache_dir=env.cache) == explicit
    assert find_weights(DET_FILENAME, str(explicit), cache_dir=env.cache) == explicit


def test_missing_explicit_path_does_not_fall_back(env):
    (env.ckpts / DET_FILENAME).write_bytes(onnx_like())
    missing = env.tmp / "nope" / "det.onnx"
    with pytest.raises(WeightsError) as exc:
        find_weights(DET_FILENAME, missing, cache_dir=env.cache)
    assert str(missing) in str(exc.value)


def test_env_dir_before_ckpts_dir(env):
    env_dir = env.tmp / "env"
    env_dir.mkdir()
    env.mp.setenv("DWPOSE_CKPTS", str(env_dir))
    (env.ckpts / POSE_FILENAME).write_bytes(onnx_like(seed=1))

    # $DWPOSE_CKPTS set but without the file -> annotator/ckpts
    assert find_weights(POSE_FILENAME, cache_dir=env.cache) == env.ckpts / POSE_FILENAME
    (env_dir / POSE_FILENAME).write_bytes(onnx_like(seed=2))
    assert find_weights(POSE_FILENAME, cache_dir=env.cache) == env_dir / POSE_FILENAME


def test_search_dirs_come_after_the_env_dir_and_before_ckpts(env):
    host = env.tmp / "host_models"
    host.mkdir()
    (host / DET_FILENAME).write_bytes(onnx_like(seed=4))
    (env.ckpts / DET_FILENAME).write_bytes(onnx_like(seed=5))
    assert find_weights(DET_FILENAME, search_dirs=[env.tmp / "absent", host], cache_dir=env.cache) == host / DET_FILENAME
    env_dir = env.tmp / "env"
    env_dir.mkdir()
    (env_dir / DET_FILENAME).write_bytes(onnx_like(seed=6))
    env.mp.setenv("DWPOSE_CKPTS", str(env_dir))
    assert find_weights(DET_FILENAME, search_dirs=[host], cache_dir=env.cache) == env_dir / DET_FILENAME


def test_not_found_names_every_place_searched(env):
    host = env.tmp / "host_models"
    with pytest.raises(WeightsError) as info:
        find_weights(POSE_FILENAME, search_dirs=[host], cache_dir=env.cache, local_files_only=True)
    message = str(info.value)
    for place in ("$DWPOSE_CKPTS (not set)", str(host / POSE_FILENAME), str(env.ckpts / POSE_FILENAME),
                  "Hugging Face cache"):
        assert place in message


def test_one_rule_for_file_names_and_paths(env, monkeypatch):
    """resolve_weights: empty -> the default name; a path (object, existing file, absolute, with a folder
    or ~) -> that file; any other text -> a name looked up."""
    (env.ckpts / DET_FILENAME).write_bytes(onnx_like(seed=7))
    (env.ckpts / "yolox_nano.onnx").write_bytes(onnx_like(seed=8))
    here = env.tmp / "cwd"
    (here / "sub").mkdir(parents=True)
    (here / "local.onnx").write_bytes(onnx_like(seed=9))
    (here / "sub" / "x.onnx").write_bytes(onnx_like(seed=10))
    monkeypatch.chdir(here)
    monkeypatch.setenv("HOME", str(here))
    lookup = dict(cache_dir=env.cache, local_files_only=True)

    for empty in (None, "", "  "):
        assert resolve_weights(empty, DET_FILENAME, **lookup) == env.ckpts / DET_FILENAME
    assert resolve_weights("yolox_nano.onnx", DET_FILENAME, **lookup) == env.ckpts / "yolox_nano.onnx"
    assert resolve_weights("local.onnx", DET_FILENAME, **lookup) == Path("local.onnx")  # a file here
    assert resolve_weights("sub/x.onnx", DET_FILENAME, **lookup) == Path("sub/x.onnx")
    assert resolve_weights("~/sub/x.onnx", DET_FILENAME, **lookup) == here / "sub" / "x.onnx"
    assert resolve_weights(Path("local.onnx"), DET_FILENAME, **lookup) == Path("local.onnx")
    # A path that does not exist is an error about that path, never a lookup of its file name.
    for missing in ("sub/yolox_l.onnx", str(here / "yolox_l.onnx"), Path("yolox_l.onnx")):
        with pytest.raises(WeightsError, match="given explicitly"):
            resolve_weights(missing, DET_FILENAME, **lookup)
    with pytest.raises(WeightsError, match="not found locally"):
        resolve_weights("other.onnx", DET_FILENAME, **lookup)


def test_local_file_that_is_not_onnx_is_reported(env):
    (env.ckpts / DET_FILENAME).write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:...\n")
    with pytest.raises(WeightsError, match="Git LFS pointer") as exc:
        find_weights(DET_FILENAME, cache_dir=env.cache)
    assert str(env.ckpts / DET_FILENAME) in str(exc.value)


# --- download through the (fake) hub ---------------------------------------------------------


def test_download_into_cache(env):
    data = onnx_like(seed=7)
    with serve_hub({DET_FILENAME: data}) as url:
        use_hub(env, url)
        path = find_weights(DET_FILENAME, cache_dir=env.cache)
    assert path.read_bytes() == data
    assert repo_cache(env) in path.parents
    assert Path(path).resolve().parent.name == "blobs"
    assert [r[:2] for r in url.requests] == [
        ("HEAD", f"/yzd-v/DWPose/resolve/main/{DET_FILENAME}"),
        ("GET", f"/cdn/{Path(path).resolve().name}"),
    ]


def test_second_call_uses_cache_without_requests(env):
    data = onnx_like(seed=8)
    with serve_hub({DET_FILENAME: data, POSE_FILENAME: onnx_like(seed=9)}) as url:
        use_hub(env, url)
        first = find_weights(DET_FILENAME, cache_dir=env.cache)
        url.requests.clear()
        second = find_weights(DET_FILENAME, cache_dir=env.cache)
        assert url.requests == []
    assert second == first
    assert second.read_bytes() == data


@pytest.mark.parametrize("value", ["1", "TRUE", "yes", "On"])
def test_offline_without_local_file(env, value):
    env.mp.setenv("HF_HUB_OFFLINE", value)
    with serve_hub({DET_FILENAME: onnx_like()}) as url:
        use_hub(env, url)
        with pytest.raises(WeightsError) as exc:
            find_weights(DET_FILENAME, cache_dir=env.cache)
        assert url.requests == []
    msg = str(exc.value)
    assert "HF_HUB_OFFLINE" in msg and "offline" in msg
    assert DET_FILENAME in msg
    assert str(env.ckpts / DET_FILENAME) in msg and "$DWPOSE_CKPTS" in msg and str(env.cache.resolve()) in msg


def test_offline_by_argument(env):
    with pytest.raises(WeightsError, match="local_files_only=True"):
        find_weights(DET_FILENAME, cache_dir=env.cache, local_files_only=True)


def test_hf_hub_offline_zero_means_online(env):
    env.mp.setenv("HF_HUB_OFFLINE", "0")
    data = onnx_like(seed=13)
    with serve_hub({DET_FILENAME: data}) as url:
        use_hub(env, url)
        assert find_weights(DET_FILENAME, cache_dir=env.cache).read_bytes() == data


def test_offline_with_cached_file(env):
    data = onnx_like(seed=10)
    with serve_hub({DET_FILENAME: data}) as url:
        use_hub(env, url)
        downloaded = find_weights(DET_FILENAME, cache_dir=env.cache)
        env.mp.setenv("HF_HUB_OFFLINE", "1")
        url.requests.clear()
        assert find_weights(DET_FILENAME, cache_dir=env.cache) == downloaded
        assert url.requests == []
    # explicit local_files_only=False still prefers the cache
    assert find_weights(DET_FILENAME, cache_dir=env.cache, local_files_only=False).read_bytes() == data


def test_server_error(env):
    with serve_hub({DET_FILENAME: onnx_like()}, mode="fail") as url:
        use_hub(env, url)
        with pytest.raises(WeightsError) as exc:
            find_weights(DET_FILENAME, cache_dir=env.cache)
    msg = str(exc.value)
    assert DET_FILENAME in msg and "yzd-v/DWPose" in msg and "500" in msg
    assert "https://huggingface.co/yzd-v/DWPose" in msg and "HF_ENDPOINT" in msg
    assert exc.value.__cause__ is not None
    # one HEAD without retry, then the hub's retry loop: 5 retries with back-off
    assert [r[0] for r in url.requests] == ["HEAD"] * 7
    assert env.sleeps == [1, 2, 4, 8, 8]


def test_unknown_file(env):
    with serve_hub({DET_FILENAME: onnx_like()}) as url:
        use_hub(env, url)
        with pytest.raises(WeightsError) as exc:
            find_weights(POSE_FILENAME, cache_dir=env.cache)
    assert POSE_FILENAME in str(exc.value) and "404" in str(exc.value)


def test_connection_refused(env):
    with pytest.raises(WeightsError) as exc:
        find_weights(DET_FILENAME, cache_dir=env.cache)
    assert DET_FILENAME in str(exc.value) and "ConnectError" in str(exc.value)


def test_truncated_download(env):
    with serve_hub({DET_FILENAME: onnx_like()}, mode="truncated") as url:
        use_hub(env, url)
        with pytest.raises(WeightsError, match="Consistency check failed") as exc:
            find_weights(DET_FILENAME, cache_dir=env.cache)
    assert DET_FILENAME in str(exc.value)
    assert not list(repo_cache(env).glob("blobs/*"))


def test_corrupt_download_is_removed(env):
    data = onnx_like(seed=11)
    with serve_hub({DET_FILENAME: data}, mode="corrupt") as url:
        use_hub(env, url)
        with pytest.raises(WeightsError, match="[Cc]hecksum mismatch") as exc:
            find_weights(DET_FILENAME, cache_dir=env.cache)
    assert DET_FILENAME in str(exc.value)
    assert not list(repo_cache(env).glob("blobs/*"))
    assert not list(repo_cache(env).glob(f"snapshots/*/{DET_FILENAME}"))

    # a retry against a healthy hub works
    with serve_hub({DET_FILENAME: data}) as url:
        use_hub(env, url)
        assert find_weights(DET_FILENAME, cache_dir=env.cache).read_bytes() == data


def test_dropped_connection_resumes(env):
    # Small read chunks so the half received before the drop reaches the file and the retry uses Range.
    env.mp.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 512)
    data = onnx_like(8192, seed=12)
    with serve_hub({DET_FILENAME: data}, mode="drop_once") as url:
        use_hub(env, url)
        path = find_weights(DET_FILENAME, cache_dir=env.cache)
    assert path.read_bytes() == data
    gets = [r for r in url.requests if r[0] == "GET"]
    assert len(gets) == 2 and gets[0][2] is None
    assert gets[1][2] == f"bytes={len(data) // 2}-"


def test_downloaded_file_not_onnx(env):
    with serve_hub({DET_FILENAME: b"<html>not a model</html>"}) as url:
        use_hub(env, url)
        with pytest.raises(WeightsError, match="does not look like an ONNX model"):
            find_weights(DET_FILENAME, cache_dir=env.cache)


def test_real_onnx_model_download(env):
    data = tiny_onnx_model()
    with serve_hub({POSE_FILENAME: data}) as url:
        use_hub(env, url)
        path = find_weights(POSE_FILENAME, cache_dir=env.cache)
    assert onnx.load(str(path)).graph.node[0].op_type == "Identity"


# --- check_weights_file ------------------------------------------------------------------------


def test_check_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="not found") as exc:
        check_weights_file(tmp_path / "x.onnx", ONNX_WHAT)
    assert str(tmp_path / "x.onnx") in str(exc.value) and ONNX_WHAT in str(exc.value)


def test_check_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(WeightsError, match="empty") as exc:
        check_weights_file(path, ONNX_WHAT)
    assert str(path) in str(exc.value) and ONNX_WHAT in str(exc.value) and "download" in str(exc.value)


def test_check_random_bytes(tmp_path):
    path = tmp_path / "random.onnx"
    path.write_bytes(b"\x00" + random.Random(0).randbytes(999))
    with pytest.raises(WeightsError, match="does not look like an ONNX model") as exc:
        check_weights_file(path, ONNX_WHAT)
    assert str(path) in str(exc.value) and ONNX_WHAT in str(exc.value)


def test_check_real_and_truncated_onnx(tmp_path):
    data = tiny_onnx_model()
    assert data[0] == 0x08
    full = tmp_path / "full.onnx"
    full.write_bytes(data)
    check_weights_file(full, ONNX_WHAT)
    # A truncated file still starts with 0x08: the cheap check passes, the session loader catches it.
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 2])
    check_weights_file(truncated, ONNX_WHAT)


# --- the detector built from downloaded weights ------------------------------------------------


def test_from_pretrained_downloads_and_runs(env, empty_yolox, marker_pose):
    import numpy as np

    from annotator.dwpose import DWposeDetector

    served = {DET_FILENAME: empty_yolox.read_bytes(), POSE_FILENAME: marker_pose.read_bytes()}
    with serve_hub(served) as url:
        use_hub(env, url)
        detector = DWposeDetector.from_pretrained(cache_dir=env.cache)
        assert sorted(r[0] for r in url.requests) == ["GET", "GET", "HEAD", "HEAD"]
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[32, 20] = 255
    np.testing.assert_allclose(detector.detect(image).keypoints[0, 0], [20, 32], atol=1)

    # Later, offline: the cache alone is enough.
    env.mp.setenv("HF_HUB_OFFLINE", "1")
    DWposeDetector.from_pretrained(cache_dir=env.cache)
    # A local folder with the two files works too, without the hub.
    folder = env.tmp / "weights"
    folder.mkdir()
    for name, data in served.items():
        (folder / name).write_bytes(data)
    assert len(DWposeDetector.from_pretrained(folder).detect(image)) == 1
