"""All metrics of one scorer's reliability on one test set, with bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np

from harmony import metrics

RISKS = (0.05, 0.10, 0.20)


def metric_functions() -> dict:
    """Name -> f(reliability, quality); quality is the soft score for ``prr_soft``, else the label."""
    table = {
        "auroc": metrics.auroc,
        "prr": metrics.prr,
        "prr@50": lambda r, q: metrics.prr(r, q, max_rejection=0.5),
        "aurc": metrics.aurc,
        "sel_acc@50": lambda r, q: metrics.selective_accuracy(r, q, 0.5),
        "ece": metrics.ece,
        "brier": metrics.brier,
    }
    for risk in RISKS:
        table[f"cov@risk{int(risk * 100)}"] = lambda r, q, risk=risk: metrics.coverage_at_risk(r, q, risk)
    return table


LOWER_IS_BETTER = frozenset({"aurc", "ece", "brier"})


def evaluate(reliability: np.ndarray, labels: np.ndarray, soft_scores: np.ndarray, n_bootstrap: int = 200,
             seed: int = 0) -> dict[str, dict[str, float]]:
    """``{metric: {"value", "ci_low", "ci_high"}}`` on binary labels, plus ``prr_soft`` on soft scores."""
    out = {}
    jobs = [(name, fn, labels) for name, fn in metric_functions().items()] + [("prr_soft", metrics.prr, soft_scores)]
    for name, fn, quality in jobs:
        low, high = metrics.bootstrap_ci(fn, reliability, quality, n_resamples=n_bootstrap, seed=seed) \
            if n_bootstrap else (float("nan"), float("nan"))
        out[name] = {"value": fn(np.asarray(reliability, float), np.asarray(quality, float)),
                     "ci_low": low, "ci_high": high}
    return out
