"""Stand-in of scripts/preprocessor/legacy/processor.py: resize_image_with_pad and OpenposeModel."""

from typing import Callable, Tuple

import cv2
import numpy as np

from annotator.util import HWC3


def pad64(x):
    return int(np.ceil(float(x) / 64.0) * 64 - x)


def safer_memory(x):
    return np.ascontiguousarray(x.copy()).copy()


def resize_image_with_pad(input_image, resolution, skip_hwc3=False):
    img = input_image if skip_hwc3 else HWC3(input_image)
    h_raw, w_raw, _ = img.shape
    k = float(resolution) / float(min(h_raw, w_raw))
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    h_target, w_target = int(np.round(float(h_raw) * k)), int(np.round(float(w_raw) * k))
    img = cv2.resize(img, (w_target, h_target), interpolation=interpolation)
    img_padded = np.pad(img, [[0, pad64(h_target)], [0, pad64(w_target)], [0, 0]], mode="edge")

    def remove_pad(x):
        return safer_memory(x[:h_target, :w_target])

    return safer_memory(img_padded), remove_pad


class OpenposeModel(object):
    def __init__(self) -> None:
        self.model_openpose = None

    def run_model(self, img: np.ndarray, include_body: bool, include_hand: bool, include_face: bool,
                  use_dw_pose: bool = False, use_animal_pose: bool = False,
                  json_pose_callback: Callable[[str], None] = None, res: int = 512, **kwargs) -> Tuple[np.ndarray, bool]:
        if json_pose_callback is None:
            json_pose_callback = lambda x: None  # noqa: E731
        img, remove_pad = resize_image_with_pad(img, res)
        if self.model_openpose is None:
            from annotator.openpose import OpenposeDetector

            self.model_openpose = OpenposeDetector()
        return remove_pad(self.model_openpose(img, include_body=include_body, include_hand=include_hand,
                                              include_face=include_face, use_dw_pose=use_dw_pose,
                                              use_animal_pose=use_animal_pose,
                                              json_pose_callback=json_pose_callback)), True

    def unload(self):
        if self.model_openpose is not None:
            self.model_openpose.unload_model()


g_openpose_model = OpenposeModel()
