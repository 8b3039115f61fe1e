"""Answer a batch and capture its features from the same ``generate`` call."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image

from harmony.features.store import SampleFeatures
from harmony.vlm.base import PromptBatch, VLMAdapter

TOP_K = 5


def resolve_layers(layers: str | Sequence[int] | None, num_layers: int) -> list[int]:
    """Decoder layers to keep (1 = first block's output, ``num_layers`` = last).

    ``None``/``"default"``: the middle and the last layer; ``"all"``: every layer;
    negative numbers count from the end.
    """
    if layers in (None, "default"):
        return sorted({max(1, num_layers // 2), num_layers})
    if layers == "all":
        return list(range(1, num_layers + 1))
    if isinstance(layers, str):
        layers = [int(x) for x in layers.split(",") if x.strip()]
    resolved = sorted({layer + num_layers + 1 if layer < 0 else layer for layer in layers})
    bad = [layer for layer in resolved if not 1 <= layer <= num_layers]
    if bad or not resolved:
        raise ValueError(f"layers must be within 1..{num_layers} (or negative from the end), got {list(layers)}")
    return resolved


def num_decoder_layers(adapter: VLMAdapter) -> int:
    config = adapter.model.config
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return int(text.num_hidden_layers)


def _masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, L, H] states, [B, L] mask -> [B, H] mean over masked positions (zeros where none)."""
    weights = mask.to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1)


def token_statistics(logits: torch.Tensor, token_ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """Probabilities from raw next-token logits ``[B, T, V]`` for chosen ``token_ids`` ``[B, T]``."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    probs = log_probs.exp()
    return {
        "token_prob": probs.gather(-1, token_ids.unsqueeze(-1)).squeeze(-1),
        "max_prob": probs.max(-1).values,
        "entropy": -(probs * log_probs).sum(-1),
        "topk_probs": probs.topk(TOP_K, dim=-1).values,
    }


def answer_lengths(token_ids: torch.Tensor, eos_ids: set[int]) -> torch.Tensor:
    """Tokens up to and including the first EOS (all tokens when there is none)."""
    is_eos = torch.isin(token_ids, torch.tensor(sorted(eos_ids), device=token_ids.device))
    first = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, token_ids.new_full((len(token_ids),), token_ids.shape[1]))
    return first


@torch.inference_mode()
def capture_batch(adapter: VLMAdapter, images: Sequence[Image.Image], questions: Sequence[str],
                  layers: Sequence[int], max_new_tokens: int = 10, **generation) -> list[SampleFeatures]:
    """Generate answers for a batch and return each sample's features.

    Hidden state ``t`` of a sample is the state, at each kept layer, of the position
    that produced generated token ``t`` (the last prompt position for the first token).
    """
    batch: PromptBatch = adapter.encode(images, questions)
    out = adapter.generate(batch, max_new_tokens=max_new_tokens, capture=True, **generation)
    prompt_length = batch.input_ids.shape[1]
    generated = out.sequences[:, prompt_length:]                               # [B, T]
    stats = token_statistics(torch.stack(out.logits, dim=1), generated)
    hidden = torch.stack([torch.stack([step[layer][:, -1] for layer in layers], dim=1)
                          for step in out.hidden_states], dim=1)               # [B, T, nL, H]
    prompt_states = out.hidden_states[0]
    image_mean = torch.stack([_masked_mean(prompt_states[layer], batch.image_mask) for layer in layers], 1)
    question_mean = torch.stack([_masked_mean(prompt_states[layer], batch.question_mask) for layer in layers], 1)
    lengths = answer_lengths(generated, adapter.eos_token_ids).tolist()
    return _assemble(adapter, generated, stats, hidden, image_mean, question_mean, lengths)


def _assemble(adapter: VLMAdapter, token_ids, stats, hidden, image_mean, question_mean, lengths) -> list[SampleFeatures]:
    """Per-sample :class:`SampleFeatures` from batch tensors ([B, T, ...]) cut to each sample's length."""
    embedding = adapter.input_embeddings()
    arrays = {"token_ids": token_ids.cpu().numpy().astype(np.int64),
              **{k: v.float().cpu().numpy() for k, v in stats.items()},
              "hidden": hidden.to(torch.float16).cpu().numpy(),
              "image_mean": image_mean.to(torch.float16).cpu().numpy(),
              "question_mean": question_mean.to(torch.float16).cpu().numpy()}
    results = []
    for row, length in enumerate(lengths):
        ids = arrays["token_ids"][row, :length]
        unique = np.unique(ids)
        rows = embedding[torch.as_tensor(unique, device=embedding.device)].detach().to(torch.float16).cpu().numpy()
        results.append(SampleFeatures(
            sample_id="", answer=adapter.decode(ids.tolist()), token_ids=ids,
            token_prob=arrays["token_prob"][row, :length], max_prob=arrays["max_prob"][row, :length],
            entropy=arrays["entropy"][row, :length], topk_probs=arrays["topk_probs"][row, :length],
            hidden=arrays["hidden"][row, :length], image_mean=arrays["image_mean"][row],
            question_mean=arrays["question_mean"][row], embeddings=dict(zip(unique.tolist(), rows)),
        ))
    return results


@torch.inference_mode()
def capture_teacher_forced(adapter: VLMAdapter, images: Sequence[Image.Image], questions: Sequence[str],
                           answers: Sequence[str], layers: Sequence[int]) -> list[SampleFeatures]:
    """Features of given answers (+ EOS) from one forward pass, aligned as :func:`capture_batch` records them."""
    batch = adapter.encode(images, questions, answers=answers)
    logits, states = adapter.forward(batch.inputs)
    length = batch.input_ids.shape[1]
    counts = batch.answer_mask.sum(1)
    steps = int(counts.max())
    # answers are right-aligned (left padding): the state producing answer token j sits one position earlier
    positions = torch.arange(length - steps - 1, length - 1, device=logits.device)
    token_ids = batch.input_ids[:, length - steps:]                                   # [B, T]
    stats = token_statistics(logits[:, positions], token_ids)
    hidden = torch.stack([states[layer][:, positions] for layer in layers], dim=2)   # [B, T, nL, H]
    prompt = ~batch.answer_mask
    image_mean = torch.stack([_masked_mean(states[layer], batch.image_mask & prompt) for layer in layers], 1)
    question_mean = torch.stack([_masked_mean(states[layer], batch.question_mask) for layer in layers], 1)
    # rows with shorter answers: keep their last ``count`` tokens
    features = []
    for row, count in enumerate(counts.tolist()):
        skip = steps - count
        features += _assemble(adapter, token_ids[row:row + 1, skip:], {k: v[row:row + 1, skip:] for k, v in stats.items()},
                              hidden[row:row + 1, skip:], image_mean[row:row + 1], question_mean[row:row + 1], [count])
    return features
