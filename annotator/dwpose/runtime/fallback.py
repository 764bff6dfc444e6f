"""Warnings given when a model cannot run as asked (errors.py has their kinds), pointed at the caller's line."""

from __future__ import annotations

import os
import sys
import warnings

# annotator/dwpose: frames in files below it belong to the package (under any module name it was loaded as).
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn(message: str, category: type) -> None:
    """warnings.warn pointing at the first frame outside this package: the line that made the detector."""
    level, frame = 1, sys._getframe(0)  # stacklevel 1 is this function's own frame
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
