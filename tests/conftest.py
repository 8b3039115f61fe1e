import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from harmony.data import load_easyvqa  # noqa: E402
from harmony.zoo.architectures import QWEN_SPECIALS, TinySize, tiny_instructblip, tiny_llava, tiny_qwen2_vl  # noqa: E402
from harmony.zoo.tokenizer import build_tokenizer  # noqa: E402

TEST_SIZE = TinySize(vision_width=32, vision_layers=1, text_width=64, text_layers=4, text_heads=4, text_mlp=128,
                     query_tokens=4, qformer_layers=1)


def _vocabulary():
    samples = load_easyvqa("test", limit=300, seed=0)
    return [s.question for s in samples] + ["circle", "rectangle", "triangle", "yes", "no", "red", "blue"]


def build_random_checkpoint(family: str, directory, seed: int = 0):
    """Write a tiny randomly initialised VLM of ``family`` as a save_pretrained directory."""
    torch.manual_seed(seed)
    if family == "llava":
        model, processor = tiny_llava(build_tokenizer(_vocabulary()), TinySize(**{**TEST_SIZE.__dict__, "patch_size": 16}))
    elif family == "instructblip":
        model, processor = tiny_instructblip(build_tokenizer(_vocabulary(), image_token_attribute=False), TEST_SIZE)
    else:
        tokenizer = build_tokenizer(_vocabulary(), extra_specials=QWEN_SPECIALS, image_token_attribute=False)
        tokenizer.eos_token = "<|im_end|>"
        model, processor = tiny_qwen2_vl(tokenizer, TEST_SIZE)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def random_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("random_vlms")
    return {family: build_random_checkpoint(family, root / family) for family in ("llava", "instructblip", "qwen2_vl")}


@pytest.fixture(scope="session")
def easyvqa_samples():
    return load_easyvqa("test", limit=40, seed=3)
