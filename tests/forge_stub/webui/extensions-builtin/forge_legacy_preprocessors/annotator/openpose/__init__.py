"""Stand-in of Forge's annotator/openpose: the built-in detector (it finds no one here) and the JSON helpers
the ControlNet pose editor imports."""

import os

import numpy as np

from annotator.annotator_path import models_path

OWNER = "Forge stand-in"


def encode_poses_as_json(poses, animals, canvas_height, canvas_width):
    return {"people": list(poses), "animals": list(animals), "canvas_height": canvas_height,
            "canvas_width": canvas_width}


def decode_json_as_poses(pose_json):
    return pose_json.get("people", []), pose_json.get("animals", []), pose_json["canvas_height"], pose_json["canvas_width"]


def draw_poses(poses, H, W, draw_body=True, draw_hand=True, draw_face=True):
    return np.zeros((H, W, 3), dtype=np.uint8)


class OpenposeDetector:
    model_dir = os.path.join(models_path, "openpose")

    def unload_model(self):
        pass

    def __call__(self, oriImg, include_body=True, include_hand=False, include_face=False, use_dw_pose=False,
                 use_animal_pose=False, json_pose_callback=None):
        H, W, _ = oriImg.shape
        if json_pose_callback:
            json_pose_callback(encode_poses_as_json([], [], H, W))
        return draw_poses([], H, W)
