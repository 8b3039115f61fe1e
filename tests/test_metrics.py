import numpy as np
import pytest

from harmony import metrics


def brute_auroc(r, y):
    pos, neg = r[y == 1], r[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def brute_prr(r, q, max_rejection=1.0):
    n = len(r)
    order = sorted(range(n), key=lambda i: (-r[i], i))
    oracle_order = sorted(range(n), key=lambda i: (-q[i], i))

    def area(ordering):
        kept_counts = range(n - max(1, int(max_rejection * n)) + 1, n + 1)
        return sum(sum(q[j] for j in ordering[:k]) / k for k in kept_counts) / len(kept_counts)

    random = sum(q) / n
    return (area(order) - random) / (area(oracle_order) - random)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_and_prr_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    r = np.round(rng.uniform(size=60) * 0.5 + 0.3 * y, 2)  # ties included
    soft = np.clip(y * 0.7 + rng.uniform(0, 0.3, 60), 0, 1)
    assert metrics.auroc(r, y) == pytest.approx(brute_auroc(r, y), abs=1e-6)
    assert metrics.prr(r, y) == pytest.approx(brute_prr(r, y.astype(float)), abs=1e-9)
    assert metrics.prr(r, soft) == pytest.approx(brute_prr(r, soft), abs=1e-9)
    assert metrics.prr(r, y, 0.5) == pytest.approx(brute_prr(r, y.astype(float), 0.5), abs=1e-9)


def test_perfect_and_reversed_scorers():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    assert metrics.auroc(y.astype(float), y) == 1.0
    assert metrics.prr(y.astype(float), y) == pytest.approx(1.0)
    assert metrics.auroc(1.0 - y, y) == 0.0
    assert metrics.aurc(y.astype(float), y) < metrics.aurc(1.0 - y, y)


def test_selective_metrics_by_hand():
    r = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    y = np.array([1, 1, 0, 1, 0])
    # risks at coverage 1/5..5/5: 0, 0, 1/3, 1/4, 2/5
    assert metrics.aurc(r, y) == pytest.approx((0 + 0 + 1 / 3 + 1 / 4 + 2 / 5) / 5)
    assert metrics.coverage_at_risk(r, y, 0.05) == pytest.approx(0.4)
    assert metrics.coverage_at_risk(r, y, 0.25) == pytest.approx(0.8)
    assert metrics.selective_accuracy(r, y, 0.6) == pytest.approx(2 / 3)
    assert metrics.brier(r, y) == pytest.approx(np.mean((r - y) ** 2))


def test_ece_by_hand():
    # two bins used: 0.9 (acc 1/2) and 0.2 (acc 0/2): ece = 0.5*0.4 + 0.5*0.2
    r = np.array([0.9, 0.9, 0.2, 0.2])
    y = np.array([1, 0, 0, 0])
    assert metrics.ece(r, y, n_bins=10) == pytest.approx(0.3, abs=1e-6)


def test_bootstrap_interval_contains_estimate_and_validation():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    r = y * 0.3 + rng.uniform(size=200)
    low, high = metrics.bootstrap_ci(metrics.auroc, r, y, n_resamples=200)
    assert low <= metrics.auroc(r, y) <= high and high - low < 0.2
    with pytest.raises(ValueError, match="equal length"):
        metrics.auroc([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="NaN"):
        metrics.prr([np.nan, 0.2], [1, 0])
