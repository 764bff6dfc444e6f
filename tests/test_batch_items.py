"""batch/items.py as units: output names that never collide, whatever the file system's case rules."""

from pathlib import Path

from annotator.dwpose.batch import Item, unique_names


def test_names_are_paths_relative_to_their_root_without_suffix():
    root = Path("/data/in")
    names = unique_names({root / "a.png": root, root / "sub" / "b.jpg": root, Path("/other/c.webp"): Path("/other")})
    assert names == {root / "a.png": "a", root / "sub" / "b.jpg": "sub/b", Path("/other/c.webp"): "c"}


def test_colliding_names_keep_their_suffix_then_get_a_number():
    first, second = Path("/x"), Path("/y")
    roots = {first / "a.png": first, first / "a.jpg": first, second / "a.png": second, first / "b.png": first,
             first / "B.PNG": first}
    names = unique_names(roots)
    assert names[first / "a.jpg"] == "a.jpg"  # a.png and a.jpg would both be "a"
    assert {names[first / "a.png"], names[second / "a.png"]} == {"a.png", "a.png~2"}  # same relative path
    # the same name but for case: "b" and "B" collide, then "b.png" and "B.PNG" do (in path order, B first)
    assert (names[first / "B.PNG"], names[first / "b.png"]) == ("B.PNG", "b.png~2")
    assert len({name.casefold() for name in names.values()}) == len(names)


def test_an_item_is_a_video_by_its_suffix():
    assert Item(Path("/a/clip.MP4"), "clip").is_video and not Item(Path("/a/photo.png"), "photo").is_video
