"""Arrays that learned scorers read from a feature store (float32, one row per sample)."""

from __future__ import annotations

import numpy as np

from harmony.features.store import FeatureStore


def answer_hidden(store: FeatureStore, layer: int, pooling: str) -> np.ndarray:
    """``[N, H]``: hidden state at ``layer`` of the last answer token (``last``) or the mean over tokens (``mean``)."""
    k = store.layer_index(layer)
    if pooling == "last":
        rows = [sample["hidden"][-1, k] for sample in store]
    elif pooling == "mean":
        rows = [sample["hidden"][:, k].astype(np.float32).mean(0) for sample in store]
    else:
        raise ValueError(f"pooling must be 'last' or 'mean', got {pooling!r}")
    return np.stack(rows).astype(np.float32)


def token_sequences(store: FeatureStore, layers: list[int], max_tokens: int) -> dict[str, np.ndarray]:
    """Per-token inputs of HARMONY, padded to the longest answer (at most ``max_tokens``).

    Returns ``text`` [N, T, E] (the VLM's input embeddings of the answer tokens),
    ``max_prob`` [N, T], ``hidden`` [N, T, len(layers) * H], ``mask`` [N, T] (True = real token),
    ``image`` and ``question`` [N, len(layers) * H] (prompt summaries).
    """
    columns = [store.layer_index(layer) for layer in layers]
    embeddings = store.token_embeddings()
    samples = list(store)
    length = min(max_tokens, max(len(s["token_ids"]) for s in samples))
    n, width = len(samples), store.manifest["hidden_size"]
    embed_dim = len(next(iter(embeddings.values())))
    out = {
        "text": np.zeros((n, length, embed_dim), np.float32),
        "max_prob": np.zeros((n, length), np.float32),
        "hidden": np.zeros((n, length, len(columns) * width), np.float32),
        "mask": np.zeros((n, length), bool),
        "image": np.zeros((n, len(columns) * width), np.float32),
        "question": np.zeros((n, len(columns) * width), np.float32),
    }
    for i, sample in enumerate(samples):
        t = min(length, len(sample["token_ids"]))
        out["text"][i, :t] = np.stack([embeddings[int(token)] for token in sample["token_ids"][:t]])
        out["max_prob"][i, :t] = sample["max_prob"][:t]
        out["hidden"][i, :t] = sample["hidden"][:t, columns].reshape(t, -1)
        out["mask"][i, :t] = True
        out["image"][i] = sample["image_mean"][columns].reshape(-1)
        out["question"][i] = sample["question_mean"][columns].reshape(-1)
    return out
