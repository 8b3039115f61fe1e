"""Learned baselines on one hidden-state vector per answer: SAPLMA and a linear probe."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from harmony.features.store import FeatureStore
from harmony.scorers.base import Scorer
from harmony.scorers.inputs import answer_hidden
from harmony.scorers.training import TrainSettings, fit_classifier, predict_proba, split_by_image


class Standardize(nn.Module):
    """Fixed per-feature standardisation fitted on the training set."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, x: torch.Tensor) -> "Standardize":
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp(min=1e-4))
        return self

    def forward(self, x):
        return (x - self.mean) / self.std


class VectorClassifier(nn.Module):
    """Standardise, then an MLP (``hidden_sizes``) or a linear map (no hidden sizes) to one logit."""

    def __init__(self, dim: int, hidden_sizes: tuple[int, ...] = (), dropout: float = 0.0):
        super().__init__()
        self.standardize = Standardize(dim)
        layers, width = [], dim
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.layers = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, batch) -> torch.Tensor:
        return self.layers(self.standardize(batch["x"])).squeeze(-1)


class _HiddenVectorScorer(Scorer):
    """Shared fit/score for scorers reading one pooled hidden vector at one layer."""

    requires = ("hidden",)
    learned = True
    name_params = ("layer",)
    pooling: str
    hidden_sizes: tuple[int, ...]

    default_lr: float

    def __init__(self, layer: int | None = None, max_epochs: int = 40, lr: float | None = None,
                 weight_decay: float = 0.01, seed: int = 0):
        self.layer = layer
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed

    def layers_needed(self, store: FeatureStore) -> list[int]:
        return [self._layer(store)]

    def fitted_layers(self) -> list[int]:
        return [self.layer_]

    def _layer(self, store: FeatureStore) -> int:
        if hasattr(self, "layer_"):
            return self.layer_
        return self.layer if self.layer is not None else store.layers[0]

    def _tensors(self, store: FeatureStore, with_labels: bool) -> dict[str, torch.Tensor]:
        tensors = {"x": torch.from_numpy(answer_hidden(store, self._layer(store), self.pooling))}
        if with_labels:
            tensors["label"] = torch.from_numpy(store.labels)
        return tensors

    def _fit(self, train_store, val_store):
        if val_store is None:
            train_store, val_store = split_by_image(train_store, seed=self.seed)
        self.layer_ = self._layer(train_store)
        train, val = self._tensors(train_store, True), self._tensors(val_store, True)
        self.network_ = VectorClassifier(train["x"].shape[1], self.hidden_sizes, dropout=0.1 if self.hidden_sizes else 0.0)
        self.network_.standardize.fit(train["x"])
        settings = TrainSettings(max_epochs=self.max_epochs, lr=self.lr if self.lr is not None else self.default_lr,
                                 weight_decay=self.weight_decay, seed=self.seed)
        self.training_report_ = fit_classifier(self.network_, train, val, settings)

    def _score(self, store):
        return predict_proba(self.network_, self._tensors(store, False))

    def fitted_state(self):
        state, _ = super().fitted_state()
        return ({**state, "layer_": self.layer_, "input_dim_": int(self.network_.standardize.mean.shape[0])},
                self.network_.state_dict())

    def load_fitted_state(self, state, tensors):
        super().load_fitted_state(state, tensors)
        self.network_ = VectorClassifier(state["input_dim_"], self.hidden_sizes)
        self.network_.load_state_dict(tensors)
        self.network_.eval()


class SAPLMA(_HiddenVectorScorer):
    """SAPLMA (Azaria & Mitchell, 2023): an MLP on the last answer token's hidden state at one layer."""

    kind = "saplma"
    pooling = "last"
    hidden_sizes = (256, 128, 64)
    default_lr = 1e-3


class LinearProbe(_HiddenVectorScorer):
    """Logistic regression on the mean hidden state over the answer tokens at one layer."""

    kind = "linear_probe"
    pooling = "mean"
    hidden_sizes = ()
    default_lr = 1e-2  # a convex problem: a larger step converges within the epoch budget
