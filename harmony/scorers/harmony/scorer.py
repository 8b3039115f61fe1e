"""HARMONY (arXiv 2510.22171): fuses answer text, MaxProb and hidden states with a small transformer."""

from __future__ import annotations

import numpy as np
import torch

from harmony.features.store import FeatureStore
from harmony.scorers.base import Scorer
from harmony.scorers.harmony.network import HarmonyNetwork
from harmony.scorers.inputs import token_sequences
from harmony.scorers.training import TrainSettings, fit_classifier, predict_proba, split_by_image

INPUTS = ("text", "prob", "hidden", "image", "question")


class HarmonyScorer(Scorer):
    """The HARMONY estimator; ``use_*`` switches turn inputs off for ablations.

    ``layers=None`` uses every layer the store holds.
    """

    kind = "harmony"
    requires = ("max_prob", "hidden")
    learned = True

    def __init__(self, d_model: int = 64, depth: int = 2, heads: int = 4, dropout: float = 0.1, n_bins: int = 10,
                 max_tokens: int = 12, layers: list[int] | None = None, use_text: bool = True, use_prob: bool = True,
                 use_hidden: bool = True, use_image: bool = True, use_question: bool = True, max_epochs: int = 40,
                 batch_size: int = 128, lr: float = 1e-3, patience: int = 6, seed: int = 0, devices: int | str = 1,
                 strategy: str = "auto", accelerator: str = "cpu", progress: bool = False):
        self.d_model = d_model
        self.depth = depth
        self.heads = heads
        self.dropout = dropout
        self.n_bins = n_bins
        self.max_tokens = max_tokens
        self.layers = layers
        self.use_text = use_text
        self.use_prob = use_prob
        self.use_hidden = use_hidden
        self.use_image = use_image
        self.use_question = use_question
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.seed = seed
        self.devices = devices
        self.strategy = strategy
        self.accelerator = accelerator
        self.progress = progress

    @property
    def name(self) -> str:
        used = [part for part in INPUTS if getattr(self, f"use_{part}")]
        return "harmony" if len(used) == len(INPUTS) else "harmony[" + "+".join(used) + "]"

    def layers_needed(self, store: FeatureStore) -> list[int]:
        if hasattr(self, "layers_"):
            return self.layers_
        return list(self.layers) if self.layers is not None else store.layers

    def fitted_layers(self) -> list[int]:
        return list(self.layers_)

    def _network_args(self, text_dim: int, hidden_dim: int) -> dict:
        return dict(text_dim=text_dim, hidden_dim=hidden_dim, d_model=self.d_model, depth=self.depth,
                    heads=self.heads, dropout=self.dropout, n_bins=self.n_bins, max_tokens=self.max_tokens,
                    **{f"use_{part}": getattr(self, f"use_{part}") for part in INPUTS})

    def _tensors(self, store: FeatureStore, with_labels: bool) -> dict[str, torch.Tensor]:
        arrays = token_sequences(store, self.layers_needed(store), self.max_tokens)
        arrays["prob_bin"] = np.searchsorted(np.asarray(self.bin_edges_), arrays["max_prob"]).astype(np.int64)
        if with_labels:
            arrays["label"] = store.labels
        return {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in arrays.items()}

    def _fit(self, train_store, val_store):
        if not any(getattr(self, f"use_{part}") for part in ("text", "prob", "hidden")):
            raise ValueError("HARMONY needs at least one per-token input: use_text, use_prob or use_hidden")
        if val_store is None:
            train_store, val_store = split_by_image(train_store, seed=self.seed)
        self.layers_ = self.layers_needed(train_store)
        probs = np.concatenate([s["max_prob"] for s in train_store])
        self.bin_edges_ = np.quantile(probs, np.linspace(0, 1, self.n_bins + 1)[1:-1]).tolist()
        train, val = self._tensors(train_store, True), self._tensors(val_store, True)
        self.text_dim_, self.hidden_dim_ = int(train["text"].shape[-1]), int(train["hidden"].shape[-1])
        self.network_ = HarmonyNetwork(**self._network_args(self.text_dim_, self.hidden_dim_))
        settings = TrainSettings(max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr,
                                 patience=self.patience, seed=self.seed, devices=self.devices,
                                 strategy=self.strategy, accelerator=self.accelerator, progress=self.progress)
        self.training_report_ = fit_classifier(self.network_, train, val, settings)

    def _score(self, store):
        return predict_proba(self.network_, self._tensors(store, False))

    def fitted_state(self):
        state, _ = super().fitted_state()
        return ({**state, "layers_": self.layers_, "bin_edges_": self.bin_edges_, "text_dim_": self.text_dim_,
                 "hidden_dim_": self.hidden_dim_}, self.network_.state_dict())

    def load_fitted_state(self, state, tensors):
        super().load_fitted_state(state, tensors)
        self.network_ = HarmonyNetwork(**self._network_args(self.text_dim_, self.hidden_dim_))
        self.network_.load_state_dict(tensors)
        self.network_.eval()
