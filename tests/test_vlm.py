import json

import pytest
import torch

from harmony.data import load_easyvqa
from harmony.errors import ModelLoadError
from harmony.vlm import load_vlm
from harmony.zoo import EMBEDDED, embedded_path

FAMILIES = ("llava", "instructblip", "qwen2_vl")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_goes_through_one_adapter(random_checkpoints, easyvqa_samples, family):
    adapter = load_vlm(str(random_checkpoints[family]), device="cpu")
    assert adapter.family == family
    samples = easyvqa_samples[:3]
    batch = adapter.encode([s.load_image() for s in samples], [s.question for s in samples])
    ids = batch.input_ids
    # left padding: every row ends with real tokens, pads only at the front
    assert bool(batch.inputs["attention_mask"][:, -1].all())
    assert int(batch.image_mask[0].sum()) > 0
    assert torch.equal(batch.image_mask.sum(1), batch.image_mask[0].sum().expand(3))
    for row, sample in enumerate(samples):
        tokens = adapter.tokenizer.convert_ids_to_tokens(ids[row][batch.question_mask[row]].tolist())
        assert " ".join(tokens).replace(" ?", "?") == sample.question
    out = adapter.generate(batch, max_new_tokens=2)
    assert out.sequences.shape[1] <= ids.shape[1] + 2


def test_unknown_name_lists_embedded_models():
    with pytest.raises(ModelLoadError) as info:
        load_vlm("no-such-model-anywhere", device="cpu")
    message = str(info.value)
    assert all(name in message for name in EMBEDDED) and "hub" in message and "cache" in message


def test_corrupted_checkpoints_give_clear_errors(random_checkpoints, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in random_checkpoints["llava"].iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    with pytest.raises(ModelLoadError, match="could not load the checkpoint"):
        load_vlm(str(broken), device="cpu")
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="config.json is unreadable"):
        load_vlm(str(broken), device="cpu")
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_vlm(str(tmp_path / "missing"), device="cpu")


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_checkpoints_answer_easyvqa(name):
    from harmony.zoo.train import ImageCache, answer_accuracy

    adapter = load_vlm(name, device="cpu")
    accuracy = answer_accuracy(adapter, load_easyvqa("test", limit=200, seed=0), ImageCache())
    assert accuracy["overall"] > 0.55, accuracy
    report = json.loads((embedded_path(name) / "training_report.json").read_text())
    assert 0.60 <= report["test_accuracy"]["overall"] <= 0.92
