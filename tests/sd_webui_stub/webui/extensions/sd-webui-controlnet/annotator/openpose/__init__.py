"""Stand-in of sd-webui-controlnet's annotator/openpose: the built-in detector, which finds no one here."""

import os
from typing import Callable

import numpy as np

from annotator import annotator_path
from annotator import OWNER  # the host's own package (its DWPose is openpose/wholebody.py, run by cv2.dnn)


def encode_poses_as_json(poses, animals, canvas_height: int, canvas_width: int) -> dict:
    return {"people": list(poses), "animals": list(animals), "canvas_height": canvas_height,
            "canvas_width": canvas_width}


class OpenposeDetector:
    model_dir = os.path.join(annotator_path.models_path, "openpose")

    def __init__(self):
        self.loaded = True
        self.owner = OWNER

    def unload_model(self):
        self.loaded = False

    def __call__(self, oriImg, include_body=True, include_hand=False, include_face=False, use_dw_pose=False,
                 use_animal_pose=False, json_pose_callback: Callable[[str], None] = None):
        H, W, _ = oriImg.shape
        if json_pose_callback:
            json_pose_callback(encode_poses_as_json([], [], H, W))
        return np.zeros((H, W, 3), dtype=np.uint8)
