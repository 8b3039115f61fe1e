"""Exceptions raised by harmony for bad input; each message names the problem."""


class HarmonyError(Exception):
    """Base class of every error harmony raises on purpose."""


class DatasetFormatError(HarmonyError, ValueError):
    """A dataset file is missing, malformed, or a record lacks a field."""


class ModelLoadError(HarmonyError, ValueError):
    """A VLM name is unknown or a checkpoint directory is unusable."""


class FeatureStoreError(HarmonyError, ValueError):
    """A feature store is incompatible, incomplete or lacks a feature."""
