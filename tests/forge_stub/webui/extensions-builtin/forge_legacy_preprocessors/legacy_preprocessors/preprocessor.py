"""Stand-in of legacy_preprocessors/preprocessor.py: OpenposeModel.run_model (resize with pad, detect, hand
the JSON of the padded canvas to json_pose_callback, remove the pad)."""

from annotator.util import HWC3
from modules_forge.utils import resize_image_with_pad as _resize_image_with_pad


def resize_image_with_pad(input_image, resolution, skip_hwc3=False):
    return _resize_image_with_pad(input_image if skip_hwc3 else HWC3(input_image), resolution)


class OpenposeModel:
    def __init__(self):
        self.model_openpose = None

    def run_model(self, img, include_body, include_hand, include_face, use_dw_pose=False, use_animal_pose=False,
                  json_pose_callback=None, res=512, **kwargs):
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
