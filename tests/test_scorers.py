import numpy as np
import pytest

from harmony.errors import FeatureStoreError
from harmony.metrics import auroc
from harmony.scorers import (
    SAPLMA, FirstTokenProbability, HarmonyScorer, LinearProbe, MeanTokenEntropy, MinTokenProbability,
    NormalizedSequenceProbability, Perplexity, Scorer, SequenceProbability, default_suite,
)

from synthetic_stores import make_store

FAST = dict(max_epochs=25, patience=6)


def xor_label(prob, hidden):
    """Only the combination predicts the label: neither input alone carries any signal."""
    return (prob[0] > 0.5) != (float(hidden[0, 0, 0]) > 0)


def hidden_label(prob, hidden):
    return float(hidden[-1, 0, 0]) > 0


@pytest.fixture(scope="module")
def xor_stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("xor")
    return [make_store(root / name, n, xor_label, seed) for name, n, seed in
            (("train", 3000, 1), ("val", 600, 2), ("test", 800, 3))]


@pytest.fixture(scope="module")
def hidden_stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden")
    return [make_store(root / name, n, hidden_label, seed, tokens=1) for name, n, seed in
            (("train", 1500, 4), ("val", 300, 5), ("test", 500, 6))]


def test_harmony_learns_a_signal_only_the_fusion_has(xor_stores):
    train, val, test = xor_stores
    full = HarmonyScorer(**FAST).fit(train, val)
    text_prob = HarmonyScorer(use_hidden=False, use_image=False, use_question=False, **FAST).fit(train, val)
    hidden_only = HarmonyScorer(use_text=False, use_prob=False, **FAST).fit(train, val)
    scores = {s.name: auroc(s.score(test), test.labels) for s in (full, text_prob, hidden_only)}
    assert scores["harmony"] > 0.85, scores
    assert abs(scores["harmony[text+prob]"] - 0.5) < 0.08, scores
    assert abs(scores["harmony[hidden+image+question]"] - 0.5) < 0.08, scores
    assert abs(auroc(SequenceProbability().score(test), test.labels) - 0.5) < 0.08


@pytest.mark.parametrize("scorer", [SAPLMA(layer=1), LinearProbe(layer=1)], ids=lambda s: s.kind)
def test_hidden_state_scorers_beat_chance(hidden_stores, scorer):
    train, val, test = hidden_stores
    assert auroc(scorer.fit(train, val).score(test), test.labels) > 0.9


@pytest.mark.parametrize("make", [lambda: HarmonyScorer(max_epochs=3), lambda: SAPLMA(max_epochs=3),
                                  lambda: LinearProbe(max_epochs=3), lambda: SequenceProbability()])
def test_save_load_gives_identical_scores_and_scoring_is_deterministic(hidden_stores, tmp_path, make):
    train, val, test = hidden_stores
    scorer = make().fit(train, val)
    first = scorer.score(test)
    np.testing.assert_array_equal(first, scorer.score(test))
    loaded = Scorer.load(scorer.save(tmp_path / "scorer"))
    assert loaded.name == scorer.name
    np.testing.assert_array_equal(loaded.score(test), first)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.ckpt"))


def test_orientation_informative_feature_gives_auroc_near_one(tmp_path):
    store = make_store(tmp_path / "s", 300, lambda prob, hidden: prob.min() > 0.5, seed=7)
    assert auroc(MinTokenProbability().score(store), store.labels) > 0.99


def test_training_free_scorers_match_hand_computed_values(tmp_path):
    store = make_store(tmp_path / "s", 3, lambda prob, hidden: 1, seed=8, tokens=3)
    for i, sample in enumerate(store):
        p, h = sample["token_prob"].astype(np.float64), sample["entropy"].astype(np.float64)
        expected = {
            SequenceProbability: p[0] * p[1] * p[2], NormalizedSequenceProbability: (p[0] * p[1] * p[2]) ** (1 / 3),
            MinTokenProbability: min(p), FirstTokenProbability: p[0], MeanTokenEntropy: np.exp(-(h.sum() / 3)),
            Perplexity: 1 / np.exp(-(np.log(p).sum() / 3)),
        }
        for cls, value in expected.items():
            assert cls().score(store)[i] == pytest.approx(value, rel=1e-5), cls.kind


def test_missing_layer_is_named(hidden_stores):
    train, val, _ = hidden_stores
    with pytest.raises(FeatureStoreError, match="no hidden states at layer 5"):
        SAPLMA(layer=5).fit(train, val)
    with pytest.raises(FeatureStoreError, match="layer 7"):
        HarmonyScorer(layers=[1, 7]).fit(train, val)


def test_scorer_refuses_another_models_store(hidden_stores, tmp_path):
    train, val, _ = hidden_stores
    other = make_store(tmp_path / "other", 50, hidden_label, seed=9, model="another-vlm")
    scorer = LinearProbe(max_epochs=2).fit(train, val)
    with pytest.raises(FeatureStoreError, match="another-vlm"):
        scorer.score(other)
    with pytest.raises(RuntimeError, match="not fitted"):
        LinearProbe().score(train)


def test_suite_names_are_unique_and_scores_in_unit_interval(hidden_stores):
    names = [s.name for s in default_suite()]
    assert len(set(names)) == len(names)
    train, val, test = hidden_stores
    for scorer in default_suite():
        if not scorer.learned:
            scores = scorer.score(test)
            assert scores.min() >= 0 and scores.max() <= 1
