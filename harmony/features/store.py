"""The on-disk feature store: sharded safetensors, a JSONL index, a JSON manifest.

Layout::

    store/
      manifest.json                 model, layers, prompt, generation settings, versions
      index-<part>.jsonl            one row per sample (one file per writer process)
      shards/<part>-<n>.safetensors token features of a run of samples

Per shard, token arrays are concatenated over samples; ``offsets[i]:offsets[i+1]``
are sample ``i``'s tokens. Hidden states are fp16, probabilities fp32.

Writes are crash-safe: a shard is written under a temporary name and renamed,
then its index rows are appended and flushed. A crash loses at most the shard
being written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from harmony.errors import FeatureStoreError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Fields of the manifest that must match for two runs to share a store.
COMPATIBILITY_KEYS = ("model", "model_fingerprint", "layers", "prompt_template", "generation")

TOKEN_ARRAYS = ("token_ids", "token_prob", "max_prob", "entropy", "topk_probs", "hidden")
SAMPLE_ARRAYS = ("image_mean", "question_mean")


@dataclass
class SampleFeatures:
    """Everything captured for one sample while the VLM answered it."""

    sample_id: str
    answer: str
    token_ids: np.ndarray      # [T] int64, generated tokens up to and including EOS
    token_prob: np.ndarray     # [T] fp32, probability of the chosen token
    max_prob: np.ndarray       # [T] fp32, max probability over the vocabulary
    entropy: np.ndarray        # [T] fp32, entropy of the next-token distribution (nats)
    topk_probs: np.ndarray     # [T, k] fp32
    hidden: np.ndarray         # [T, n_layers, H] fp16, states that produced each token
    image_mean: np.ndarray     # [n_layers, H] fp16, mean over image-token positions
    question_mean: np.ndarray  # [n_layers, H] fp16, mean over question-token positions
    embeddings: dict[int, np.ndarray] = field(default_factory=dict)  # token id -> input embedding row
    record: dict = field(default_factory=dict)  # index metadata (question, references, scores, ...)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def check_compatible(existing: dict, wanted: dict, root: Path) -> None:
    """Refuse to mix runs of different models, layers, prompts or generation settings."""
    for key in COMPATIBILITY_KEYS:
        if existing.get(key) != wanted.get(key):
            raise FeatureStoreError(
                f"the feature store {root} was made with {key}={existing.get(key)!r}, this run uses "
                f"{wanted.get(key)!r}; use another --out directory or the same settings")


def prepare_store(root: str | Path, manifest: dict) -> set[str]:
    """Create the store or check that it matches ``manifest``; returns the ids already in it."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if manifest_path.is_file():
        check_compatible(json.loads(manifest_path.read_text()), manifest, root)
        return {r["sample_id"] for r in FeatureStore(root).all_rows}
    if root.exists() and any(root.iterdir()):
        raise FeatureStoreError(f"{root} exists, is not empty and is not a feature store; choose another --out")
    (root / "shards").mkdir(parents=True, exist_ok=True)
    _atomic_write_text(manifest_path, json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2))
    return set()


class StoreWriter:
    """Appends shards and index rows for one writer process (``part``) of a prepared store."""

    def __init__(self, root: str | Path, part: str = "main", shard_size: int = 256):
        self.root = Path(root)
        self.part = part
        self.shard_size = shard_size
        self._pending: list[SampleFeatures] = []
        self._failed: list[dict] = []
        existing = sorted((self.root / "shards").glob(f"{part}-*.safetensors"))
        self._next_shard = 1 + max((int(p.stem.rsplit("-", 1)[1]) for p in existing), default=-1)

    def add(self, features: SampleFeatures) -> None:
        self._pending.append(features)
        if len(self._pending) >= self.shard_size:
            self.flush()

    def add_failure(self, record: dict, reason: str) -> None:
        """Record a sample that could not be processed; it is written with the next flush."""
        self._failed.append({**record, "status": "failed", "error": reason})

    def flush(self) -> None:
        rows = list(self._failed)
        if self._pending:
            name = f"{self.part}-{self._next_shard:05d}.safetensors"
            self._write_shard(self.root / "shards" / name, self._pending)
            for row, sample in enumerate(self._pending):
                rows.append({**sample.record, "sample_id": sample.sample_id, "answer": sample.answer,
                             "num_tokens": int(len(sample.token_ids)), "shard": name, "row": row,
                             "status": "ok"})
            self._next_shard += 1
        if rows:
            with open(self.root / f"index-{self.part}.jsonl", "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in rows)
                handle.flush()
                os.fsync(handle.fileno())
        self._pending, self._failed = [], []

    @staticmethod
    def _write_shard(path: Path, samples: list[SampleFeatures]) -> None:
        lengths = [len(s.token_ids) for s in samples]
        embeddings = {}
        for s in samples:
            embeddings.update(s.embeddings)
        ids = np.array(sorted(embeddings), dtype=np.int64)
        tensors = {
            "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            **{name: np.concatenate([getattr(s, name) for s in samples]) for name in TOKEN_ARRAYS},
            **{name: np.stack([getattr(s, name) for s in samples]) for name in SAMPLE_ARRAYS},
            "embedding_ids": ids,
            "embedding_rows": np.stack([embeddings[i] for i in ids.tolist()]).astype(np.float16),
        }
        tmp = path.with_name(path.name + ".tmp")
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
        os.replace(tmp, path)


class FeatureStore:
    """Read access to a feature store; samples appear in dataset order (``position``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        manifest_path = self.root / MANIFEST
        if not manifest_path.is_file():
            raise FeatureStoreError(f"{self.root} is not a feature store: {MANIFEST} is missing")
        self.manifest = json.loads(manifest_path.read_text())
        rows: dict[str, dict] = {}
        for index_file in sorted(self.root.glob("index-*.jsonl")):
            with open(index_file, encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        row = json.loads(line)
                        rows.setdefault(row["sample_id"], row)
        self.all_rows = sorted(rows.values(), key=lambda r: (r.get("position", 0), r["sample_id"]))
        self.rows = [r for r in self.all_rows if r["status"] == "ok"]
        self._cache: dict[str, dict[str, np.ndarray]] = {}

    # -- metadata -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    @property
    def sample_ids(self) -> list[str]:
        return [r["sample_id"] for r in self.rows]

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.all_rows if r["status"] != "ok"]

    @property
    def layers(self) -> list[int]:
        return list(self.manifest["layers"])

    def column(self, name: str) -> np.ndarray:
        return np.array([r[name] for r in self.rows])

    @property
    def labels(self) -> np.ndarray:
        return self.column("label").astype(np.int64)

    @property
    def soft_scores(self) -> np.ndarray:
        return self.column("soft_score").astype(np.float64)

    def subset(self, sample_ids) -> "FeatureStore":
        """A view restricted to ``sample_ids`` (order of the store kept)."""
        wanted = set(sample_ids)
        view = object.__new__(FeatureStore)
        view.root, view.manifest, view._cache = self.root, self.manifest, self._cache
        view.all_rows = [r for r in self.all_rows if r["sample_id"] in wanted]
        view.rows = [r for r in view.all_rows if r["status"] == "ok"]
        return view

    # -- arrays ---------------------------------------------------------------
    def _shard(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._cache:
            path = self.root / "shards" / name
            if not path.is_file():
                raise FeatureStoreError(f"shard {path} listed in the index is missing")
            with safe_open(str(path), framework="numpy") as handle:
                self._cache[name] = {key: handle.get_tensor(key) for key in handle.keys()}
        return self._cache[name]

    def sample(self, i: int) -> dict[str, np.ndarray]:
        """Arrays of the ``i``-th sample (token arrays sliced to its tokens)."""
        row = self.rows[i]
        shard = self._shard(row["shard"])
        start, end = shard["offsets"][row["row"]], shard["offsets"][row["row"] + 1]
        out = {name: shard[name][start:end] for name in TOKEN_ARRAYS}
        out.update({name: shard[name][row["row"]] for name in SAMPLE_ARRAYS})
        return out

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for i in range(len(self)):
            yield self.sample(i)

    def token_embeddings(self) -> dict[int, np.ndarray]:
        """Input-embedding rows of every token the store's answers contain."""
        table: dict[int, np.ndarray] = {}
        for name in sorted({r["shard"] for r in self.rows}):
            shard = self._shard(name)
            table.update(zip(shard["embedding_ids"].tolist(), shard["embedding_rows"]))
        return table

    def layer_index(self, layer: int) -> int:
        """Position of decoder ``layer`` in the stored hidden-state axis, or a clear error."""
        if layer not in self.layers:
            raise FeatureStoreError(f"the feature store {self.root} has no hidden states at layer {layer}; "
                                    f"it holds layers {self.layers} (re-extract with --layers)")
        return self.layers.index(layer)


class MemoryStore(FeatureStore):
    """Features held in memory (one service request, say), read through the store interface."""

    def __init__(self, manifest: dict, features: list[SampleFeatures]):
        self.root = Path("<memory>")
        self.manifest = manifest
        self._features = features
        self.all_rows = [{**f.record, "sample_id": f.sample_id, "answer": f.answer, "status": "ok"} for f in features]
        self.rows = self.all_rows
        self._cache = {}

    def sample(self, i: int) -> dict[str, np.ndarray]:
        feature = self._features[i]
        return {name: getattr(feature, name) for name in TOKEN_ARRAYS + SAMPLE_ARRAYS}

    def token_embeddings(self) -> dict[int, np.ndarray]:
        table: dict[int, np.ndarray] = {}
        for feature in self._features:
            table.update(feature.embeddings)
        return table
