"""Metrics of reliability scores against answer quality. Pure functions on numpy arrays.

``reliability``: higher = more reliable. ``quality``: the binary label or the soft
score in [0, 1]. Ties in reliability are broken by sample order (stable sort).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torchmetrics.functional.classification import binary_auroc, binary_calibration_error


def _validate(reliability, quality) -> tuple[np.ndarray, np.ndarray]:
    reliability = np.asarray(reliability, dtype=np.float64)
    quality = np.asarray(quality, dtype=np.float64)
    if reliability.shape != quality.shape or reliability.ndim != 1:
        raise ValueError(f"reliability and quality must be 1-D of equal length, got {reliability.shape} and {quality.shape}")
    if len(reliability) == 0:
        raise ValueError("metrics need at least one sample")
    if np.isnan(reliability).any() or np.isnan(quality).any():
        raise ValueError("reliability and quality must not contain NaN")
    return reliability, quality


def auroc(reliability, labels) -> float:
    """Area under the ROC curve of reliability against the binary label (torchmetrics).

    >>> auroc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]), auroc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])
    (1.0, 0.0)
    """
    reliability, labels = _validate(reliability, labels)
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(binary_auroc(torch.from_numpy(reliability), torch.from_numpy(labels).long()))


def _ranked(reliability, quality) -> np.ndarray:
    """Quality ordered from most to least reliable."""
    return quality[np.argsort(-reliability, kind="stable")]


def rejection_curve(reliability, quality) -> np.ndarray:
    """Mean quality of the ``k`` most reliable answers, for ``k = 1 .. N``.

    >>> rejection_curve(np.array([0.9, 0.1, 0.5]), np.array([1.0, 0.0, 1.0])).tolist()
    [1.0, 1.0, 0.6666666666666666]
    """
    reliability, quality = _validate(reliability, quality)
    ranked = _ranked(reliability, quality)
    return np.cumsum(ranked) / np.arange(1, len(ranked) + 1)


def _rejection_area(reliability, quality, max_rejection: float) -> float:
    curve = rejection_curve(reliability, quality)
    kept = max(1, int(max_rejection * len(curve)))
    return float(curve[-kept:].mean())  # rejection rates 0 .. max_rejection


def prr(reliability, quality, max_rejection: float = 1.0) -> float:
    """Prediction-rejection ratio (LM-Polygraph's normalised rejection area).

    ``(area(method) - area(random)) / (area(oracle) - area(random))`` where area is
    the mean quality of the kept answers averaged over rejection rates up to
    ``max_rejection``, the oracle ranks by quality itself and random keeps the mean.

    >>> q = np.array([1.0, 1.0, 0.0, 0.0])
    >>> round(prr(q, q), 6), round(prr(-q, q), 6)
    (1.0, -1.0)
    """
    reliability, quality = _validate(reliability, quality)
    random = float(quality.mean())
    oracle = _rejection_area(quality, quality, max_rejection)
    if oracle - random <= 0:
        return float("nan")
    return (_rejection_area(reliability, quality, max_rejection) - random) / (oracle - random)


def risk_coverage(reliability, labels) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, selective risk) when answering the ``k`` most reliable, ``k = 1 .. N``."""
    curve = rejection_curve(reliability, labels)
    return np.arange(1, len(curve) + 1) / len(curve), 1.0 - curve


def aurc(reliability, labels) -> float:
    """Area under the risk-coverage curve (lower is better).

    >>> round(aurc([0.9, 0.8, 0.1], [1, 1, 0]), 4)
    0.1111
    """
    return float(risk_coverage(reliability, labels)[1].mean())


def coverage_at_risk(reliability, labels, max_risk: float) -> float:
    """Largest coverage whose selective risk is at most ``max_risk`` (0 when none is).

    >>> coverage_at_risk([0.9, 0.8, 0.7, 0.1], [1, 1, 0, 1], 0.1)
    0.5
    """
    coverage, risk = risk_coverage(reliability, labels)
    ok = risk <= max_risk + 1e-12
    return float(coverage[ok].max()) if ok.any() else 0.0


def selective_accuracy(reliability, labels, coverage: float) -> float:
    """Accuracy of the ``ceil(coverage * N)`` most reliable answers.

    >>> selective_accuracy([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 1], 0.5)
    0.5
    """
    curve = rejection_curve(reliability, labels)
    return float(curve[max(1, int(np.ceil(coverage * len(curve)))) - 1])


def ece(reliability, labels, n_bins: int = 15) -> float:
    """Expected calibration error of reliability read as P(correct) (torchmetrics, L1, equal-width bins).

    >>> ece([1.0, 0.0], [1, 0])
    0.0
    """
    reliability, labels = _validate(reliability, labels)
    return float(binary_calibration_error(torch.from_numpy(reliability).float(), torch.from_numpy(labels).long(),
                                          n_bins=n_bins, norm="l1"))


def brier(reliability, labels) -> float:
    """Mean squared difference between reliability and the binary label.

    >>> brier([1.0, 0.5], [1, 0])
    0.125
    """
    reliability, labels = _validate(reliability, labels)
    return float(np.mean((reliability - labels) ** 2))


def bootstrap_ci(metric: Callable[..., float], reliability, quality, n_resamples: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``metric(reliability, quality)``."""
    reliability, quality = _validate(reliability, quality)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        index = rng.integers(0, len(reliability), len(reliability))
        value = metric(reliability[index], quality[index])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
