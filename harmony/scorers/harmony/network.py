"""The HARMONY network: a small transformer encoder over one vector per answer token."""

from __future__ import annotations

import torch
from torch import nn


class HarmonyNetwork(nn.Module):
    """[CLS] (+ image and question summary tokens) + answer tokens -> one reliability logit.

    Each answer token's vector is the sum of the enabled parts:
    text (the VLM's input embedding of the token, projected), MaxProb (a learned
    embedding of its quantile bin plus a projection of the raw value), and hidden
    states (the kept layers concatenated, normalised, projected); plus a position embedding.
    """

    def __init__(self, text_dim: int, hidden_dim: int, d_model: int = 64, depth: int = 2, heads: int = 4,
                 dropout: float = 0.1, n_bins: int = 10, max_tokens: int = 12, use_text: bool = True,
                 use_prob: bool = True, use_hidden: bool = True, use_image: bool = True, use_question: bool = True):
        super().__init__()
        self.use_text, self.use_prob, self.use_hidden = use_text, use_prob, use_hidden
        self.use_image, self.use_question = use_image, use_question
        self.text = nn.Sequential(nn.LayerNorm(text_dim), nn.Linear(text_dim, d_model))
        self.prob_bin = nn.Embedding(n_bins, d_model)
        self.prob_value = nn.Linear(1, d_model)
        self.hidden = nn.Sequential(nn.LayerNorm(hidden_dim), nn.Linear(hidden_dim, d_model))
        self.image = nn.Sequential(nn.LayerNorm(hidden_dim), nn.Linear(hidden_dim, d_model))
        self.question = nn.Sequential(nn.LayerNorm(hidden_dim), nn.Linear(hidden_dim, d_model))
        self.position = nn.Embedding(max_tokens, d_model)
        self.kind = nn.Embedding(4, d_model)  # 0 cls, 1 image, 2 question, 3 answer token
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, 1))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = batch["mask"]                                        # [B, T] True = real token
        b, t = mask.shape
        tokens = self.position.weight[:t].expand(b, t, -1) + self.kind.weight[3]
        if self.use_text:
            tokens = tokens + self.text(batch["text"])             # [B, T, d]
        if self.use_prob:
            tokens = tokens + self.prob_bin(batch["prob_bin"]) + self.prob_value(batch["max_prob"].unsqueeze(-1))
        if self.use_hidden:
            tokens = tokens + self.hidden(batch["hidden"])
        prefix = [self.kind.weight[0].expand(b, 1, -1)]
        if self.use_image:
            prefix.append((self.image(batch["image"]) + self.kind.weight[1]).unsqueeze(1))
        if self.use_question:
            prefix.append((self.question(batch["question"]) + self.kind.weight[2]).unsqueeze(1))
        sequence = torch.cat(prefix + [tokens], dim=1)              # [B, P + T, d]
        padding = torch.cat([mask.new_zeros(b, len(prefix)), ~mask], dim=1)
        encoded = self.encoder(sequence, src_key_padding_mask=padding)
        return self.head(encoded[:, 0]).squeeze(-1)                 # [B]
