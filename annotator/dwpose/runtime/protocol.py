"""What the models need of a session, so that onnxruntime's InferenceSession and OpenVINOSession both fit."""

from __future__ import annotations

from typing import Mapping, Optional, Protocol, Sequence, Union

import numpy as np


class TensorInfo(Protocol):
    """A model input or output, as onnxruntime's NodeArg describes it."""

    @property
    def name(self) -> str: ...

    @property
    def shape(self) -> Sequence[Union[int, str, None]]:
        """Sides: an int where fixed, a name (or None) where dynamic."""

    @property
    def type(self) -> str:
        """e.g. 'tensor(float)', 'tensor(int64)'."""


class ModelSession(Protocol):
    """A loaded model: onnxruntime.InferenceSession, or runtime.openvino.OpenVINOSession for bf16."""

    def run(self, output_names: Optional[Sequence[str]], input_feed: Mapping[str, np.ndarray]) -> list:
        """The outputs named (all when None) as numpy arrays, for inputs given by name."""

    def get_inputs(self) -> Sequence[TensorInfo]: ...

    def get_outputs(self) -> Sequence[TensorInfo]: ...

    def get_providers(self) -> list:
        """Where it runs, best first, e.g. ['CPUExecutionProvider']."""
