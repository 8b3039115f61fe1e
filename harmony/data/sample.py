"""The one record type every dataset loader returns."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class Sample:
    """One visual question with its reference answers.

    ``image_id`` identifies the picture within its dataset and split; splits that
    must not share images group by ``(dataset, image_id)``.
    """

    sample_id: str
    dataset: str
    split: str
    question: str
    answers: tuple[str, ...]
    answer_type: str
    image_id: str
    image_path: str | None = None
    image_bytes: bytes | None = field(default=None, repr=False)
    metadata: dict = field(default_factory=dict, compare=False)

    def load_image(self) -> Image.Image:
        """Open the image as RGB, from bytes when present, else from its path."""
        source = io.BytesIO(self.image_bytes) if self.image_bytes is not None else self.image_path
        if source is None:
            raise ValueError(f"sample {self.sample_id} has neither image bytes nor an image path")
        with Image.open(source) as image:
            return image.convert("RGB")

    @property
    def has_image_file(self) -> bool:
        return self.image_bytes is not None or (self.image_path is not None and Path(self.image_path).is_file())
