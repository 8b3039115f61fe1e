"""One-pass extraction over a dataset into a feature store, as a Lightning ``predict`` run.

``devices``/``num_nodes``/``strategy`` spread it over GPUs and nodes: each process
answers its own slice of the samples and writes its own shards and index part.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Sequence

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from torch.utils.data import DataLoader

import harmony
from harmony.correctness import label, soft_score
from harmony.data import Sample
from harmony.features.capture import capture_batch, num_decoder_layers, resolve_layers
from harmony.features.store import FeatureStore, StoreWriter, prepare_store
from harmony.vlm.base import VLMAdapter


def _portable(value):
    """A config dict without path- and version-dependent entries."""
    if isinstance(value, dict):
        return {str(k): _portable(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))
                if not str(k).startswith("_") and k != "transformers_version"}
    return value


def model_fingerprint(adapter: VLMAdapter) -> str:
    """Identifies the weights wherever they lie: the hub commit when known, else a hash of the
    config and of the first and last MiB of each safetensors file of the checkpoint."""
    config = adapter.model.config
    commit = getattr(config, "_commit_hash", None)
    if commit:
        return commit
    digest = hashlib.sha1(json.dumps(_portable(config.to_dict()), sort_keys=True, default=str).encode())
    source = Path(str(getattr(adapter.model, "name_or_path", "") or ""))
    for weights in sorted(source.glob("*.safetensors")) if source.is_dir() else []:
        size = weights.stat().st_size
        with open(weights, "rb") as handle:
            digest.update(str(size).encode() + handle.read(1 << 20))
            handle.seek(max(0, size - (1 << 20)))
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def make_manifest(adapter: VLMAdapter, layers: list[int], max_new_tokens: int, generation: dict) -> dict:
    text = adapter.model.config.get_text_config()
    return {
        "model": adapter.name, "family": adapter.family, "model_fingerprint": model_fingerprint(adapter),
        "layers": layers, "num_layers": num_decoder_layers(adapter), "hidden_size": int(text.hidden_size),
        "prompt_template": adapter.prompt_template,
        "generation": {"max_new_tokens": max_new_tokens, "do_sample": False, **generation},
        "library_version": harmony.__version__,
        "transformers_version": __import__("transformers").__version__,
    }


def _record(sample: Sample, position: int) -> dict:
    return {"sample_id": sample.sample_id, "position": position, "dataset": sample.dataset,
            "split": sample.split, "question": sample.question, "references": list(sample.answers),
            "answer_type": sample.answer_type, "image_id": sample.image_id}


def _load_images(items: list[tuple[int, Sample]]):
    """Collate: open each image, keeping the error of any that fails."""
    loaded = []
    for position, sample in items:
        try:
            loaded.append((position, sample, sample.load_image(), None))
        except Exception as exc:  # an unreadable image fails its sample, not the run
            loaded.append((position, sample, None, f"{type(exc).__name__}: {exc}"))
    return loaded


class ExtractionModule(L.LightningModule):
    """``predict_step`` answers a batch and returns the features of each sample.

    With several processes each one loads the VLM itself from ``source`` onto its own
    device (``configure_model``); a single process uses the ``adapter`` it was given.
    """

    def __init__(self, source: str, dtype: str, layers: list[int], max_new_tokens: int, generation: dict,
                 adapter: VLMAdapter | None = None):
        super().__init__()
        self.source, self.dtype_name = source, dtype
        self.layers, self.max_new_tokens, self.generation = layers, max_new_tokens, generation
        self.adapter = adapter
        if adapter is not None:
            self.model = adapter.model

    def configure_model(self):
        if self.adapter is None:
            from harmony.vlm import load_vlm

            self.adapter = load_vlm(self.source, device=str(self.trainer.strategy.root_device), dtype=self.dtype_name)
            self.model = self.adapter.model

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch  # samples and PIL images; the adapter moves the encoded tensors itself

    def predict_step(self, batch, batch_idx):
        good = [item for item in batch if item[3] is None]
        failures = [(_record(s, p), err) for p, s, _, err in batch if err is not None]
        features = []
        if good:
            captured = capture_batch(self.adapter, [img for _, _, img, _ in good], [s.question for _, s, _, _ in good],
                                     self.layers, self.max_new_tokens, **self.generation)
            for (position, sample, _, _), feature in zip(good, captured):
                feature.sample_id = sample.sample_id
                score = soft_score(sample.dataset, feature.answer, sample.answers)
                feature.record = {**_record(sample, position), "soft_score": score,
                                  "label": None if score != score else label(score)}
                features.append(feature)
        return features, failures


class SampleSlices(L.LightningDataModule):
    """Gives each process every ``world_size``-th of the pending samples (no padding, no repeats)."""

    def __init__(self, todo: list[tuple[int, Sample]], batch_size: int, num_workers: int):
        super().__init__()
        self.todo, self.batch_size, self.num_workers = todo, batch_size, num_workers

    def predict_dataloader(self):
        mine = self.todo[self.trainer.global_rank::self.trainer.world_size]
        return DataLoader(mine, batch_size=self.batch_size, shuffle=False, collate_fn=_load_images,
                          num_workers=self.num_workers)


class StoreWritingCallback(BasePredictionWriter):
    """Streams each batch's features into this process's part of the store."""

    def __init__(self, root: Path, shard_size: int):
        super().__init__(write_interval="batch")
        self.root, self.shard_size = root, shard_size
        self.writer: StoreWriter | None = None

    def setup(self, trainer, pl_module, stage):
        part = "main" if trainer.world_size == 1 else f"rank{trainer.global_rank}"
        self.writer = StoreWriter(self.root, part=part, shard_size=self.shard_size)

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx):
        features, failures = prediction
        for record, error in failures:
            self.writer.add_failure(record, error)
        for feature in features:
            self.writer.add(feature)

    def on_predict_epoch_end(self, trainer, pl_module):
        self.writer.flush()


def extract(adapter: VLMAdapter, samples: Sequence[Sample], out: str | Path, layers="default",
            batch_size: int = 16, max_new_tokens: int = 10, shard_size: int = 256, num_workers: int = 0,
            devices: int | str = 1, num_nodes: int = 1, strategy="auto", accelerator: str | None = None,
            progress: bool = True, **generation) -> FeatureStore:
    """Answer ``samples`` with ``adapter`` and write their features to the store at ``out``.

    Resumable: samples already in the store are skipped. Returns the finished store.
    """
    out = Path(out)
    layer_list = resolve_layers(layers, num_decoder_layers(adapter))
    manifest = make_manifest(adapter, layer_list, max_new_tokens, generation)
    ids = [s.sample_id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids must be unique")
    done = prepare_store(out, manifest)  # refuses an incompatible store before any work
    todo = [(position, s) for position, s in enumerate(samples) if s.sample_id not in done]
    started = time.time()
    if todo:
        accelerator = accelerator or ("gpu" if adapter.device.type == "cuda" else "cpu")
        trainer = L.Trainer(accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
                            logger=False, enable_progress_bar=progress, use_distributed_sampler=False,
                            callbacks=[StoreWritingCallback(out, shard_size)], enable_model_summary=False)
        several = num_nodes > 1 or devices not in (1, "1", [0])
        module = ExtractionModule(adapter.name, str(adapter.model.dtype).replace("torch.", ""), layer_list,
                                  max_new_tokens, generation, adapter=None if several else adapter)
        trainer.predict(module, datamodule=SampleSlices(todo, batch_size, num_workers), return_predictions=False)
        if trainer.world_size > 1:
            trainer.strategy.barrier()
    store = FeatureStore(out)
    summary = {"store": str(out), "samples": len(store), "failed": len(store.failures), "skipped_existing": len(done),
               "new": len(todo), "seconds": round(time.time() - started, 1)}
    if progress:
        print(json.dumps(summary))
    return store
