"""Risk-controlled abstention threshold (Learn then Test with a binomial test).

Answer when reliability >= threshold. ``calibrate_threshold`` picks the loosest
threshold such that, with probability at least ``1 - delta`` over the calibration
draw, the error rate among answered questions is at most ``alpha``: for candidate
thresholds from strict to loose it tests H0 "risk > alpha" with the exact binomial
(Clopper-Pearson) p-value ``P(Bin(n, alpha) <= errors)`` and stops at the first
threshold it cannot reject (fixed-sequence testing, so no multiplicity correction).

The sequence starts at the strictest candidate that answers enough calibration
questions for an error-free set to reject H0 (``log(delta) / log(1 - alpha)``, and at
least ``min_answered``): a test on a handful of answers could never reject and would
end the sequence at once. The start is chosen from the reliability
values alone, never from the labels, so each test keeps its level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binom


@dataclass
class Calibration:
    """The chosen threshold and what it reached on the calibration set."""

    threshold: float          # answer when reliability >= threshold (inf: always abstain)
    alpha: float              # target risk among answered
    delta: float              # allowed probability that the risk exceeds alpha
    coverage: float           # fraction answered on the calibration set
    calibration_risk: float   # error rate among answered on the calibration set (nan if none)
    n_calibration: int

    def to_dict(self) -> dict:
        return asdict(self)


def binomial_p_value(errors: int, answered: int, alpha: float) -> float:
    """P(Bin(answered, alpha) <= errors): small when the risk is credibly below alpha.

    >>> round(binomial_p_value(0, 50, 0.1), 4)
    0.0052
    """
    return float(binom.cdf(errors, answered, alpha))


def calibrate_threshold(reliability, labels, alpha: float = 0.1, delta: float = 0.1,
                        max_candidates: int = 200, min_answered: int = 30) -> Calibration:
    """The loosest threshold that controls the risk among answered at ``alpha`` with confidence ``1 - delta``.

    >>> r = np.linspace(0, 1, 400); y = (r > 0.3).astype(int)
    >>> c = calibrate_threshold(r, y, alpha=0.05, delta=0.1)
    >>> 0.25 < c.threshold < 0.4, round(c.coverage, 2) > 0.6
    (True, True)
    """
    reliability = np.asarray(reliability, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    if not (0 < alpha < 1 and 0 < delta < 1):
        raise ValueError(f"alpha and delta must be in (0, 1), got alpha={alpha}, delta={delta}")
    if len(reliability) != len(labels) or len(labels) == 0:
        raise ValueError("reliability and labels must be non-empty and of equal length")
    candidates = np.unique(reliability)[::-1]                     # strict -> loose
    if len(candidates) > max_candidates:
        candidates = np.unique(np.quantile(reliability, np.linspace(1, 0, max_candidates)))[::-1]
    chosen = float("inf")
    counts = np.array([(reliability >= t).sum() for t in candidates])
    needed = max(min_answered, int(np.ceil(np.log(delta) / np.log(1 - alpha))))
    for threshold in candidates[counts >= min(needed, len(labels))]:
        answered = reliability >= threshold
        errors = int((labels[answered] == 0).sum())
        if binomial_p_value(errors, int(answered.sum()), alpha) > delta:
            break
        chosen = float(threshold)
    answered = reliability >= chosen
    risk = float((labels[answered] == 0).mean()) if answered.any() else float("nan")
    return Calibration(threshold=chosen, alpha=alpha, delta=delta, coverage=float(answered.mean()),
                       calibration_risk=risk, n_calibration=len(labels))
