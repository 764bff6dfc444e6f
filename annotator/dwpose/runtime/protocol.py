"""What the models need of a session, so that onnxruntime's InferenceSession, OpenVINOSession and
TorchSession all fit."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class PortInfo:
    """A TensorInfo for sessions other than onnxruntime's: a name, a shape (ints, or a str for a dynamic
    dimension), a type."""

    name: str
    shape: list
    type: str = "tensor(float)"


class ModelSession(Protocol):
    """A loaded model: onnxruntime.InferenceSession, runtime.openvino.OpenVINOSession (bf16), or
    runtime.torch_session.TorchSession (the torch backend)."""

    def run(self, output_names: Optional[Sequence[str]], input_feed: Mapping[str, np.ndarray]) -> list:
        """The outputs named (all when None) as numpy arrays, for inputs given by name."""

    def get_inputs(self) -> Sequence[TensorInfo]: ...

    def get_outputs(self) -> Sequence[TensorInfo]: ...

    def get_providers(self) -> list:
        """Where it runs, best first, e.g. ['CPUExecutionProvider']."""
