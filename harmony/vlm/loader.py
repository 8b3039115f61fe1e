"""``load_vlm``: embedded names, local checkpoint directories and hub ids, one adapter type."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from harmony.errors import ModelLoadError
from harmony.vlm.base import VLMAdapter
from harmony.vlm.families import ADAPTERS
from harmony.zoo import EMBEDDED, embedded_path

KNOWN_HUB_IDS = (
    "llava-hf/llava-1.5-7b-hf", "llava-hf/llava-1.5-13b-hf",
    "Salesforce/instructblip-vicuna-7b", "Qwen/Qwen2-VL-7B-Instruct",
)


def _dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "auto"):
        return torch.float16 if device.startswith("cuda") else torch.float32
    names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype not in names:
        raise ValueError(f"dtype must be one of {sorted(names)} or 'auto', got {dtype!r}")
    return names[dtype]


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _model_type(source: str, is_local: bool) -> str:
    from transformers import AutoConfig

    if is_local:
        config_path = Path(source) / "config.json"
        if not config_path.is_file():
            raise ModelLoadError(f"checkpoint directory {source} has no config.json")
        try:
            return json.loads(config_path.read_text())["model_type"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise ModelLoadError(f"checkpoint directory {source}: config.json is unreadable ({exc})") from exc
    try:
        return AutoConfig.from_pretrained(source).model_type
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"unknown model {source!r}: it is not an embedded model ({', '.join(EMBEDDED)}), not a local "
            f"checkpoint directory, and not loadable as a hub id. Hub ids such as {KNOWN_HUB_IDS[0]} need "
            f"access to the Hugging Face hub or a local cache holding the model ({exc.__class__.__name__})"
        ) from exc


def load_vlm(name_or_path: str, device: str | None = None, dtype: str | torch.dtype | None = "auto") -> VLMAdapter:
    """Load a VLM and wrap it in its family's adapter.

    ``name_or_path``: an embedded name (``tiny-llava``, ``tiny-instructblip``), a local
    ``save_pretrained`` directory, or a hub id available from the hub or the local cache.
    """
    from transformers import AutoModelForImageTextToText, AutoProcessor

    device = device or default_device()
    source = str(embedded_path(name_or_path)) if name_or_path in EMBEDDED else str(name_or_path)
    is_local = Path(source).is_dir()
    if not is_local and (source.startswith((".", "/")) or Path(source).suffix):
        raise ModelLoadError(f"checkpoint directory {source} does not exist")
    model_type = _model_type(source, is_local)
    if model_type not in ADAPTERS:
        raise ModelLoadError(f"{name_or_path}: model type {model_type!r} is not supported; "
                             f"supported families: {sorted(ADAPTERS)}")
    adapter_class = ADAPTERS[model_type]
    try:
        try:
            processor = AutoProcessor.from_pretrained(source)
        except Exception:
            if adapter_class.processor_fallback is None:
                raise
            processor = None
        if (processor is None or not hasattr(processor, "tokenizer")) and adapter_class.processor_fallback:
            processor = adapter_class.processor_fallback(source)
        model = AutoModelForImageTextToText.from_pretrained(source, dtype=_dtype(dtype, device))
    except Exception as exc:  # transformers raises many types for a damaged checkpoint
        raise ModelLoadError(f"could not load the checkpoint {source}: {exc}") from exc
    return adapter_class(model.to(device), processor, name=str(name_or_path))
