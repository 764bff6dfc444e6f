"""The Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)}, coordinates
relative to the image size (x / width, y / height), -1 where hidden."""

from __future__ import annotations

import os

import numpy as np

from ..skeleton import BODY, FACE, LEFT_HAND, RIGHT_HAND, THRESHOLD


def save_npz(poses, path: str | os.PathLike, threshold: float = THRESHOLD) -> None:
    """Write a Cog-style npz file: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)},
    coordinates relative to the image size, -1 where hidden. Load with allow_pickle=True."""
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
