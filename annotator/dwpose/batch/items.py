"""The items of a batch run: INPUT arguments (files, folders searched recursively, globs, .txt lists) -> one
Item per image or video file, each with a unique output name (its path relative to its input root)."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ..images import IMAGE_SUFFIXES
from ..video.io import VIDEO_SUFFIXES


@dataclass(frozen=True)
class Item:
    """One input file (absolute path) and its output name: its path relative to its input root, without the
    suffix, with '/' separators (e.g. "sub/photo")."""

    source: Path
    name: str

    @property
    def is_video(self) -> bool:
        return self.source.suffix.lower() in VIDEO_SUFFIXES


def collect_items(inputs, exclude: Path | None = None) -> list[Item]:
    """The items the INPUT arguments stand for, each file once, sorted by path; files under `exclude` (the
    output folder) are left out. Files given by name are items whatever their suffix (a bad one fails)."""
    roots = {}
    for entry in inputs:
        for source, root in expand(str(entry), Path.cwd()):
            if exclude is None or not is_within(source, Path(os.path.abspath(exclude))):
                roots.setdefault(source, root)
    return [Item(source, name) for source, name in sorted(unique_names(roots).items())]


def expand(entry: str, base: Path):
    """(file, root) pairs of one input, relative to `base`: a folder's media files (recursively) with the
    folder as root, a glob's matches with its fixed leading folders as root, a .txt list's entries with
    the list's folder as root, any other path as itself with its folder as root (missing ones too)."""
    path = Path(os.path.abspath(base / entry))
    if glob.has_magic(entry):
        root = Path(*iter_fixed_parts(path))
        for match in map(Path, sorted(glob.glob(str(path), recursive=True))):
            yield from media_files(match, root) if match.is_dir() else [(match, root)]
    elif path.is_dir():
        yield from media_files(path, path)
    elif path.suffix.lower() == ".txt" and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                for source, root in expand(line.strip(), path.parent):
                    yield source, path.parent if is_within(source, path.parent) else root
    else:
        yield path, path.parent


def iter_fixed_parts(path: Path):
    """The leading parts of a glob pattern's path that hold no wildcard."""
    for part in path.parts:
        if glob.has_magic(part):
            return
        yield part


def media_files(folder: Path, root: Path) -> list[tuple[Path, Path]]:
    """(file, root) for the images and videos in `folder` and its subfolders."""
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    return [(p, root) for p in sorted(folder.rglob("*")) if p.suffix.lower() in suffixes and p.is_file()]


def is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def unique_names(roots: dict[Path, Path]) -> dict[Path, str]:
    """{file: output name}: the path relative to its root without its suffix; where two would collide
    (a.jpg and a.png, or the same relative path under two roots) the suffix is kept, and where they
    still collide, ~2, ~3... follow in path order. Compared case-insensitively, as some file systems do."""
    relative = {source: source.relative_to(root) for source, root in roots.items()}
    plain = {source: rel.with_suffix("").as_posix() for source, rel in relative.items()}
    counts = {}
    for name in plain.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    names, taken = {}, set()
    for source in sorted(relative):
        name = plain[source] if counts[plain[source].casefold()] == 1 else relative[source].as_posix()
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}~{n}"
        taken.add(candidate.casefold())
        names[source] = candidate
    return names
