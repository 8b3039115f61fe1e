"""Splitting a feature store's answers by image, so that no image is in two parts."""

from __future__ import annotations

import numpy as np


def split_images(store, fractions, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Sample ids of (train, val, test) in ``fractions`` of the images, seeded."""
    images = sorted({(r["dataset"], r["image_id"]) for r in store.rows})
    order = np.random.default_rng(seed).permutation(len(images))
    n_train, n_val = int(fractions[0] * len(images)), int(fractions[1] * len(images))
    part = {}
    for rank, index in enumerate(order):
        part[images[index]] = 0 if rank < n_train else (1 if rank < n_train + n_val else 2)
    groups = ([], [], [])
    for row in store.rows:
        groups[part[(row["dataset"], row["image_id"])]].append(row["sample_id"])
    return groups
