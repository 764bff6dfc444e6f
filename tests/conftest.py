import contextlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

import stand_in_models as sim

REPO = Path(__file__).resolve().parent.parent
# Real photos and detector weights live outside the repository; tests that need them skip without them.
SHARED = Path(os.environ.get("DWPOSE_SHARED", REPO.parent / "shared"))


def shared_path(*parts) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (set DWPOSE_SHARED to the shared data folder)")
    return path


def _missing_modules(*modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


# Optional parts a test may need, each as a marker: a test marked with one is skipped, with the reason,
# where the part is missing. Registered in pyproject.toml.
REQUIREMENTS = {
    "requires_shared": lambda: None if SHARED.is_dir() else f"{SHARED} not available (set DWPOSE_SHARED)",
    "requires_openvino": lambda: _missing_reason("openvino"),
    "requires_torch": lambda: _missing_reason("torch"),
    "requires_diffusers": lambda: _missing_reason("torch", "diffusers", "transformers"),
    "requires_gradio": lambda: _missing_reason("gradio", "gradio_client"),
    "requires_video": lambda: _missing_reason("av"),
    "requires_symlinks": lambda: None if hasattr(os, "symlink") else "this system cannot make symlinks",
    "requires_posix": lambda: None if os.name == "posix" and shutil.which("sh") else "needs a POSIX shell",
}


def _missing_reason(*modules):
    missing = _missing_modules(*modules)
    return f"needs {', '.join(missing)} (pip install -e \".[test]\")" if missing else None


def pytest_runtest_setup(item):
    for name, check in REQUIREMENTS.items():
        if item.get_closest_marker(name) is not None:
            reason = check()
            if reason:
                pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """Optimised graphs and model copies go to a fresh folder, not the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("dwpose-cache")
    previous = os.environ.get("DWPOSE_CACHE")
    os.environ["DWPOSE_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("DWPOSE_CACHE", None)
    else:
        os.environ["DWPOSE_CACHE"] = previous


@pytest.fixture(scope="module")
def hub_offline():
    """HF_HUB_OFFLINE for a test module, also where huggingface_hub read it at import time."""
    import huggingface_hub.constants

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        yield


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def marker_pose(model_dir):
    return sim.save(sim.simcc_marker_model(batch="batch"), model_dir / "marker_dynamic.onnx")


@pytest.fixture(scope="session")
def random_pose(model_dir):
    return sim.save(sim.simcc_random_model(), model_dir / "random_static.onnx")


@pytest.fixture(scope="session")
def empty_yolox(model_dir):
    """A YOLOX-format detector that never finds anything (416x416)."""
    import numpy as np

    raw = np.zeros((sim.num_anchors(416), 85), dtype=np.float32)
    return sim.save(sim.yolox_model(raw), model_dir / "yolox_empty.onnx")


# People that a stand-in YOLOX finds, in its 416x416 input: on CROWD_SIZE images (letterbox ratio
# 416 / 832 = 0.5) they are these boxes times 2.
CROWD_SIZE = (832, 624)  # width, height
CROWD_BOXES_416 = [(20, 30, 80, 200), (100, 40, 150, 190), (170, 20, 240, 230), (260, 50, 300, 160),
                   (320, 60, 400, 280), (20, 220, 90, 300)]


@pytest.fixture(scope="session")
def crowd_yolox(model_dir):
    """A YOLOX-format stand-in that finds the six CROWD_BOXES_416 people in any image."""
    return sim.save(sim.yolox_people_model(CROWD_BOXES_416), model_dir / "yolox_crowd.onnx")


@pytest.fixture(scope="session")
def crowd_image():
    """A CROWD_SIZE image with some texture (the stand-in pose models see real pixel values)."""
    import numpy as np

    width, height = CROWD_SIZE
    rng = np.random.default_rng(1)
    image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in CROWD_BOXES_416:  # a bright figure in each box
        image[2 * y1 + 10:2 * y2 - 10, 2 * x1 + 10:2 * x2 - 10] = rng.integers(120, 256, 3, dtype=np.uint8)
    return image


@contextlib.contextmanager
def host_process(webui_dir: Path, isolated):
    """sys.modules and sys.path as in a host process (a web UI stand-in): `webui_dir` first on the path,
    this repository (and an editable install's path hook) not on it, and no module for which
    `isolated(name)` is true; everything is put back afterwards."""
    saved_modules = {name: module for name, module in sys.modules.items() if isolated(name)}
    saved_path = list(sys.path)
    for name in saved_modules:
        del sys.modules[name]
    ours = {REPO, REPO / "tests"}
    sys.path[:] = [str(webui_dir)] + [p for p in saved_path if Path(p or os.getcwd()).resolve() not in ours
                                      and "__editable__" not in p]
    try:
        yield
    finally:
        for name in [n for n in sys.modules if isolated(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny models: threads only add overhead, and thrash when the CPU is
    shared. Modules ask for it with pytest.mark.usefixtures("one_torch_thread")."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
