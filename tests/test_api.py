"""The public API: what annotator.dwpose exports, the errors, the optional packages, and the hosts and the
benchmark living on it."""

import ast
import importlib
import sys
from pathlib import Path

import pytest

import annotator.dwpose as dwpose
from annotator.dwpose import errors, optional

REPO = Path(__file__).resolve().parent.parent
# What the hosts and the benchmark may import: the package, and its public subpackages and modules.
PUBLIC_MODULES = {"annotator.dwpose", "annotator.dwpose.images", "annotator.dwpose.models", "annotator.dwpose.runtime",
                  "annotator.dwpose.video", "annotator.dwpose.video.tracking", "annotator.dwpose.formats",
                  "annotator.dwpose.render", "annotator.dwpose.skeleton", "annotator.dwpose.batch",
                  "annotator.dwpose.evaluation", "annotator.dwpose.ray", "annotator.dwpose.cli",
                  "annotator.dwpose.wan_preprocess", "annotator.dwpose.video.wan_animate"}


def test_every_exported_name_is_there():
    for name in dwpose.__all__:
        assert getattr(dwpose, name) is not None, name
    assert dwpose.PoseAnnotator.__module__ == "annotator.dwpose.ray"  # imported on first use
    with pytest.raises(AttributeError):
        dwpose.no_such_name


def test_the_version_is_the_projects():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert dwpose.__version__ == project["version"]


def test_every_error_is_a_dwpose_error_and_the_builtin_it_always_was():
    assert issubclass(errors.WeightsError, OSError) and issubclass(errors.VideoError, OSError)
    assert issubclass(errors.UnsupportedModelError, errors.WeightsError)
    assert issubclass(errors.ImageError, ValueError) and issubclass(errors.EvaluationError, ValueError)
    assert issubclass(errors.MissingDependencyError, ImportError)
    for kind in (errors.WeightsError, errors.VideoError, errors.ImageError, errors.EvaluationError,
                 errors.MissingDependencyError, errors.UnsupportedModelError):
        assert issubclass(kind, errors.DWposeError) and getattr(dwpose, kind.__name__) is kind
    assert dwpose.weights.WeightsError is errors.WeightsError  # the names of earlier releases still work
    assert dwpose.video.VideoError is errors.VideoError and dwpose.evaluation.EvaluationError is errors.EvaluationError


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(errors.MissingDependencyError, match=r'video needs PyAV, which is not installed: '
                                                            r'pip install "dwpose-annotator\[video\]"'):
        optional.require("av", "video")
    assert not optional.installed("av")
    assert optional.require("onnx", "graph copies") is importlib.import_module("onnx") and optional.importable("onnx")
    assert optional.install_hint("onnx") == "pip install onnx"
    assert "any torch build" in optional.install_hint("torch")


def imports_of(path: Path) -> set[str]:
    """The annotator.dwpose modules a file imports (absolute imports, at any depth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("annotator"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("annotator"))
    return found


@pytest.mark.parametrize("path", ["predict.py", "gradio_dw_open_pose.py", *sorted(
    str(p.relative_to(REPO)) for p in (REPO / "bench").glob("*.py"))])
def test_hosts_and_the_benchmark_import_only_public_modules(path):
    assert imports_of(REPO / path) <= PUBLIC_MODULES, imports_of(REPO / path) - PUBLIC_MODULES


@pytest.mark.parametrize("path", ["scripts/dwpose_preprocessor.py", "comfyui/nodes.py"])
def test_hosts_loading_a_private_copy_use_only_its_exported_names(path):
    """The web UI script and the ComfyUI node reach our package as `dwpose_module()` / `dwpose`: every
    attribute they take from it is in __all__."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    taken = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id == "dwpose" or \
                    isinstance(base, ast.Call) and getattr(base.func, "id", None) == "dwpose_module":
                taken.add(node.attr)
    assert taken and taken <= set(dwpose.__all__), taken - set(dwpose.__all__)
