"""Dataset loaders: each returns a list of :class:`Sample` records."""

from __future__ import annotations

from pathlib import Path

from harmony.data.aokvqa import load_aokvqa
from harmony.data.easyvqa import load_easyvqa
from harmony.data.pathvqa import load_pathvqa
from harmony.data.sample import Sample
from harmony.data.vizwiz import load_vizwiz

DATASETS = ("easyvqa", "aokvqa", "vizwiz", "pathvqa")


def load_dataset(name: str, split: str, root: str | Path | None = None, limit: int | None = None,
                 seed: int = 0, **options) -> list[Sample]:
    """Load any supported dataset by name; all but easy-VQA need ``root``."""
    if name == "easyvqa":
        return load_easyvqa(split, limit=limit, seed=seed, **options)
    loaders = {"aokvqa": load_aokvqa, "vizwiz": load_vizwiz, "pathvqa": load_pathvqa}
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    if root is None:
        raise ValueError(f"dataset {name!r} needs --data-root: the directory holding its official files")
    return loaders[name](root, split, limit=limit, seed=seed, **options)


__all__ = ["DATASETS", "Sample", "load_aokvqa", "load_dataset", "load_easyvqa", "load_pathvqa", "load_vizwiz"]
