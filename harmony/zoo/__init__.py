"""The embedded tiny VLMs, trained on easy-VQA by ``python -m harmony.zoo.train``."""

from __future__ import annotations

from pathlib import Path

CHECKPOINTS = Path(__file__).parent / "checkpoints"
EMBEDDED = ("tiny-llava", "tiny-instructblip")


def embedded_path(name: str) -> Path:
    """The checkpoint directory of an embedded model."""
    if name not in EMBEDDED:
        raise KeyError(f"{name!r} is not an embedded model; embedded: {', '.join(EMBEDDED)}")
    return CHECKPOINTS / name
