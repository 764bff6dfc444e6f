"""Stand-in of lib_controlnet/api.py: /controlnet/module_list and /controlnet/detect (no FastAPI)."""

import numpy as np

from lib_controlnet import global_state


class HTTPException(Exception):
    def __init__(self, status_code, detail):
        super().__init__(f"{status_code}: {detail}")
        self.status_code, self.detail = status_code, detail


def module_list():
    return {"module_list": global_state.get_all_preprocessor_names()}


def detect(controlnet_module="none", controlnet_input_images=(), controlnet_processor_res=512,
           controlnet_threshold_a=64, controlnet_threshold_b=64):
    processor_module = global_state.get_preprocessor(controlnet_module)
    if processor_module is None:
        raise HTTPException(422, "Module not available")
    if len(controlnet_input_images) == 0:
        raise HTTPException(422, "No image selected")
    images, poses = [], []
    for image in controlnet_input_images:
        img = np.array(image).astype("uint8")  # the decoded upload, not converted to RGB

        class JsonAcceptor:
            def __init__(self):
                self.value = None

            def accept(self, json_dict):
                self.value = json_dict

        json_acceptor = JsonAcceptor()
        images.append(processor_module(img, resolution=controlnet_processor_res, slider_1=controlnet_threshold_a,
                                       slider_2=controlnet_threshold_b, json_pose_callback=json_acceptor.accept))
        if "openpose" in controlnet_module:
            assert json_acceptor.value is not None
            poses.append(json_acceptor.value)
    result = {"images": images, "info": "Success"}
    if poses:
        result["poses"] = poses
    return result
