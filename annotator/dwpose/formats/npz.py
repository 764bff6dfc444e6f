"""The Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)}, coordinates
relative to the image size (x / width, y / height), -1 where hidden.

The dicts are pickled inside the npz (numpy object arrays); read_npz unpickles them allowing only numpy's
array classes, so an npz from elsewhere cannot run code as np.load(allow_pickle=True) would let it.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile

import numpy as np

from ..errors import PoseFormatError
from ..skeleton import BODY, FACE, LEFT_HAND, NUM_OPENPOSE, RIGHT_HAND, THRESHOLD
from .checks import describe, image_size, numbers_array

# What a pickled numpy array of floats or of dicts of them needs (numpy 1 and 2 spell the module differently).
ALLOWED_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                   ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
                   ("numpy._core.multiarray", "scalar")}
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
PERSON_KEY = re.compile(r"person_(\d+)")


def save_npz(poses, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
    """Write a Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)},
    coordinates relative to the image size, -1 where hidden. Load with allow_pickle=True (or read_npz)."""
    points = poses.normalized(threshold)
    people = {
        f"person_{n}": {
            "body": points[n, BODY],
            "face": points[n, FACE],
            "hands": np.stack([points[n, LEFT_HAND], points[n, RIGHT_HAND]]),
        }
        for n in range(len(poses))
    }
    np.savez(path, **people)


def read_npz(source, width: int, height: int) -> dict:
    """The Poses fields of a Cog-style npz (a path or a file object), in pixels of a width x height image (the
    file's coordinates are relative to it and do not say its size). A point is shown (score 1) unless it is
    (-1, -1); feet are hidden (the format has none); people in the order of their index i; each person
    gets the whole-image box with box score 0. normalized_keypoints keeps the file's values, so maps drawn
    from them have the writer's pixels and save_npz writes the same values back."""
    width, height = image_size(width, "width"), image_size(height, "height")
    people = _unpickled_people(source)
    n = len(people)
    relative = np.full((n, NUM_OPENPOSE, 2), -1.0)
    for i, (key, person) in enumerate(people):
        if not isinstance(person, dict):
            raise PoseFormatError(f"{key}: expected a dict of body, face and hands, got {describe(person)}")
        for part in ("body", "face", "hands"):
            if part not in person:
                raise PoseFormatError(f"{key}: no {part!r} (expected body, face and hands)")
        hands = numbers_array(person["hands"], f"{key}.hands", (2, 21, 2))
        relative[i, BODY] = numbers_array(person["body"], f"{key}.body", (18, 2))
        relative[i, FACE] = numbers_array(person["face"], f"{key}.face", (68, 2))
        relative[i, LEFT_HAND], relative[i, RIGHT_HAND] = hands
    shown = ~(relative == -1).all(axis=-1)
    shown[:, 18:24] = False  # no feet in the format
    with np.errstate(invalid="ignore", over="ignore"):
        pixels = relative * np.array([float(width), float(height)])
    return dict(exact_keypoints=pixels, scores=shown.astype(np.float32),
                boxes=np.tile(np.array([0, 0, width, height], dtype=np.float32), (n, 1)),
                box_scores=np.zeros(n, np.float32), width=width, height=height, normalized_keypoints=relative)


class _NumpyOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array class")


def _unpickled_people(source) -> list[tuple[str, object]]:
    """[(person_<i>, its dict)] sorted by i, each array read from the zip and unpickled with _NumpyOnly."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
            keys = sorted((key for key in members if PERSON_KEY.fullmatch(key)), key=lambda k: int(k[7:]))
            if set(members) - set(keys):
                raise PoseFormatError(f"{sorted(set(members) - set(keys))[0]}: not a person_<i> key")
            people = []
            for key in keys:
                with archive.open(members[key]) as f:
                    people.append((key, _read_npy(f, key)))
            return people
    except (zipfile.BadZipFile, EOFError) as err:
        raise PoseFormatError(f"{os.fspath(source) if isinstance(source, (str, os.PathLike)) else 'npz'}: "
                              f"not an npz file ({err})") from None


def _read_npy(f, key: str):
    try:
        version = np.lib.format.read_magic(f)
        if version not in HEADER_READERS:
            raise ValueError(f"npy format version {version}")
        shape, fortran, dtype = HEADER_READERS[version](f)
        if dtype.hasobject:
            array = _NumpyOnly(io.BytesIO(f.read())).load()
        else:
            array = np.frombuffer(f.read(), dtype=dtype).reshape(shape, order="F" if fortran else "C")
    except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as err:
        raise PoseFormatError(f"{key}: cannot be read ({err})") from None
    return array.item() if isinstance(array, np.ndarray) and array.shape == () else array
