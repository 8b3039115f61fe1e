"""PathVQA in both released forms.

- original: ``qas/{split}/{split}_qa.pkl`` (list of {image, question, answer}) with
  ``images/{split}/{image}.jpg``;
- parquet copy: ``**/{split}-*.parquet`` with columns image{bytes,path}, question, answer
  (splits train / validation / test).

A question is *closed* when its answer is yes or no.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from harmony.data._common import finish, require
from harmony.data.sample import Sample
from harmony.errors import DatasetFormatError

SPLITS = ("train", "val", "test")
_PARQUET_SPLIT = {"train": "train", "val": "validation", "test": "test"}


def _answer_type(answer: str) -> str:
    return "closed" if answer.strip().lower() in ("yes", "no") else "open"


def _from_pickle(root: Path, split: str) -> list[Sample]:
    path = root / "qas" / split / f"{split}_qa.pkl"
    if not path.is_file():
        raise DatasetFormatError(f"PathVQA annotation file not found: {path}")
    try:
        with open(path, "rb") as handle:
            records = pickle.load(handle)  # the official release format; we never write pickle
    except Exception as exc:
        raise DatasetFormatError(f"malformed pickle in {path}: {exc}") from exc
    if not isinstance(records, list):
        raise DatasetFormatError(f"{path}: expected a list of question records")
    samples = []
    for index, record in enumerate(records):
        image = str(require(record, "image", path, index))
        answer = str(require(record, "answer", path, index))
        samples.append(Sample(
            sample_id=f"pathvqa-{split}-{index}", dataset="pathvqa", split=split,
            question=str(require(record, "question", path, index)), answers=(answer,),
            answer_type=_answer_type(answer), image_id=image,
            image_path=str(root / "images" / split / f"{image}.jpg"),
        ))
    return samples


def _from_parquet(files: list[Path], split: str) -> list[Sample]:
    import pyarrow.parquet as pq

    samples = []
    for path in files:
        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise DatasetFormatError(f"malformed parquet file {path}: {exc}") from exc
        missing = {"image", "question", "answer"} - set(table.column_names)
        if missing:
            raise DatasetFormatError(f"{path}: missing column(s) {sorted(missing)}")
        for index, row in enumerate(table.to_pylist()):
            image = row["image"]
            if not isinstance(image, dict) or image.get("bytes") is None:
                raise DatasetFormatError(f"{path}: record {index} has no image bytes in the field 'image'")
            answer = str(row["answer"])
            name = image.get("path") or f"{path.stem}-{index}"
            samples.append(Sample(
                sample_id=f"pathvqa-{split}-{path.stem}-{index}", dataset="pathvqa", split=split,
                question=str(row["question"]), answers=(answer,), answer_type=_answer_type(answer),
                image_id=str(name), image_bytes=image["bytes"],
            ))
    return samples


def load_pathvqa(root: str | Path, split: str = "test", limit: int | None = None, seed: int = 0,
                 skip_missing_images: bool = False) -> list[Sample]:
    """Load PathVQA from whichever release form ``root`` holds (pickle first)."""
    if split not in SPLITS:
        raise ValueError(f"PathVQA split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    parquet = sorted(root.rglob(f"{_PARQUET_SPLIT[split]}-*.parquet"))
    if (root / "qas").is_dir() or not parquet:
        samples = _from_pickle(root, split)
    else:
        samples = _from_parquet(parquet, split)
    return finish(samples, limit, seed, skip_missing_images, "pathvqa")
