"""A shifted test set: easy-VQA images degraded deterministically.

The damage mimics what VizWiz photos by blind users show: blur, sensor noise, low
light, partial occlusion and rotation. Each image gets one corruption, chosen from
its id, at a fixed severity; the same sample always gets the same pixels.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from harmony.data.sample import Sample

CORRUPTIONS = ("blur", "noise", "low_light", "occlusion", "rotation")


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def corrupt(image: Image.Image, kind: str, seed: int) -> Image.Image:
    """Apply one corruption to an RGB image."""
    rng = np.random.default_rng(seed)
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=image.width / 24))
    if kind == "noise":
        pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 60, (image.height, image.width, 3))
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if kind == "low_light":
        pixels = np.asarray(image, dtype=np.float32) * 0.3 + rng.normal(0, 8, (image.height, image.width, 3))
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if kind == "occlusion":
        out = image.copy()
        w, h = image.width // 2, image.height // 2
        x, y = int(rng.integers(0, image.width - w)), int(rng.integers(0, image.height - h))
        ImageDraw.Draw(out).rectangle([x, y, x + w, y + h], fill=(128, 128, 128))
        return out
    if kind == "rotation":
        return image.rotate(float(rng.choice([-1, 1]) * rng.uniform(30, 60)), fillcolor=(255, 255, 255))
    raise ValueError(f"unknown corruption {kind!r}; choose from {CORRUPTIONS}")


def shifted(samples: list[Sample]) -> list[Sample]:
    """Copies of ``samples`` with degraded images (PNG bytes), ids suffixed ``~shift``."""
    out, cache = [], {}
    for sample in samples:
        key = (sample.dataset, sample.image_id)
        if key not in cache:
            seed = _seed(f"{sample.dataset}/{sample.image_id}")
            kind = CORRUPTIONS[seed % len(CORRUPTIONS)]
            buffer = io.BytesIO()
            corrupt(sample.load_image(), kind, seed).save(buffer, format="PNG")
            cache[key] = (kind, buffer.getvalue())
        kind, data = cache[key]
        out.append(replace(sample, sample_id=f"{sample.sample_id}~shift", split=f"{sample.split}-shifted",
                           image_path=None, image_bytes=data, metadata={**sample.metadata, "corruption": kind}))
    return out
