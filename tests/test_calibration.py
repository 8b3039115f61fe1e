import numpy as np
import pytest

from harmony.calibration import calibrate_threshold


def test_risk_is_controlled_over_many_calibration_draws():
    """The frequency of risk violations on fresh data stays at or under delta."""
    rng = np.random.default_rng(0)
    n = 30000
    reliability = rng.beta(2, 1, n)
    labels = (rng.uniform(size=n) < reliability).astype(int)  # P(correct | r) = r
    alpha, delta, trials, violations, coverages = 0.15, 0.1, 300, 0, []
    for _ in range(trials):
        index = rng.permutation(n)
        cal, test = index[:800], index[800:]
        calibration = calibrate_threshold(reliability[cal], labels[cal], alpha=alpha, delta=delta)
        answered = reliability[test] >= calibration.threshold
        if answered.any() and (labels[test][answered] == 0).mean() > alpha:
            violations += 1
        coverages.append(answered.mean())
    assert violations / trials <= delta + 0.03
    assert np.mean(coverages) > 0.2  # it does answer: the guarantee is not bought by always abstaining


def test_impossible_target_abstains_and_bad_arguments_fail():
    labels = np.zeros(100, dtype=int)
    calibration = calibrate_threshold(np.linspace(0, 1, 100), labels, alpha=0.05, delta=0.1)
    assert calibration.threshold == float("inf") and calibration.coverage == 0.0
    with pytest.raises(ValueError, match="alpha and delta"):
        calibrate_threshold([0.5], [1], alpha=1.5)
