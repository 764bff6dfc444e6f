"""Ray Data: PoseAnnotator on read_images and path datasets, and `batch --ray`, on a local Ray instance
started here (two CPUs, bound to 127.0.0.1): the same rows as the single-process batch run."""

from pathlib import Path

import pytest

from annotator.dwpose.formats.table import table_schema
from test_batch import files_of, main, photo

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    yield ray
    ray.shutdown()


@pytest.fixture
def single_run(tmp_path, crowd_yolox, random_pose):
    """Four images (one in a subfolder) and a fake one, through the single-process batch: (folder, models,
    its output folder)."""
    folder = tmp_path / "in"
    for n in range(4):
        photo(folder / ("sub" if n == 3 else "") / f"p{n}.png", n, size=(160 + 16 * n, 120))
    (folder / "fake.png").write_text("not an image")
    models = ["--det", str(crowd_yolox), "--pose", str(random_pose), "--detect-resolution", "128",
              "--image-resolution", "128"]
    out = tmp_path / "single"
    assert main([str(folder), "--out", str(out), "--json", "--table", str(out / "t.parquet"), *models]) == 1
    return folder, models, out


def test_batch_ray_equals_single_process(local_ray, single_run, tmp_path, capsys):
    folder, models, single = single_run
    out = tmp_path / "ray"
    capsys.readouterr()
    code = main([str(folder), "--out", str(out), "--json", "--table", str(out / "t.parquet"), "--ray",
                 "--workers", "2", *models])
    assert code == 1
    assert "done 4, skipped 0 (done before), failed 1" in capsys.readouterr().err
    assert ray.is_initialized()  # the test's instance is left running
    assert files_of(out) == files_of(single)
    assert pq.read_table(out / "t.parquet").equals(pq.read_table(single / "t.parquet"))


def test_pose_annotator_on_images_and_paths(local_ray, single_run, crowd_yolox, random_pose):
    from annotator.dwpose.ray import PoseAnnotator

    folder, _, single = single_run
    expected = pq.read_table(single / "t.parquet")
    kwargs = {"det": str(crowd_yolox), "pose": str(random_pose), "detect_resolution": 128}
    images = ray.data.read_images([str(p) for p in sorted(folder.rglob("p*.png"))], include_paths=True)
    paths = ray.data.from_items([{"path": path} for path in expected.column("path").to_pylist()])
    for dataset in (images, paths):
        rows = dataset.map_batches(PoseAnnotator, fn_constructor_kwargs=kwargs, concurrency=1, batch_size=2)
        got = {Path(row["path"]).name: row for row in rows.take_all()}
        assert sorted(got) == ["p0.png", "p1.png", "p2.png", "p3.png"]
        for row in expected.to_pylist():
            assert got[Path(row["path"]).name] == {**row, "path": got[Path(row["path"]).name]["path"]}
    assert set(rows.schema().names) == set(table_schema().names)
