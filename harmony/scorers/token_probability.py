"""Training-free scorers from the answer's token probabilities (EOS included).

Each maps its statistic to reliability monotonically; all are in [0, 1].
Perplexity's reliability ``1 / PPL`` equals the geometric-mean probability: they
rank identically and are both listed because papers report both.
"""

from __future__ import annotations

import numpy as np

from harmony.features.store import FeatureStore
from harmony.scorers.base import Scorer, reliability_from_uncertainty


class _PerSample(Scorer):
    """Applies ``statistic`` to each sample's arrays."""

    def _score(self, store: FeatureStore) -> np.ndarray:
        return np.array([self.statistic(sample) for sample in store], dtype=np.float64)

    def statistic(self, sample: dict) -> float:
        raise NotImplementedError


def _log_probs(sample: dict) -> np.ndarray:
    return np.log(np.clip(sample["token_prob"].astype(np.float64), 1e-12, 1.0))


class SequenceProbability(_PerSample):
    """MSP: the probability of the whole answer, prod_t p(y_t)."""

    kind = "msp"

    def statistic(self, sample):
        return float(np.exp(_log_probs(sample).sum()))


class NormalizedSequenceProbability(_PerSample):
    """Length-normalised sequence probability: the geometric mean of p(y_t)."""

    kind = "mean_token_prob"

    def statistic(self, sample):
        return float(np.exp(_log_probs(sample).mean()))


class MinTokenProbability(_PerSample):
    """The least probable token's probability."""

    kind = "min_token_prob"

    def statistic(self, sample):
        return float(sample["token_prob"].min())


class FirstTokenProbability(_PerSample):
    """The first generated token's probability."""

    kind = "first_token_prob"

    def statistic(self, sample):
        return float(sample["token_prob"][0])


class MeanTokenEntropy(_PerSample):
    """Mean entropy H of the next-token distributions, as reliability exp(-H)."""

    kind = "mean_token_entropy"
    requires = ("entropy",)

    def statistic(self, sample):
        return float(reliability_from_uncertainty(sample["entropy"].astype(np.float64).mean()))


class Perplexity(_PerSample):
    """Perplexity PPL = exp(-mean log p), as reliability 1 / PPL."""

    kind = "perplexity"

    def statistic(self, sample):
        perplexity = np.exp(-_log_probs(sample).mean())
        return float(1.0 / perplexity)
