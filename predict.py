"""Cog predictor: DWPose whole-body keypoints of the people in a photo.

Run it with cog (`cog predict -i image=@photo.jpg -i threshold=0.3`) or with cog's HTTP server
(`cog run -p 5000 python -m cog.server.http`). The models are loaded once in setup(): yolox_l.onnx and
dw-ll_ucoco_384.onnx from $DWPOSE_CKPTS (baked into the image at build), annotator/ckpts, or the Hugging
Face repo yzd-v/DWPose (downloaded once; HF_HUB_OFFLINE=1 forbids it).

Outputs, each optional:
- npz: `person_<i>` -> {"body": (18, 2), "face": (68, 2), "hands": (2, 21, 2)} (left hand, right hand),
  coordinates relative to the image (x / width, y / height), -1 where a point is hidden; the threshold
  applies to every part. Load with np.load(path, allow_pickle=True)["person_0"].item().
- pose_map: the OpenPose pose map PNG (ControlNet's dw_openpose_full) at the image_resolution size.
- overlay: the same skeleton drawn over the photo (resized to the pose map's size), PNG.
- json: sd-webui-controlnet's OpenPose JSON, in pixels of the detect_resolution canvas.
"""

import json
import tempfile
from typing import Optional

import cv2
import numpy as np
from cog import BaseModel, BasePredictor, Input, Path
from PIL import Image, UnidentifiedImageError

from annotator.dwpose import DWposeDetector, PoseMapOptions, load_image

# Photos above PIL's own decompression-bomb limit (about 89 megapixels) are refused before decoding.
MAX_INPUT_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


class Output(BaseModel):
    """The files of one prediction; the ones not asked for are None."""

    npz: Optional[Path] = None
    pose_map: Optional[Path] = None
    overlay: Optional[Path] = None
    json: Optional[Path] = None


def load_photo(path) -> np.ndarray:
    """The photo at `path` as the library's loader reads it (an RGB uint8 array, upright, 16-bit images scaled
    to 8 bits), or ValueError saying why not in the service's words: not an image, truncated, or too big
    (checked from the header, before decoding)."""
    try:
        return load_image(path, max_pixels=MAX_INPUT_PIXELS)
    except Image.DecompressionBombError as err:
        raise ValueError(f"the image is too big to decode safely ({err}); send a smaller image") from None
    except UnidentifiedImageError:
        raise ValueError("the file is not an image PIL can read (JPEG, PNG, WebP, ...)") from None
    except OSError as err:  # truncated or corrupt data
        raise ValueError(f"the image file is truncated or corrupt ({err})") from None


def overlay(photo: np.ndarray, pose_map: np.ndarray) -> np.ndarray:
    """The pose map's skeleton drawn over `photo` resized to the map's size (non-black map pixels win)."""
    height, width = pose_map.shape[:2]
    interpolation = cv2.INTER_AREA if width < photo.shape[1] else cv2.INTER_LANCZOS4
    background = cv2.resize(photo, (width, height), interpolation=interpolation)
    return np.where(pose_map.any(axis=2, keepdims=True), pose_map, background)


class Predictor(BasePredictor):
    """DWPose (dw_openpose_full) as a cog model."""

    def setup(self) -> None:
        """Load the detector and pose models once."""
        self.detector = DWposeDetector.from_pretrained()

    def predict(
        self,
        image: Path = Input(description="A photo (JPEG, PNG, WebP, ...)"),
        threshold: float = Input(default=0.3, ge=0, le=1,
                                 description="Minimum keypoint score for a point to be shown (every part)"),
        detect_resolution: int = Input(default=512, ge=64, le=2048,
                                       description="Shorter side the photo is resized to for detection"),
        image_resolution: int = Input(default=512, ge=64, le=2048,
                                      description="Shorter side of the pose map and overlay"),
        include_body: bool = Input(default=True, description="Draw the body"),
        include_hand: bool = Input(default=True, description="Draw the hands"),
        include_face: bool = Input(default=True, description="Draw the face"),
        include_foot: bool = Input(default=False, description="Draw the feet"),
        return_npz: bool = Input(default=True, description="Return the keypoints as an npz file"),
        return_pose_map: bool = Input(default=True, description="Return the pose map PNG"),
        return_overlay: bool = Input(default=True, description="Return the skeleton drawn over the photo"),
        return_json: bool = Input(default=True, description="Return the OpenPose JSON"),
    ) -> Output:
        """Keypoints and pictures of the people in `image`."""
        options = PoseMapOptions(include_body=include_body, include_hand=include_hand, include_face=include_face,
                                 include_foot=include_foot, threshold=threshold)
        photo = load_photo(image)
        pose_map, poses = self.detector.annotate(photo, detect_resolution, image_resolution, options=options)
        out = Path(tempfile.mkdtemp(prefix="dwpose-"))
        result = Output()
        if return_npz:
            result.npz = Path(out / "keypoints.npz")
            poses.save_npz(result.npz, threshold)
        if return_pose_map:
            result.pose_map = Path(out / "pose_map.png")
            Image.fromarray(pose_map).save(result.pose_map)
        if return_overlay:
            result.overlay = Path(out / "overlay.png")
            Image.fromarray(overlay(photo, pose_map)).save(result.overlay)
        if return_json:
            result.json = Path(out / "pose.json")
            result.json.write_text(json.dumps(poses.to_openpose_json(threshold)), encoding="utf-8")
        return result



def openapi_schema() -> dict:
    """The OpenAPI schema cog's server validates inputs with (`cog build` writes it as
    .cog/openapi_schema.json; without Docker, `python predict.py` does): Input and Output from the
    signature of Predictor.predict, read by cog's own inspector, so types and bounds are cog's."""
    from cog import _inspector

    info = _inspector.create_predictor("predict", "Predictor")
    properties, required = {}, []
    for name, field in info.inputs.items():
        prop = {"title": name.replace("_", " ").title(), "x-order": field.order, **field.type.json_type()}
        for key, value in (("description", field.description), ("minimum", field.ge), ("maximum", field.le)):
            if value is not None:
                prop[key] = value
        default = getattr(field.default, "default", field.default)  # a dataclasses.Field or the value
        if default is None or type(default).__name__ == "_MISSING_TYPE":
            required.append(name)
        else:
            prop["default"] = default
        properties[name] = prop
    schemas = {"Input": {"title": "Input", "type": "object", "properties": properties, "required": required},
               "Output": info.output.json_type()}
    return {"openapi": "3.0.2", "info": {"title": "DWPose", "version": "0.1.0"}, "paths": {},
            "components": {"schemas": schemas}}


if __name__ == "__main__":
    import pathlib

    target = pathlib.Path(".cog") / "openapi_schema.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(openapi_schema(), indent=2), encoding="utf-8")
    print(target)
