"""Small VLMs built from the same transformers classes as the real families.

Used by the zoo's training script (with trained weights) and by the tests (random weights).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from transformers import (
    BlipImageProcessorPil, CLIPImageProcessorPil, CLIPVisionConfig, InstructBlipConfig,
    InstructBlipForConditionalGeneration, InstructBlipProcessor, InstructBlipQFormerConfig,
    InstructBlipVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor,
    Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil,
)

from harmony.vlm.families import Qwen2VLImageProcessor
from harmony.zoo.tokenizer import IMAGE

IMAGE_MEAN = [0.5, 0.5, 0.5]
IMAGE_STD = [0.25, 0.25, 0.25]


@dataclass
class TinySize:
    """Widths and depths of a tiny VLM."""

    image_size: int = 64        # easy-VQA images are 64x64
    patch_size: int = 8         # -> 64 patches
    vision_width: int = 96
    vision_layers: int = 3
    text_width: int = 192
    text_layers: int = 4        # HARMONY reads intermediate layers: keep >= 4
    text_heads: int = 4
    text_mlp: int = 512
    query_tokens: int = 16      # InstructBLIP only
    qformer_layers: int = 2     # InstructBLIP only


def _llama(tokenizer, size: TinySize) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=size.text_width, intermediate_size=size.text_mlp,
        num_hidden_layers=size.text_layers, num_attention_heads=size.text_heads,
        num_key_value_heads=size.text_heads, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
    )


def tiny_llava(tokenizer, size: TinySize = TinySize()):
    """A LLaVA-1.5-style model (CLIP vision tower + Llama) and its ``LlavaProcessor``."""
    vision = CLIPVisionConfig(
        hidden_size=size.vision_width, intermediate_size=size.vision_width * 4,
        num_hidden_layers=size.vision_layers, num_attention_heads=4, image_size=size.image_size,
        patch_size=size.patch_size, projection_dim=size.vision_width,
    )
    config = LlavaConfig(
        vision_config=vision, text_config=_llama(tokenizer, size),
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE), projector_hidden_act="gelu",
        vision_feature_select_strategy="default", vision_feature_layer=-2,
    )
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": size.image_size}, crop_size={"height": size.image_size, "width": size.image_size},
        image_mean=IMAGE_MEAN, image_std=IMAGE_STD,
    )
    processor = LlavaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=size.patch_size,
        vision_feature_select_strategy="default", num_additional_image_tokens=1,
    )
    return LlavaForConditionalGeneration(config), processor


def tiny_instructblip(tokenizer, size: TinySize = TinySize()):
    """An InstructBLIP-style model (BLIP vision + Q-Former + Llama) and its processor."""
    vision = InstructBlipVisionConfig(
        hidden_size=size.vision_width, intermediate_size=size.vision_width * 4,
        num_hidden_layers=size.vision_layers, num_attention_heads=4, image_size=size.image_size,
        patch_size=size.patch_size,
    )
    qformer = InstructBlipQFormerConfig(
        vocab_size=len(tokenizer), hidden_size=size.vision_width, num_hidden_layers=size.qformer_layers,
        num_attention_heads=4, intermediate_size=size.vision_width * 4, encoder_hidden_size=size.vision_width,
        pad_token_id=tokenizer.pad_token_id, max_position_embeddings=128,
    )
    config = InstructBlipConfig(
        vision_config=vision.to_dict(), qformer_config=qformer.to_dict(),
        text_config=_llama(tokenizer, size).to_dict(), num_query_tokens=size.query_tokens,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE),
    )
    image_processor = BlipImageProcessorPil(
        size={"height": size.image_size, "width": size.image_size}, image_mean=IMAGE_MEAN, image_std=IMAGE_STD,
    )
    qformer_tokenizer = copy.deepcopy(tokenizer)
    qformer_tokenizer.padding_side = "right"  # BERT-style, as the real Q-Former tokenizer
    processor = InstructBlipProcessor(
        image_processor=image_processor, tokenizer=tokenizer, qformer_tokenizer=qformer_tokenizer,
        num_query_tokens=size.query_tokens,
    )
    return InstructBlipForConditionalGeneration(config), processor


QWEN_SPECIALS = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>",
                 "<|video_pad|>")


def tiny_qwen2_vl(tokenizer, size: TinySize = TinySize()):
    """A Qwen2-VL-style model (windowless ViT with 2x2 merge + Qwen2 with M-RoPE) and its processor.

    ``tokenizer`` must hold :data:`QWEN_SPECIALS` (``build_tokenizer(..., extra_specials=QWEN_SPECIALS)``).
    """
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIALS}
    head_dim = size.text_width // size.text_heads
    text = dict(
        vocab_size=len(tokenizer), hidden_size=size.text_width, intermediate_size=size.text_mlp,
        num_hidden_layers=size.text_layers, num_attention_heads=size.text_heads,
        num_key_value_heads=size.text_heads, max_position_embeddings=512,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                         "mrope_section": [head_dim // 4, head_dim // 8, head_dim // 8]},
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    vision = dict(depth=size.vision_layers, embed_dim=size.vision_width, hidden_size=size.text_width,
                  num_heads=4, patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    config = Qwen2VLConfig(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
                           video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
                           vision_end_token_id=ids["<|vision_end|>"])
    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56,
                                               image_mean=IMAGE_MEAN, image_std=IMAGE_STD)
    processor = Qwen2VLImageProcessor(image_processor=image_processor, tokenizer=tokenizer)
    model = Qwen2VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = text["eos_token_id"]
    return model, processor
