"""Stand-in of the /controlnet/detect endpoint of sd-webui-controlnet's scripts/api.py (no FastAPI)."""

from annotator.util import HWC3
from scripts.supported_preprocessor import Preprocessor


def detect(controlnet_module, controlnet_input_images, controlnet_processor_res=-1, controlnet_threshold_a=-1,
           controlnet_threshold_b=-1, low_vram=False):
    """The endpoint's Body defaults: resolution and thresholds -1 (the preprocessor's own defaults)."""
    preprocessor = Preprocessor.get_preprocessor(controlnet_module)
    images, poses = [], []
    for image in controlnet_input_images:
        img = HWC3(image)

        class JsonAcceptor:
            def __init__(self) -> None:
                self.value = None

            def accept(self, json_dict: dict) -> None:
                self.value = json_dict

        json_acceptor = JsonAcceptor()
        result = preprocessor.cached_call(
            img,
            resolution=controlnet_processor_res,
            slider_1=controlnet_threshold_a,
            slider_2=controlnet_threshold_b,
            json_pose_callback=json_acceptor.accept,
            low_vram=low_vram,
        )
        images.append(result.display_images[0])
        if "openpose" in controlnet_module:
            assert json_acceptor.value is not None
            poses.append(json_acceptor.value)
    preprocessor.unload()
    response = {"info": "Success"}
    if poses:
        response["poses"] = poses
    if images:
        response["images"] = images
    return response
