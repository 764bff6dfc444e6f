"""Importing this package registers every preprocessor, in the real package's order (model-free ones,
then the legacy ones); the real one star-imports each module."""

from .model_free_preprocessors import PreprocessorNone
from .legacy.legacy_preprocessors import LegacyPreprocessor

__all__ = ["LegacyPreprocessor", "PreprocessorNone"]
