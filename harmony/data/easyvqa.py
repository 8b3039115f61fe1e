"""easy-VQA (the ``easy-vqa`` PyPI package): 64x64 shapes, 13 answers.

Splits: ``train`` and ``val`` are carved out of the package's train split by image
(no image in both), ``test`` is the package's test split.
"""

from __future__ import annotations

import numpy as np

from harmony.data._common import finish
from harmony.data.sample import Sample

SPLITS = ("train", "val", "test")
COLORS = frozenset({"red", "green", "blue", "black", "gray", "teal", "brown", "yellow"})
SHAPES = frozenset({"circle", "rectangle", "triangle"})
VAL_FRACTION = 0.1
_VAL_SEED = 20200101


def answer_type(answer: str) -> str:
    """``yes/no``, ``color`` or ``shape``."""
    if answer in ("yes", "no"):
        return "yes/no"
    return "color" if answer in COLORS else "shape"


def _val_image_ids(image_ids: list[int]) -> set[int]:
    unique = np.unique(np.asarray(image_ids))
    rng = np.random.default_rng(_VAL_SEED)
    return set(rng.permutation(unique)[: int(round(len(unique) * VAL_FRACTION))].tolist())


def load_easyvqa(split: str = "test", limit: int | None = None, seed: int = 0,
                 skip_missing_images: bool = False) -> list[Sample]:
    """Load an easy-VQA split as :class:`Sample` records."""
    import easy_vqa

    if split not in SPLITS:
        raise ValueError(f"easy-VQA split must be one of {SPLITS}, got {split!r}")
    source = "test" if split == "test" else "train"
    if source == "test":
        questions, answers, image_ids = easy_vqa.get_test_questions()
        paths = easy_vqa.get_test_image_paths()
    else:
        questions, answers, image_ids = easy_vqa.get_train_questions()
        paths = easy_vqa.get_train_image_paths()
    keep = (lambda i: True) if source == "test" else (
        (lambda i, v=_val_image_ids(image_ids): (i in v) == (split == "val")))
    samples = [
        Sample(
            sample_id=f"easyvqa-{source}-{index}",
            dataset="easyvqa",
            split=split,
            question=question,
            answers=(answer,),
            answer_type=answer_type(answer),
            image_id=f"{source}/{image_id}",
            image_path=paths.get(image_id),
        )
        for index, (question, answer, image_id) in enumerate(zip(questions, answers, image_ids))
        if keep(image_id)
    ]
    return finish(samples, limit, seed, skip_missing_images, "easyvqa")
