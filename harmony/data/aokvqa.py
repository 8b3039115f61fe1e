"""A-OKVQA (``aokvqa_v1p0_{split}.json``) with COCO 2017 images."""

from __future__ import annotations

from pathlib import Path

from harmony.data._common import finish, read_json, require
from harmony.data.sample import Sample
from harmony.errors import DatasetFormatError

SPLITS = ("train", "val", "test")


def load_aokvqa(root: str | Path, split: str = "val", coco_dir: str | Path | None = None,
                drop_difficult: bool = False, limit: int | None = None, seed: int = 0,
                skip_missing_images: bool = False) -> list[Sample]:
    """Load A-OKVQA direct-answer questions.

    ``coco_dir`` holds ``{split}2017/{image_id:012d}.jpg`` (default: ``root/coco``).
    ``drop_difficult`` removes ``difficult_direct_answer`` items, as the official
    direct-answer evaluation does.
    """
    if split not in SPLITS:
        raise ValueError(f"A-OKVQA split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    path = root / f"aokvqa_v1p0_{split}.json"
    records = read_json(path)
    if not isinstance(records, list):
        raise DatasetFormatError(f"{path}: expected a list of question records")
    image_dir = Path(coco_dir) if coco_dir is not None else root / "coco"
    samples = []
    for index, record in enumerate(records):
        question_id = require(record, "question_id", path, index)
        image_id = require(record, "image_id", path, index)
        question = require(record, "question", path, index)
        direct = tuple(record.get("direct_answers", ())) if split == "test" else tuple(
            require(record, "direct_answers", path, index))
        if drop_difficult and record.get("difficult_direct_answer", False):
            continue
        samples.append(Sample(
            sample_id=f"aokvqa-{question_id}",
            dataset="aokvqa",
            split=split,
            question=question,
            answers=direct,
            answer_type="direct",
            image_id=str(image_id),
            image_path=str(image_dir / f"{split}2017" / f"{int(image_id):012d}.jpg"),
            metadata={"choices": record.get("choices"), "correct_choice_idx": record.get("correct_choice_idx"),
                      "rationales": record.get("rationales"),
                      "difficult_direct_answer": record.get("difficult_direct_answer", False)},
        ))
    return finish(samples, limit, seed, skip_missing_images, "aokvqa")
