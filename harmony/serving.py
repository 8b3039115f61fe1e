"""What the service needs from the library: configuration, input checks and the answer/score engine.

Kept out of ``serve/service.py`` so it is importable and testable without BentoML.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from harmony.zoo import CHECKPOINTS

ABSTAIN_MESSAGE = "I am not confident enough to answer this question."
MAX_TEXT_CHARS = 1000
DEFAULT_MAX_PIXELS = 4096 * 4096
SCORERS = CHECKPOINTS.parent / "scorers"
CALIBRATION_FILE = "calibration.json"


class BadInput(ValueError):
    """A client error; the message names the problem and is safe to return."""


@dataclass
class ServiceConfig:
    """Read from ``HARMONY_*`` environment variables."""

    model: str = "tiny-llava"
    scorer_dir: str | None = None    # default: the packaged HARMONY scorer of an embedded model
    device: str | None = None
    threshold: float | None = None   # overrides the calibrated threshold
    max_pixels: int = DEFAULT_MAX_PIXELS
    batching: bool = True

    @classmethod
    def from_env(cls) -> "ServiceConfig":
        env = os.environ
        threshold = env.get("HARMONY_THRESHOLD")
        return cls(model=env.get("HARMONY_MODEL", "tiny-llava"), scorer_dir=env.get("HARMONY_SCORER_DIR"),
                   device=env.get("HARMONY_DEVICE"), threshold=float(threshold) if threshold else None,
                   max_pixels=int(env.get("HARMONY_MAX_PIXELS", DEFAULT_MAX_PIXELS)),
                   batching=env.get("HARMONY_BATCHING", "1") not in ("0", "false", "no"))

    def resolved_scorer_dir(self) -> Path:
        path = Path(self.scorer_dir) if self.scorer_dir else SCORERS / self.model
        if not (path / "scorer.json").is_file():
            raise FileNotFoundError(f"no scorer at {path}; set HARMONY_SCORER_DIR to a directory written by "
                                    f"`harmony fit` (and `harmony calibrate`)")
        return path

    def describe(self) -> dict:
        """What GET /info reports: model, scorer, threshold, target risk and calibration figures."""
        scorer = json.loads((self.resolved_scorer_dir() / "scorer.json").read_text())
        calibration = self.calibration()
        return {"model": self.model, "scorer": calibration.get("scorer", scorer["kind"]),
                "scorer_dir": str(self.resolved_scorer_dir()), "threshold": float(calibration["threshold"]),
                "target_risk": calibration.get("alpha"), "delta": calibration.get("delta"),
                "calibration": calibration, "batching": self.batching, "device": self.device or "auto"}

    def calibration(self) -> dict:
        path = self.resolved_scorer_dir() / CALIBRATION_FILE
        calibration = json.loads(path.read_text()) if path.is_file() else {}
        if self.threshold is not None:
            calibration = {**calibration, "threshold": self.threshold, "source": "HARMONY_THRESHOLD"}
        if "threshold" not in calibration:
            raise FileNotFoundError(f"{path} is missing: run `harmony calibrate` or set HARMONY_THRESHOLD")
        return calibration


def check_text(text: str | None, field: str) -> str:
    """A stripped question or answer, or :class:`BadInput` naming what is wrong with it."""
    if text is None:
        raise BadInput(f"the field '{field}' is missing")
    text = text.strip()
    if not text:
        raise BadInput(f"the {field} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BadInput(f"the {field} has {len(text)} characters; at most {MAX_TEXT_CHARS} are allowed")
    return text


def decode_image(data: bytes | None, max_pixels: int) -> Image.Image:
    """An RGB image from uploaded bytes, or :class:`BadInput` naming what is wrong."""
    if not data:
        raise BadInput("the field 'image' is missing or empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise BadInput(f"the image is {width}x{height} = {width * height} pixels; at most {max_pixels} "
                               f"are allowed")
            probe.load()
            return probe.convert("RGB")
    except BadInput:
        raise
    except Image.DecompressionBombError:
        raise BadInput(f"the image exceeds the pixel limit of {max_pixels}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        kind = "truncated or corrupt" if "truncated" in str(exc).lower() or isinstance(exc, SyntaxError) \
            else "not a readable image"
        raise BadInput(f"the image is {kind} ({type(exc).__name__})") from None


def to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Engine:
    """Loads the VLM adapter and scorer once; answers and scores batches of decoded requests."""

    def __init__(self, config: ServiceConfig):
        from harmony.features.capture import num_decoder_layers
        from harmony.features.extract import make_manifest
        from harmony.scorers import Scorer
        from harmony.vlm import load_vlm

        self.config = config
        self.adapter = load_vlm(config.model, device=config.device)
        self.scorer = Scorer.load(config.resolved_scorer_dir())
        self.calibration = config.calibration()
        self.threshold = float(self.calibration["threshold"])
        self.layers = self.scorer.fitted_layers() or [num_decoder_layers(self.adapter)]
        self.manifest = make_manifest(self.adapter, self.layers, 0, {})

    def _reliability(self, features) -> list[float]:
        from harmony.features import MemoryStore

        return self.scorer.score(MemoryStore(self.manifest, features)).tolist()

    def answer(self, images: list[Image.Image], questions: list[str], max_new_tokens: list[int],
               with_score: bool = True) -> list[dict]:
        """Answers from one generate call; reliabilities from the features of that same call.

        ``with_score=False`` runs plain generation (no capture, no scorer): the baseline
        the latency benchmark compares against.
        """
        from harmony.features.capture import answer_lengths, capture_batch

        if not with_score:
            batch = self.adapter.encode(images, questions)
            out = self.adapter.generate(batch, max_new_tokens=max(max_new_tokens), capture=False)
            generated = out.sequences[:, batch.input_ids.shape[1]:]
            lengths = answer_lengths(generated, self.adapter.eos_token_ids).tolist()
            answers = [self.adapter.decode(ids[:min(length, limit)])
                       for ids, length, limit in zip(generated.tolist(), lengths, max_new_tokens)]
            return [self._decision(answer, None, False) for answer in answers]
        features = capture_batch(self.adapter, images, questions, self.layers, max_new_tokens=max(max_new_tokens))
        for feature, limit in zip(features, max_new_tokens):  # a request's own token limit
            if len(feature.token_ids) > limit:
                for name in ("token_ids", "token_prob", "max_prob", "entropy", "topk_probs", "hidden"):
                    setattr(feature, name, getattr(feature, name)[:limit])
                feature.answer = self.adapter.decode(feature.token_ids.tolist())
        return [self._decision(f.answer, r, True) for f, r in zip(features, self._reliability(features))]

    def score(self, images: list[Image.Image], questions: list[str], answers: list[str]) -> list[float]:
        """Reliability of given answers, from one teacher-forced forward pass."""
        from harmony.features.capture import capture_teacher_forced

        features = capture_teacher_forced(self.adapter, images, questions, answers, self.layers)
        for feature in features:
            # Scorers learned from greedy answers, where each token's MaxProb is its own probability;
            # a given answer's tokens are judged by their own probability in that slot.
            feature.max_prob = feature.token_prob
        return self._reliability(features)

    def _decision(self, answer: str, reliability: float | None, scored: bool) -> dict:
        abstained = scored and not reliability >= self.threshold
        return {"answer": ABSTAIN_MESSAGE if abstained else answer, "reliability": reliability,
                "abstained": abstained, "threshold": self.threshold}
