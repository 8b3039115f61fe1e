"""A word-level tokenizer over the easy-VQA vocabulary, built with the ``tokenizers`` library."""

from __future__ import annotations

import re

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

PAD, BOS, EOS, UNK, IMAGE = "<pad>", "<s>", "</s>", "<unk>", "<image>"
SPECIALS = [PAD, BOS, EOS, UNK, IMAGE]
# Words of the prompt templates, present whatever the dataset's questions hold.
TEMPLATE_WORDS = "USER : ASSISTANT Question Short answer Answer the question using a single word or phrase .".split()


def words_of(texts: list[str]) -> list[str]:
    """Word and punctuation tokens, split as the tokenizer's pre-tokenizer splits them."""
    return sorted({w for text in texts for w in re.findall(r"\w+|[^\w\s]+", text)})


def build_tokenizer(texts: list[str], extra_specials: tuple[str, ...] = (),
                    image_token_attribute: bool = True) -> PreTrainedTokenizerFast:
    """A left-padding word-level tokenizer whose vocabulary is the words of ``texts``.

    ``image_token_attribute=False`` leaves ``tokenizer.image_token`` unset, as
    ``InstructBlipProcessor`` expects (it registers ``<image>`` itself).
    """
    specials = SPECIALS + [s for s in extra_specials if s not in SPECIALS]
    vocab = {token: i for i, token in enumerate(specials)}
    for word in words_of(list(texts) + TEMPLATE_WORDS):
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces
    backend.add_special_tokens(specials)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
        padding_side="left", **({"extra_special_tokens": {"image_token": IMAGE}} if image_token_attribute else {}),
    )
    return tokenizer
