"""Train the embedded tiny VLMs on easy-VQA and write them as ``save_pretrained`` checkpoints.

    python -m harmony.zoo.train --model tiny-llava
    python -m harmony.zoo.train --model tiny-instructblip

The loss covers answer tokens (and EOS) only. After every epoch the model answers a
fixed validation subset; the checkpoint kept is the best epoch whose validation
accuracy stays at or under ``--max-val-accuracy`` (a model that is always right
leaves an uncertainty estimator nothing to detect).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from harmony.correctness import exact_match
from harmony.data import Sample, load_easyvqa
from harmony.vlm.families import InstructBlipAdapter, LlavaAdapter
from harmony.zoo import CHECKPOINTS, EMBEDDED
from harmony.zoo.architectures import TinySize, tiny_instructblip, tiny_llava
from harmony.zoo.tokenizer import build_tokenizer

# builder, adapter, whether the tokenizer carries ``image_token``, size
BUILDERS = {
    "tiny-llava": (tiny_llava, LlavaAdapter, True, TinySize(patch_size=16)),          # 16 image tokens
    "tiny-instructblip": (tiny_instructblip, InstructBlipAdapter, False, TinySize()),  # 16 query tokens
}


@dataclass
class TrainConfig:
    model: str = "tiny-llava"
    epochs: int = 4
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    val_questions: int = 1000       # fixed validation subset answered after each epoch
    max_val_accuracy: float = 0.90  # keep the model imperfect
    train_limit: int | None = None  # for quick runs
    seed: int = 0


class ImageCache:
    """Decoded easy-VQA images, each read once."""

    def __init__(self):
        self._images = {}

    def __call__(self, sample: Sample):
        key = sample.image_path
        if key not in self._images:
            self._images[key] = sample.load_image()
        return self._images[key]


class AnswerTokenLM(L.LightningModule):
    """Trains a VLM with next-token loss on the answer tokens only."""

    def __init__(self, adapter, config: TrainConfig, total_steps: int):
        super().__init__()
        self.adapter = adapter
        self.model = adapter.model
        self.config = config
        self.total_steps = total_steps

    def training_step(self, batch, batch_idx):
        logits = self.model(**self.adapter.forward_inputs(batch["inputs"])).logits[:, :-1].float()
        targets = batch["labels"][:, 1:]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                 ignore_index=-100)
        self.log("train_loss", loss, prog_bar=True, batch_size=targets.shape[0])
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.lr,
                                      weight_decay=self.config.weight_decay)

        def schedule(step: int) -> float:
            if step < self.config.warmup_steps:
                return (step + 1) / self.config.warmup_steps
            progress = (step - self.config.warmup_steps) / max(1, self.total_steps - self.config.warmup_steps)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def answer_accuracy(adapter, samples: list[Sample], images: ImageCache, batch_size: int = 128) -> dict:
    """Greedy answers on ``samples``: overall and per answer type exact-match accuracy."""
    adapter.model.eval()
    hits: dict[str, list[float]] = {}
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        batch = adapter.encode([images(s) for s in chunk], [s.question for s in chunk])
        out = adapter.generate(batch, max_new_tokens=4, capture=False)
        prompt_length = batch.input_ids.shape[1]
        for sample, sequence in zip(chunk, out.sequences):
            score = exact_match(adapter.decode(sequence[prompt_length:]), sample.answers)
            hits.setdefault(sample.answer_type, []).append(score)
            hits.setdefault("overall", []).append(score)
    return {kind: sum(v) / len(v) for kind, v in sorted(hits.items())}


class SelectCheckpoint(L.Callback):
    """After each epoch: validation accuracy; keep the best weights at or under the cap."""

    def __init__(self, adapter, val_samples, images, cap: float):
        self.adapter, self.val_samples, self.images, self.cap = adapter, val_samples, images, cap
        self.history: list[dict] = []
        self.best_state = None
        self.best = None

    def on_train_epoch_end(self, trainer, module):
        accuracy = answer_accuracy(self.adapter, self.val_samples, self.images)
        module.model.train()
        self.history.append({"epoch": trainer.current_epoch, **accuracy})
        print(f"epoch {trainer.current_epoch}: validation accuracy {accuracy}", flush=True)
        eligible = accuracy["overall"] <= self.cap
        if eligible and (self.best is None or accuracy["overall"] > self.best["overall"]):
            self.best = {"epoch": trainer.current_epoch, **accuracy}
            self.best_state = copy.deepcopy(module.model.state_dict())


def probe_report(adapter, samples: list[Sample], seed: int = 0) -> dict:
    """On validation answers: AUROC of MSP and of a linear probe on a middle-layer hidden state, side by side.

    The answers are split by image (70% fit the probe, 30% evaluate both).
    """
    import tempfile

    from harmony.splits import split_images
    from harmony.features import extract
    from harmony.features.capture import num_decoder_layers
    from harmony.metrics import auroc
    from harmony.scorers import LinearProbe, SequenceProbability

    middle = max(1, num_decoder_layers(adapter) // 2)
    with tempfile.TemporaryDirectory() as tmp:
        store = extract(adapter, samples, tmp, layers=[middle], batch_size=64, max_new_tokens=4, progress=False)
        train_ids, _, test_ids = split_images(store, (0.7, 0.0, 0.3), seed)
        train, test = store.subset(train_ids), store.subset(test_ids)
        probe = LinearProbe(layer=middle, seed=seed).fit(train)
        return {"answers": len(store), "evaluated": len(test), "layer": middle,
                "msp_auroc": auroc(SequenceProbability().score(test), test.labels),
                "linear_probe_auroc": auroc(probe.score(test), test.labels)}


def make_collate(adapter, images: ImageCache):
    def collate(samples: list[Sample]):
        batch = adapter.encode([images(s) for s in samples], [s.question for s in samples],
                               answers=[s.answers[0] for s in samples])
        labels = batch.input_ids.masked_fill(~batch.answer_mask, -100)
        return {"inputs": batch.inputs, "labels": labels}
    return collate


def train(config: TrainConfig, out_dir: Path | None = None) -> dict:
    """Train one embedded model and write its checkpoint; returns the training report."""
    if config.model not in BUILDERS:
        raise ValueError(f"--model must be one of {EMBEDDED}")
    L.seed_everything(config.seed, workers=True)
    builder, adapter_class, image_token_attribute, size = BUILDERS[config.model]
    train_samples = load_easyvqa("train", limit=config.train_limit, seed=config.seed)
    val_samples = load_easyvqa("val", limit=config.val_questions, seed=config.seed)
    tokenizer = build_tokenizer([s.question for s in train_samples] + [a for s in train_samples for a in s.answers],
                                image_token_attribute=image_token_attribute)
    model, processor = builder(tokenizer, size)
    adapter = adapter_class(model, processor, name=config.model)
    images = ImageCache()
    loader = DataLoader(train_samples, batch_size=config.batch_size, shuffle=True,
                        collate_fn=make_collate(adapter, images),
                        generator=torch.Generator().manual_seed(config.seed))
    selector = SelectCheckpoint(adapter, val_samples, images, config.max_val_accuracy)
    module = AnswerTokenLM(adapter, config, total_steps=config.epochs * len(loader))
    model.train()
    trainer = L.Trainer(max_epochs=config.epochs, accelerator="cpu", devices=1, callbacks=[selector],
                        logger=False, enable_checkpointing=False, deterministic=True, log_every_n_steps=20)
    started = time.time()
    trainer.fit(module, loader)
    minutes = (time.time() - started) / 60
    if selector.best_state is None:
        raise RuntimeError(f"no epoch stayed at or under --max-val-accuracy {config.max_val_accuracy}: "
                           f"{selector.history}")
    model.load_state_dict(selector.best_state)
    model.eval()
    test_accuracy = answer_accuracy(adapter, load_easyvqa("test"), images)
    signal = probe_report(adapter, load_easyvqa("val"), seed=config.seed)
    report = {"config": asdict(config), "size": asdict(size), "train_minutes": round(minutes, 2),
              "parameters": sum(p.numel() for p in model.parameters()), "history": selector.history,
              "selected": selector.best, "test_accuracy": test_accuracy, "validation_signal": signal}
    out_dir = Path(out_dir) if out_dir is not None else CHECKPOINTS / config.model
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    (out_dir / "training_report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("train_minutes", "parameters", "selected", "test_accuracy",
                                             "validation_signal")}, indent=2))
    print(f"wrote {out_dir}")
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    for field, value in asdict(defaults).items():
        kind = int if field in ("train_limit",) else type(value)
        parser.add_argument(f"--{field.replace('_', '-')}", type=kind, default=value)
    parser.add_argument("--out", type=Path, default=None, help="checkpoint directory (default: inside the package)")
    parser.add_argument("--report-only", action="store_true",
                        help="no training: add the MSP / linear-probe validation report to an existing checkpoint")
    args = vars(parser.parse_args(argv))
    out, report_only = args.pop("out"), args.pop("report_only")
    if report_only:
        add_probe_report(TrainConfig(**args), out)
    else:
        train(TrainConfig(**args), out)


def add_probe_report(config: TrainConfig, out_dir: Path | None = None) -> dict:
    """Compute :func:`probe_report` for a trained checkpoint and store it in its training report."""
    from harmony.vlm import load_vlm

    out_dir = Path(out_dir) if out_dir is not None else CHECKPOINTS / config.model
    report_path = out_dir / "training_report.json"
    report = json.loads(report_path.read_text())
    report["validation_signal"] = probe_report(load_vlm(str(out_dir), device="cpu"), load_easyvqa("val"), config.seed)
    report_path.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["validation_signal"], indent=2))
    return report


if __name__ == "__main__":
    main()
