"""annotator/dwpose/private_import.py: the one loader the web UI script and the ComfyUI node use to
import our package under a private name, where `annotator` may be another project's."""

import runpy
import sys
import types

import pytest

from conftest import REPO

DWPOSE = REPO / "annotator" / "dwpose"
LOADER = DWPOSE / "private_import.py"


def _private(name: str) -> bool:
    return name.startswith("_dwpose_annotator_")


@pytest.fixture
def loader():
    """The loader as the hosts run it, without the private copies other tests loaded (put back afterwards)."""
    earlier = {name: sys.modules.pop(name) for name in [n for n in sys.modules if _private(n)]}
    yield runpy.run_path(str(LOADER))
    for name in [n for n in sys.modules if _private(n)]:
        del sys.modules[name]
    sys.modules.update(earlier)


def test_package_is_imported_under_its_private_name_beside_another_annotator(loader, monkeypatch):
    foreign = types.ModuleType("annotator")
    foreign.__path__ = []
    monkeypatch.setitem(sys.modules, "annotator", foreign)
    before = set(sys.modules)
    name = loader["private_name"](DWPOSE)
    assert name.startswith("_dwpose_annotator_") and name not in sys.modules

    dwpose = loader["import_private"](DWPOSE)
    assert dwpose.__name__ == name and dwpose.DWposeDetector.__module__ == name + ".pipeline"
    assert sys.modules["annotator"] is foreign  # untouched, and nothing below it imported
    assert not [n for n in set(sys.modules) - before if n.startswith("annotator")]
    assert loader["import_private"](DWPOSE) is dwpose  # a second call reuses the first
    assert loader["import_private"](DWPOSE, "images").HWC3 is sys.modules[name + ".images"].HWC3


@pytest.mark.requires_symlinks
def test_a_symlinked_checkout_gets_the_same_name_and_another_checkout_another(loader, tmp_path):
    link = tmp_path / "linked_dwpose"
    link.symlink_to(DWPOSE, target_is_directory=True)
    assert loader["private_name"](link) == loader["private_name"](DWPOSE)
    assert loader["private_name"](tmp_path / "dwpose") != loader["private_name"](DWPOSE)


def test_a_failed_import_leaves_nothing_behind(loader, tmp_path):
    broken = tmp_path / "dwpose"
    broken.mkdir()
    (broken / "__init__.py").write_text("from . import half\nraise ImportError('broken on purpose')\n")
    (broken / "half.py").write_text("")
    with pytest.raises(ImportError, match="broken on purpose"):
        loader["import_private"](broken)
    assert not [n for n in sys.modules if n.startswith(loader["private_name"](broken))]  # submodules too
