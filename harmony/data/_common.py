"""Helpers shared by the dataset loaders: file reading with clear errors, subsampling."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harmony.data.sample import Sample
from harmony.errors import DatasetFormatError

log = logging.getLogger(__name__)


def read_json(path: Path) -> Any:
    """Parse a JSON file, naming the file in any error."""
    if not path.is_file():
        raise DatasetFormatError(f"annotation file not found: {path}")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"malformed JSON in {path}: {exc}") from exc


def require(record: Any, key: str, path: Path, index: int) -> Any:
    """``record[key]``, or an error naming the file, record index and field."""
    if not isinstance(record, dict):
        raise DatasetFormatError(f"{path}: record {index} is not an object")
    if key not in record:
        raise DatasetFormatError(f"{path}: record {index} is missing the field '{key}'")
    return record[key]


def subsample(items: Sequence, limit: int | None, seed: int) -> list:
    """A deterministic subset of ``limit`` items kept in their original order."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 0:
        raise ValueError(f"limit must be non-negative, got {limit}")
    chosen = np.sort(np.random.default_rng(seed).permutation(len(items))[:limit])
    return [items[i] for i in chosen]


def check_images(samples: list[Sample], skip_missing: bool, dataset: str) -> list[Sample]:
    """Fail on the first missing image, or drop them all and report how many."""
    kept = [s for s in samples if s.has_image_file]
    missing = len(samples) - len(kept)
    if missing and not skip_missing:
        first = next(s for s in samples if not s.has_image_file)
        raise DatasetFormatError(
            f"{dataset}: image not found for sample {first.sample_id}: {first.image_path} "
            f"({missing} missing in all; pass skip_missing_images=True to drop them)"
        )
    if missing:
        log.warning("%s: skipped %d of %d samples whose image is missing", dataset, missing, len(samples))
    return kept


def finish(samples: list[Sample], limit: int | None, seed: int, skip_missing: bool, dataset: str) -> list[Sample]:
    """Subsample, then check images of the chosen samples only."""
    return check_images(subsample(samples, limit, seed), skip_missing, dataset)
