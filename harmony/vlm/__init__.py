"""VLM adapters: one class per family, one loader for all."""

from harmony.vlm.base import PromptBatch, VLMAdapter
from harmony.vlm.families import ADAPTERS, InstructBlipAdapter, LlavaAdapter, Qwen2VLAdapter
from harmony.vlm.loader import load_vlm

__all__ = ["ADAPTERS", "InstructBlipAdapter", "LlavaAdapter", "PromptBatch", "Qwen2VLAdapter", "VLMAdapter", "load_vlm"]
