"""Lightning training shared by every learned scorer: a binary classifier over tensors from the store."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler
from torchmetrics.classification import BinaryAUROC

from harmony.splits import split_images

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Optimisation settings of a learned scorer."""

    max_epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05   # of all steps
    patience: int = 6               # epochs without a better validation AUROC
    seed: int = 0
    devices: int | str = 1
    strategy: str = "auto"
    accelerator: str = "cpu"
    progress: bool = False
    cpu_threads: int = 1            # small networks train fastest on one CPU thread


class TensorDictDataset(Dataset):
    """Rows of a dict of equally long tensors; indexed by a list of rows it returns a whole batch."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self.tensors = tensors
        self.length = len(next(iter(tensors.values())))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index) -> dict[str, torch.Tensor]:
        return {key: value[index] for key, value in self.tensors.items()}


def batch_loader(tensors: dict[str, torch.Tensor], batch_size: int, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """Batches sliced straight out of the tensors (no per-row collation)."""
    dataset = TensorDictDataset(tensors)
    rows = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(rows, batch_size, drop_last=False), batch_size=None)


class TensorDataModule(L.LightningDataModule):
    """Train/val tensors (with ``label``) already read from feature stores."""

    def __init__(self, train: dict[str, torch.Tensor], val: dict[str, torch.Tensor], batch_size: int, seed: int):
        super().__init__()
        self.train, self.val, self.batch_size, self.seed = train, val, batch_size, seed

    def train_dataloader(self):
        return batch_loader(self.train, self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self):
        return batch_loader(self.val, 1024)


class ClassifierModule(L.LightningModule):
    """BCE with class-imbalance weighting, AdamW with linear warmup then cosine decay; AUROC per stage."""

    def __init__(self, network: nn.Module, settings: TrainSettings, pos_weight: float, total_steps: int):
        super().__init__()
        self.network = network
        self.settings, self.total_steps = settings, total_steps
        self.register_buffer("pos_weight", torch.tensor(float(pos_weight)))
        self.train_auroc, self.val_auroc = BinaryAUROC(), BinaryAUROC()

    def _common_step(self, batch, stage: str, metric: BinaryAUROC):
        logits = self.network(batch)
        labels = batch["label"].float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=self.pos_weight)
        metric.update(torch.sigmoid(logits), batch["label"].long())
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=len(labels))
        self.log(f"{stage}_auroc", metric, prog_bar=True, on_epoch=True, on_step=False)
        return loss

    def training_step(self, batch, batch_idx):
        return self._common_step(batch, "train", self.train_auroc)

    def validation_step(self, batch, batch_idx):
        self._common_step(batch, "val", self.val_auroc)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.network.parameters(), lr=self.settings.lr,
                                      weight_decay=self.settings.weight_decay)
        warmup = max(1, int(self.settings.warmup_fraction * self.total_steps))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, self.total_steps - warmup))))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


class KeepBestWeights(L.Callback):
    """Keeps the network weights of the epoch with the best validation AUROC (in memory, no pickle files)."""

    def __init__(self):
        self.best_auroc = -1.0
        self.best_state = None
        self.best_epoch = -1

    def on_validation_epoch_end(self, trainer, module):
        if trainer.sanity_checking:
            return
        auroc = float(trainer.callback_metrics.get("val_auroc", -1.0))
        if auroc > self.best_auroc:
            self.best_auroc, self.best_epoch = auroc, trainer.current_epoch
            self.best_state = copy.deepcopy(module.network.state_dict())


def fit_classifier(network: nn.Module, train: dict[str, torch.Tensor], val: dict[str, torch.Tensor],
                   settings: TrainSettings) -> dict:
    """Train ``network`` (a batch dict -> logits module) and load its best-validation weights."""
    L.seed_everything(settings.seed, workers=True, verbose=False)
    labels = train["label"].float()
    positives = float(labels.sum())
    pos_weight = (len(labels) - positives) / max(positives, 1.0)
    data = TensorDataModule(train, val, settings.batch_size, settings.seed)
    steps = settings.max_epochs * math.ceil(len(labels) / settings.batch_size)
    module = ClassifierModule(network, settings, pos_weight, steps)
    best = KeepBestWeights()
    trainer = L.Trainer(
        max_epochs=settings.max_epochs, accelerator=settings.accelerator, devices=settings.devices,
        strategy=settings.strategy, logger=False, enable_checkpointing=False, enable_model_summary=False,
        enable_progress_bar=settings.progress, deterministic=True, num_sanity_val_steps=0,
        callbacks=[best, L.pytorch.callbacks.EarlyStopping("val_auroc", mode="max", patience=settings.patience)],
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.cpu_threads)
    try:
        trainer.fit(module, datamodule=data)
    finally:
        torch.set_num_threads(threads)
    if best.best_state is not None:
        network.load_state_dict(best.best_state)
    network.eval()
    return {"best_val_auroc": best.best_auroc, "best_epoch": best.best_epoch, "epochs": trainer.current_epoch}


@torch.no_grad()
def predict_proba(network: nn.Module, tensors: dict[str, torch.Tensor], batch_size: int = 1024) -> np.ndarray:
    """Sigmoid outputs of ``network`` over the rows of ``tensors`` (one call when they fit one batch)."""
    if network.training:
        network.eval()
    rows = len(next(iter(tensors.values())))
    batches = [tensors] if rows <= batch_size else batch_loader(tensors, batch_size)
    return torch.cat([torch.sigmoid(network(batch)) for batch in batches]).numpy().astype(np.float64)


def split_by_image(store, fraction: float = 0.1, seed: int = 0):
    """Split a store into (train, val) views with no image in both."""
    train_ids, _, val_ids = split_images(store, (1 - fraction, 0.0, fraction), seed)
    return store.subset(train_ids), store.subset(val_ids)
