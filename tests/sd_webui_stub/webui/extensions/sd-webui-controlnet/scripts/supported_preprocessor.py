"""Stand-in of sd-webui-controlnet's scripts/supported_preprocessor.py (see tests/sd_webui_stub)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, NamedTuple, Optional, Set

import numpy as np

from modules import shared
from scripts.logging import logger
from scripts.utils import ndarray_lru_cache

# --controlnet-preprocessor-cache-size (scripts/controlnet.py's preload adds it with default 16): a cached
# result (same image and arguments) is returned without calling the preprocessor.
CACHE_SIZE = getattr(shared.cmd_opts, "controlnet_preprocessor_cache_size", 16)


@dataclass
class PreprocessorParameter:
    label: str = "EMPTY_LABEL"
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 0.01
    value: float = 0.5
    visible: bool = True

    @property
    def gradio_update_kwargs(self) -> dict:
        return dict(minimum=self.minimum, maximum=self.maximum, step=self.step, label=self.label,
                    value=self.value, visible=self.visible)

    @property
    def api_json(self) -> dict:
        return dict(name=self.label, value=self.value, min=self.minimum, max=self.maximum, step=self.step)


@dataclass
class Preprocessor(ABC):
    name: str
    _label: str = None
    tags: List[str] = field(default_factory=list)
    slider_resolution = PreprocessorParameter(label="Resolution", minimum=64, maximum=2048, value=512, step=8,
                                              visible=True)
    slider_1 = PreprocessorParameter(visible=False)
    slider_2 = PreprocessorParameter(visible=False)
    slider_3 = PreprocessorParameter(visible=False)
    returns_image: bool = True
    show_control_mode = True
    do_not_need_model = False
    sorting_priority = 0
    accepts_mask: bool = False
    requires_mask: bool = False
    corp_image_with_a1111_mask_when_in_img2img_inpaint_tab = True
    fill_mask_with_one_when_resize_and_fill = False
    use_soft_projection_in_hr_fix = False
    expand_mask_when_resize_and_fill = False
    model: Optional[Any] = None  # the real one annotates torch.nn.Module
    device = "cpu"  # the real one: devices.get_device_for("controlnet")

    all_processors: ClassVar[Dict[str, "Preprocessor"]] = {}
    all_processors_by_name: ClassVar[Dict[str, "Preprocessor"]] = {}

    @property
    def label(self) -> str:
        return self._label if self._label is not None else self.name

    @classmethod
    def add_supported_preprocessor(cls, p: "Preprocessor"):
        assert p.label not in cls.all_processors, f"{p.label} already registered!"
        cls.all_processors[p.label] = p
        assert p.name not in cls.all_processors_by_name, f"{p.name} already registered!"
        cls.all_processors_by_name[p.name] = p
        logger.debug(f"{p.name} registered. Total preprocessors ({len(cls.all_processors)}).")

    @classmethod
    def get_preprocessor(cls, name: str) -> Optional["Preprocessor"]:
        return cls.all_processors.get(name, cls.all_processors_by_name.get(name, None))

    @classmethod
    def get_sorted_preprocessors(cls) -> List["Preprocessor"]:
        others = [p for key, p in cls.all_processors.items() if key != "none"]
        return [cls.all_processors["none"]] + sorted(
            others, key=lambda p: str(p.sorting_priority).zfill(8) + p.label, reverse=True)

    @classmethod
    def get_all_preprocessor_tags(cls):
        tags = set()
        for p in cls.all_processors.values():
            tags.update(p.tags)
        return ["All"] + sorted(tags)

    @classmethod
    def get_filtered_preprocessors(cls, tag: str) -> List["Preprocessor"]:
        if tag == "All":
            return cls.all_processors
        return [p for p in cls.get_sorted_preprocessors() if tag in p.tags or p.label == "none"]

    @classmethod
    def get_default_preprocessor(cls, tag: str) -> "Preprocessor":
        found = cls.get_filtered_preprocessors(tag)
        assert len(found) > 0
        return found[0] if len(found) == 1 else found[1]

    @classmethod
    def unload_unused(cls, active_processors: Set["Preprocessor"]):
        for p in cls.all_processors.values():
            if p not in active_processors:
                if p.unload():
                    logger.debug(f"Unload unused preprocessor {p.name}")

    class Result(NamedTuple):
        value: Any
        display_images: List[np.ndarray]

    def cached_call(self, input_image, *args, **kwargs) -> "Preprocessor.Result":
        result = self._cached_call(input_image, *args, **kwargs)
        if isinstance(result, Preprocessor.Result):
            return result
        return Preprocessor.Result(value=result, display_images=[result if self.returns_image else input_image])

    @ndarray_lru_cache(max_size=CACHE_SIZE)
    def _cached_call(self, *args, **kwargs):
        return self(*args, **kwargs)

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return self.__hash__() == other.__hash__()

    @abstractmethod
    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None,
                 **kwargs):
        pass

    def unload(self):
        if self.model is not None:
            if hasattr(self.model, "unload_model"):
                self.model.unload_model()
                return True
            if hasattr(self.model, "to"):
                self.model.to("cpu")
                return True
            raise Exception(f"Unable to unload model {self.model}")
        return False
