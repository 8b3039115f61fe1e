"""Scorers: reliability in [0, 1] from a feature store, higher = more reliable."""

from harmony.scorers.base import REGISTRY, Scorer, reliability_from_uncertainty
from harmony.scorers.harmony import HarmonyScorer
from harmony.scorers.hidden_probes import SAPLMA, LinearProbe
from harmony.scorers.token_probability import (
    FirstTokenProbability, MeanTokenEntropy, MinTokenProbability, NormalizedSequenceProbability, Perplexity,
    SequenceProbability,
)


def default_suite(seed: int = 0) -> list[Scorer]:
    """Every baseline, the two HARMONY ablations named by the paper, and HARMONY."""
    return [
        SequenceProbability(), NormalizedSequenceProbability(), MinTokenProbability(), FirstTokenProbability(),
        MeanTokenEntropy(), Perplexity(), SAPLMA(seed=seed), LinearProbe(seed=seed),
        HarmonyScorer(use_hidden=False, use_image=False, use_question=False, seed=seed),  # text + MaxProb (LARS-style)
        HarmonyScorer(use_text=False, use_prob=False, seed=seed),                          # hidden states only
        HarmonyScorer(seed=seed),
    ]


__all__ = ["REGISTRY", "SAPLMA", "FirstTokenProbability", "HarmonyScorer", "LinearProbe", "MeanTokenEntropy",
           "MinTokenProbability", "NormalizedSequenceProbability", "Perplexity", "Scorer", "SequenceProbability",
           "default_suite", "reliability_from_uncertainty"]
