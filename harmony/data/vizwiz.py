"""VizWiz VQA: ``{split}.json`` (flat or under ``Annotations/``), images in ``{split}/``."""

from __future__ import annotations

from pathlib import Path

from harmony.data._common import finish, read_json, require
from harmony.data.sample import Sample
from harmony.errors import DatasetFormatError

SPLITS = ("train", "val", "test")


def _annotation_path(root: Path, split: str) -> Path:
    for candidate in (root / f"{split}.json", root / "Annotations" / f"{split}.json"):
        if candidate.is_file():
            return candidate
    raise DatasetFormatError(
        f"VizWiz annotation file not found: looked for {root / f'{split}.json'} "
        f"and {root / 'Annotations' / f'{split}.json'}")


def load_vizwiz(root: str | Path, split: str = "val", limit: int | None = None, seed: int = 0,
                skip_missing_images: bool = False) -> list[Sample]:
    """Load VizWiz VQA; test records carry no answers."""
    if split not in SPLITS:
        raise ValueError(f"VizWiz split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    path = _annotation_path(root, split)
    records = read_json(path)
    if not isinstance(records, list):
        raise DatasetFormatError(f"{path}: expected a list of question records")
    samples = []
    for index, record in enumerate(records):
        image = require(record, "image", path, index)
        question = require(record, "question", path, index)
        raw_answers = record.get("answers", []) if split == "test" else require(record, "answers", path, index)
        try:
            answers = tuple(a["answer"] for a in raw_answers)
        except (TypeError, KeyError) as exc:
            raise DatasetFormatError(f"{path}: record {index} has an answer without the field 'answer'") from exc
        samples.append(Sample(
            sample_id=f"vizwiz-{Path(image).stem}",
            dataset="vizwiz",
            split=split,
            question=question,
            answers=answers,
            answer_type=record.get("answer_type", "unknown"),
            image_id=Path(image).stem,
            image_path=str(root / split / image),
            metadata={"answerable": record.get("answerable"),
                      "answer_confidence": [a.get("answer_confidence") for a in raw_answers]},
        ))
    return finish(samples, limit, seed, skip_missing_images, "vizwiz")
