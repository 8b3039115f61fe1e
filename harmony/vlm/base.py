"""The VLM adapter: the one place that knows a model family's prompt, batching and image tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import torch
from PIL import Image


@dataclass
class PromptBatch:
    """Processor outputs for a left-padded batch, plus token-position masks.

    ``answer_mask`` marks the answer tokens (EOS included) when answers were given
    for teacher forcing; it is ``None`` for generation batches.
    """

    inputs: dict[str, torch.Tensor]
    image_mask: torch.Tensor      # [B, L] bool: image-token positions
    question_mask: torch.Tensor   # [B, L] bool: question-token positions
    answer_mask: torch.Tensor | None = None

    @property
    def input_ids(self) -> torch.Tensor:
        return self.inputs["input_ids"]


class VLMAdapter:
    """Wraps a transformers VLM and its processor behind one family-independent interface.

    A subclass sets ``family``, the ``model_types`` it handles and ``prompt_template``
    (with ``{question}``); the rest is shared.
    """

    family: ClassVar[str]
    model_types: ClassVar[tuple[str, ...]]
    prompt_template: ClassVar[str]
    # Builds the processor from a checkpoint when ``AutoProcessor`` cannot (optional).
    processor_fallback: ClassVar = None
    # Forward passes take positions from the attention mask, as ``generate`` does (False where
    # the model derives its own, e.g. Qwen2-VL's M-RoPE).
    positions_from_mask: ClassVar[bool] = True

    def __init__(self, model, processor, name: str):
        self.model = model.eval()
        self.processor = processor
        self.name = name

    # -- family knowledge -------------------------------------------------
    @property
    def image_token_id(self) -> int:
        config = self.model.config
        value = getattr(config, "image_token_id", None)
        return int(value if value is not None else config.image_token_index)

    def prompt(self, question: str) -> str:
        return self.prompt_template.format(question=question)

    # -- shared machinery --------------------------------------------------
    @property
    def tokenizer(self):
        return self.processor.tokenizer

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def eos_token_ids(self) -> set[int]:
        ids = self.model.generation_config.eos_token_id
        if ids is None:
            ids = self.tokenizer.eos_token_id
        return set(ids if isinstance(ids, (list, tuple)) else [ids])

    @property
    def eos_token(self) -> str:
        """The token that ends an answer in teacher-forced inputs."""
        return self.tokenizer.eos_token

    def input_embeddings(self) -> torch.Tensor:
        """The language model's input embedding matrix ``[vocab, hidden]``."""
        return self.model.get_input_embeddings().weight

    def _count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _question_span(self, question: str) -> tuple[int, int]:
        """(tokens after the question, question tokens), counted from the prompt's end."""
        template = self.prompt_template
        before, after = template.split("{question}")
        with_question = self._count_tokens(before + question)
        return (self._count_tokens(before + question + after) - with_question,
                with_question - self._count_tokens(before))

    def encode(self, images: Sequence[Image.Image], questions: Sequence[str],
               answers: Sequence[str] | None = None) -> PromptBatch:
        """Tokenise prompts (and, for teacher forcing, answers + EOS), left-padded, on the model's device."""
        if len(images) != len(questions) or (answers is not None and len(answers) != len(questions)):
            raise ValueError("images, questions and answers must have the same length")
        prompts = [self.prompt(q) for q in questions]
        texts, answer_lengths = prompts, [0] * len(prompts)
        if answers is not None:
            answer_lengths = [self._count_tokens(" " + a + self.eos_token) for a in answers]
            texts = [t + " " + a + self.eos_token for t, a in zip(prompts, answers)]
        inputs = self._process(list(images), prompts, texts)
        inputs = {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in inputs.items()}
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        input_ids = inputs["input_ids"]
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device)
        question_mask = torch.zeros_like(input_ids, dtype=torch.bool)
        answer_mask = torch.zeros_like(input_ids, dtype=torch.bool) if answers is not None else None
        for row, question in enumerate(questions):
            after, count = self._question_span(question)
            end = length - answer_lengths[row] - after
            question_mask[row] = (positions >= end - count) & (positions < end)
            if answer_mask is not None:
                answer_mask[row] = positions >= length - answer_lengths[row]
        return PromptBatch(inputs=inputs, image_mask=input_ids == self.image_token_id,
                           question_mask=question_mask, answer_mask=answer_mask)

    def _process(self, images: list[Image.Image], prompts: list[str], texts: list[str]) -> dict:
        """Run the processor; ``texts`` are the prompts, followed by the answers when teacher forcing."""
        return dict(self.processor(images=images, text=texts, return_tensors="pt", padding=True))

    @torch.inference_mode()
    def generate(self, batch: PromptBatch, max_new_tokens: int = 10, capture: bool = True, **generation):
        """One ``generate`` call; with ``capture`` it also returns raw logits and all hidden states."""
        options = dict(max_new_tokens=max_new_tokens, do_sample=False, return_dict_in_generate=True)
        if capture:
            options.update(output_logits=True, output_hidden_states=True)
        options.update(generation)
        return self.model.generate(**batch.inputs, **options)

    def forward_inputs(self, inputs: dict) -> dict:
        """Inputs of a full forward pass, with the positions ``generate`` would use.

        Left padding may sit inside the sequence (InstructBLIP puts its query tokens
        before it): positions count real tokens only, so a padded row sees the same
        relative distances as when it runs alone.
        """
        if not self.positions_from_mask:
            return inputs
        mask = inputs["attention_mask"]
        return {**inputs, "position_ids": (mask.long().cumsum(-1) - 1).clamp(min=0)}

    @torch.inference_mode()
    def forward(self, inputs: dict) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """A teacher-forced forward pass: (logits ``[B, L, V]``, hidden states per layer ``[B, L, H]``)."""
        out = self.model(**self.forward_inputs(inputs), output_hidden_states=True)
        hidden = out.hidden_states if getattr(out, "hidden_states", None) is not None else \
            out.language_model_outputs.hidden_states  # InstructBLIP nests the language model's outputs
        return out.logits, hidden

    def decode(self, token_ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(token_ids), skip_special_tokens=True).strip()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
