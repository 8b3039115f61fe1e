"""Synthetic feature stores whose label is a known function of the features."""

from __future__ import annotations

import numpy as np

from harmony.features.store import FeatureStore, SampleFeatures, StoreWriter, prepare_store

HIDDEN = 8
LAYERS = [1, 2]
VOCAB = 20


def manifest(model: str = "synthetic") -> dict:
    return {"model": model, "model_fingerprint": f"fp-{model}", "layers": LAYERS, "hidden_size": HIDDEN,
            "prompt_template": "{question}", "generation": {"max_new_tokens": 4}, "family": "synthetic"}


def make_store(root, n: int, label_of, seed: int, model: str = "synthetic", tokens: int = 2) -> FeatureStore:
    """``label_of(max_prob[T], hidden[T, L, H]) -> 0/1``; probabilities, hidden states and tokens are random."""
    rng = np.random.default_rng(seed)
    table = np.random.default_rng(0).normal(size=(VOCAB, 6)).astype(np.float16)  # shared "embedding matrix"
    prepare_store(root, manifest(model))
    writer = StoreWriter(root, shard_size=128)
    for i in range(n):
        ids = rng.integers(0, VOCAB, tokens)
        prob = rng.uniform(0.05, 1.0, tokens).astype(np.float32)
        hidden = rng.normal(size=(tokens, len(LAYERS), HIDDEN)).astype(np.float16)
        label = int(label_of(prob, hidden))
        writer.add(SampleFeatures(
            sample_id=f"s{i}", answer="x", token_ids=ids, token_prob=prob, max_prob=prob,
            entropy=rng.uniform(0, 2, tokens).astype(np.float32), topk_probs=np.sort(rng.uniform(0, 1, (tokens, 5)), 1)[:, ::-1].astype(np.float32),
            hidden=hidden, image_mean=rng.normal(size=(len(LAYERS), HIDDEN)).astype(np.float16),
            question_mean=rng.normal(size=(len(LAYERS), HIDDEN)).astype(np.float16),
            embeddings={int(t): table[t] for t in ids},
            record={"position": i, "dataset": "synthetic", "image_id": f"img{i // 2}", "soft_score": float(label),
                    "label": label, "references": ["x"], "question": "q", "split": "test", "answer_type": "x"},
        ))
    writer.flush()
    return FeatureStore(root)
