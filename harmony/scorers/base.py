"""The scorer interface shared by HARMONY and every baseline.

Orientation: ``score`` returns **reliability in [0, 1], higher = more reliable**.
LM-Polygraph estimators return uncertainty (higher = worse): convert a bounded
uncertainty ``u`` in [0, 1] with ``1 - u``, an unbounded one with ``exp(-u)``
(see :func:`reliability_from_uncertainty`); both keep the ranking, so AUROC and
PRR are unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from harmony.errors import FeatureStoreError
from harmony.features.store import FeatureStore

CONFIG_FILE = "scorer.json"
WEIGHTS_FILE = "weights.safetensors"
REGISTRY: dict[str, type["Scorer"]] = {}


def reliability_from_uncertainty(uncertainty: np.ndarray, bounded: bool = False) -> np.ndarray:
    """Map an uncertainty (higher = worse) to reliability in [0, 1], monotonically decreasing.

    >>> reliability_from_uncertainty(np.array([0.0, 1.0]))
    array([1.        , 0.36787944])
    >>> reliability_from_uncertainty(np.array([0.2]), bounded=True)
    array([0.8])
    """
    uncertainty = np.asarray(uncertainty, dtype=np.float64)
    return 1.0 - uncertainty if bounded else np.exp(-np.clip(uncertainty, 0.0, None))


class Scorer:
    """Parameters in ``__init__`` (stored verbatim, no work), work in ``fit``.

    Subclasses set ``kind`` (registry key) and ``requires`` (store features they read),
    and implement ``_score``; learned scorers also ``_fit`` and their state hooks.
    """

    kind: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ("token_prob",)
    learned: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            REGISTRY[cls.kind] = cls

    # -- identity --------------------------------------------------------------
    def get_params(self) -> dict:
        import inspect

        parameters = inspect.signature(type(self).__init__).parameters.values()
        return {p.name: getattr(self, p.name) for p in parameters
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    @property
    def name(self) -> str:
        """Unique name including the parameters that set it apart, e.g. ``saplma[layer=2]``."""
        shown = {k: v for k, v in self.get_params().items() if k in getattr(self, "name_params", ()) and v is not None}
        return self.kind + ("[" + ",".join(f"{k}={v}" for k, v in shown.items()) + "]" if shown else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    # -- fit / score ----------------------------------------------------------
    def fit(self, train_store: FeatureStore, val_store: FeatureStore | None = None) -> "Scorer":
        """Learn from ``train_store`` (``val_store`` for selection); training-free scorers ignore both."""
        if self.learned:
            self.check_store(train_store)
            if val_store is not None:
                self.check_store(val_store)
            self.model_fingerprint_ = train_store.manifest.get("model_fingerprint")
            self.model_name_ = train_store.manifest.get("model")
            self._fit(train_store, val_store)
        return self

    def score(self, store: FeatureStore) -> np.ndarray:
        """Reliability of every answer in ``store``, in [0, 1], higher = more reliable."""
        self.check_store(store)
        if self.learned:
            if not hasattr(self, "model_fingerprint_"):
                raise RuntimeError(f"{self.name} is not fitted: call fit(train_store, val_store) first")
            if store.manifest.get("model_fingerprint") != self.model_fingerprint_:
                raise FeatureStoreError(
                    f"{self.name} was trained on features of {self.model_name_!r} and cannot score a store made "
                    f"with {store.manifest.get('model')!r}")
        scores = np.asarray(self._score(store), dtype=np.float64)
        return np.clip(scores, 0.0, 1.0)

    def check_store(self, store: FeatureStore) -> None:
        """Fail with a message naming any feature this scorer needs that the store lacks."""
        if "hidden" in self.requires:
            for layer in self.layers_needed(store):
                store.layer_index(layer)

    def layers_needed(self, store: FeatureStore) -> list[int]:
        return []

    def fitted_layers(self) -> list[int]:
        """Decoder layers whose hidden states the fitted scorer reads (empty for probability-only scorers)."""
        return []

    def _fit(self, train_store: FeatureStore, val_store: FeatureStore | None) -> None:
        raise NotImplementedError

    def _score(self, store: FeatureStore) -> np.ndarray:
        raise NotImplementedError

    # -- persistence (JSON + safetensors, no pickle) ---------------------------
    def fitted_state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """JSON-able fitted attributes and tensors; learned scorers extend it."""
        return {"model_fingerprint_": getattr(self, "model_fingerprint_", None),
                "model_name_": getattr(self, "model_name_", None)}, {}

    def load_fitted_state(self, state: dict, tensors: dict[str, torch.Tensor]) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state, tensors = self.fitted_state() if self.learned else ({}, {})
        if tensors:
            save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(directory / WEIGHTS_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(
            {"kind": self.kind, "params": self.get_params(), "state": state}, indent=2))
        return directory

    @staticmethod
    def load(directory: str | Path) -> "Scorer":
        directory = Path(directory)
        config_path = directory / CONFIG_FILE
        if not config_path.is_file():
            raise FileNotFoundError(f"{directory} holds no saved scorer ({CONFIG_FILE} is missing)")
        config = json.loads(config_path.read_text())
        if config["kind"] not in REGISTRY:
            raise ValueError(f"{config_path}: unknown scorer kind {config['kind']!r}; known: {sorted(REGISTRY)}")
        scorer = REGISTRY[config["kind"]](**config["params"])
        weights = directory / WEIGHTS_FILE
        tensors = load_file(str(weights)) if weights.is_file() else {}
        if scorer.learned:
            scorer.load_fitted_state(config["state"], tensors)
        return scorer
