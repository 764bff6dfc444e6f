"""Stand-in of the preview ("run preprocessor") callback of sd-webui-controlnet's controlnet_ui_group.py."""

import json

from annotator.util import HWC3
from scripts.supported_preprocessor import Preprocessor


class ControlNetUiGroup:
    @staticmethod
    def run_annotator(image, module, pres, pthr_a, pthr_b, model="None"):
        """Returns the preview image and the JSON string the OpenPose editor gets ("" if none)."""
        img = HWC3(image["image"])
        preprocessor = Preprocessor.get_preprocessor(module)

        class JsonAcceptor:
            def __init__(self) -> None:
                self.value = ""

            def accept(self, json_dict: dict) -> None:
                self.value = json.dumps(json_dict)

        json_acceptor = JsonAcceptor()

        def is_openpose(module: str):
            return "openpose" in module

        result = preprocessor.cached_call(
            img,
            resolution=pres,
            slider_1=pthr_a,
            slider_2=pthr_b,
            low_vram=False,
            json_pose_callback=json_acceptor.accept if is_openpose(module) else None,
            model=model,
        )
        return result.display_images[0], json_acceptor.value
