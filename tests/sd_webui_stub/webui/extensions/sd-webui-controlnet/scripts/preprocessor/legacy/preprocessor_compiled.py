"""Stand-in of scripts/preprocessor/legacy/preprocessor_compiled.py: two of its OpenPose entries."""

import functools

from .processor import g_openpose_model

legacy_preprocessors = {
    "dw_openpose_full": {
        "label": "dw_openpose_full",
        "call_function": functools.partial(g_openpose_model.run_model, include_body=True, include_hand=True,
                                           include_face=True, use_dw_pose=True),
        "unload_function": g_openpose_model.unload,
        "managed_model": "g_openpose_model",
        "model_free": False,
        "no_control_mode": False,
        "resolution": {"label": "Resolution", "minimum": 64, "maximum": 2048, "value": 512},
        "slider_1": None,
        "slider_2": None,
        "slider_3": None,
        "priority": 0,
        "tags": ["OpenPose"],
    },
    "openpose_full": {
        "label": "openpose_full",
        "call_function": functools.partial(g_openpose_model.run_model, include_body=True, include_hand=True,
                                           include_face=True),
        "unload_function": g_openpose_model.unload,
        "managed_model": "g_openpose_model",
        "model_free": False,
        "no_control_mode": False,
        "resolution": {"label": "Resolution", "minimum": 64, "maximum": 2048, "value": 512},
        "slider_1": None,
        "slider_2": None,
        "slider_3": None,
        "priority": 0,
        "tags": ["OpenPose"],
    },
}
