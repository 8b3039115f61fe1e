"""Benchmark outputs: markdown table, per-sample CSV, rejection-curve and reliability-diagram plots."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from harmony.evaluation.scoring import LOWER_IS_BETTER  # noqa: E402
from harmony.metrics import rejection_curve  # noqa: E402

TABLE_METRICS = ("auroc", "prr", "prr_soft", "prr@50", "aurc", "cov@risk10", "ece", "brier")


def summarize(per_seed: list[dict[str, dict]]) -> dict[str, dict[str, float]]:
    """Mean and std over seeds of each scorer's metric values."""
    scorers = per_seed[0].keys()
    summary = {}
    for scorer in scorers:
        summary[scorer] = {}
        for metric in per_seed[0][scorer]:
            values = np.array([run[scorer][metric]["value"] for run in per_seed], dtype=float)
            summary[scorer][metric] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values)),
                                       "values": values.tolist()}
    return summary


def best_scorer(summary: dict, metric: str, among=None) -> str | None:
    """The scorer with the best mean of ``metric`` (ignoring NaN), optionally among a subset."""
    means = {s: row[metric]["mean"] for s, row in summary.items()
             if (among is None or s in among) and not np.isnan(row[metric]["mean"])}
    if not means:
        return None
    return (min if metric in LOWER_IS_BETTER else max)(means, key=means.get)


def markdown_table(summary: dict, title: str) -> str:
    """Scorer x metric table, mean +- std over seeds, best of each column in bold."""
    lines = [f"### {title}", "", "| scorer | " + " | ".join(TABLE_METRICS) + " |",
             "|---|" + "---|" * len(TABLE_METRICS)]
    best = {metric: best_scorer(summary, metric) for metric in TABLE_METRICS}
    for scorer, row in summary.items():
        cells = []
        for metric in TABLE_METRICS:
            text = f"{row[metric]['mean']:.3f} ± {row[metric]['std']:.3f}"
            cells.append(f"**{text}**" if best[metric] == scorer else text)
        lines.append(f"| {scorer} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_samples_csv(path: Path, rows: list[dict]) -> None:
    """One row per (condition, seed, sample) with the label, soft score and each scorer's reliability."""
    if not rows:
        return
    fields = list(rows[0].keys())
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def plot_rejection_curves(path: Path, scores: dict[str, np.ndarray], labels: np.ndarray, title: str) -> None:
    """Accuracy of the kept answers against coverage, for each scorer, the oracle and random."""
    coverage = np.arange(1, len(labels) + 1) / len(labels)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, reliability in scores.items():
        style = {"linewidth": 2.5, "color": "black"} if name == "harmony" else {"linewidth": 1.2}
        ax.plot(coverage, rejection_curve(reliability, labels), label=name, **style)
    ax.plot(coverage, rejection_curve(labels.astype(float), labels), "--", color="gray", label="oracle")
    ax.axhline(labels.mean(), linestyle=":", color="gray", label="random")
    ax.set(xlabel="coverage (fraction answered)", ylabel="accuracy of answered", title=title)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability_diagram(path: Path, scores: dict[str, np.ndarray], labels: np.ndarray, title: str,
                             n_bins: int = 10) -> None:
    """Observed accuracy against mean reliability per equal-width bin."""
    fig, ax = plt.subplots(figsize=(6, 5))
    edges = np.linspace(0, 1, n_bins + 1)
    for name, reliability in scores.items():
        bins = np.clip(np.digitize(reliability, edges[1:-1]), 0, n_bins - 1)
        filled = [b for b in range(n_bins) if (bins == b).any()]
        ax.plot([reliability[bins == b].mean() for b in filled], [labels[bins == b].mean() for b in filled],
                marker="o", markersize=3, label=name, linewidth=2.5 if name == "harmony" else 1)
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set(xlabel="reliability", ylabel="observed accuracy", title=title, xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
