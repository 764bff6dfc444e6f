import os
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
