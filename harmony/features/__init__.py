"""Feature extraction (one generate call per batch) and the on-disk feature store."""

from harmony.features.capture import capture_batch, resolve_layers
from harmony.features.extract import extract
from harmony.features.store import FeatureStore, MemoryStore, SampleFeatures

__all__ = ["FeatureStore", "MemoryStore", "SampleFeatures", "capture_batch", "extract", "resolve_layers"]
