import json

import numpy as np
import pytest
import torch

from harmony.data.sample import Sample
from harmony.errors import FeatureStoreError
from harmony.features import FeatureStore, capture_batch, extract
from harmony.vlm import load_vlm

LAYERS = [2, 4]


@pytest.fixture(scope="module")
def llava(random_checkpoints):
    return load_vlm(str(random_checkpoints["llava"]), device="cpu")


def _images(samples):
    return [s.load_image() for s in samples]


@pytest.mark.parametrize("family", ["llava", "instructblip", "qwen2_vl"])
def test_batched_equals_one_at_a_time(random_checkpoints, easyvqa_samples, family):
    adapter = load_vlm(str(random_checkpoints[family]), device="cpu")
    samples = easyvqa_samples[:4]
    batched = capture_batch(adapter, _images(samples), [s.question for s in samples], LAYERS, max_new_tokens=4)
    for sample, together in zip(samples, batched):
        alone = capture_batch(adapter, _images([sample]), [sample.question], LAYERS, max_new_tokens=4)[0]
        assert alone.answer == together.answer
        np.testing.assert_array_equal(alone.token_ids, together.token_ids)
        np.testing.assert_allclose(alone.token_prob, together.token_prob, atol=1e-4)
        np.testing.assert_allclose(alone.entropy, together.entropy, atol=1e-3)
        np.testing.assert_allclose(alone.hidden.astype(np.float32), together.hidden.astype(np.float32), atol=2e-2)
        np.testing.assert_allclose(alone.question_mean.astype(np.float32), together.question_mean.astype(np.float32), atol=2e-2)
        np.testing.assert_allclose(alone.image_mean.astype(np.float32), together.image_mean.astype(np.float32), atol=2e-2)


@pytest.mark.parametrize("family", ["llava", "instructblip"])
def test_features_are_the_models_own(random_checkpoints, easyvqa_samples, family):
    """Recorded probabilities and hidden states equal a separate teacher-forced forward pass."""
    adapter = load_vlm(str(random_checkpoints[family]), device="cpu")
    sample = easyvqa_samples[5]
    captured = capture_batch(adapter, _images([sample]), [sample.question], LAYERS, max_new_tokens=5)[0]
    batch = adapter.encode(_images([sample]), [sample.question])
    answer_ids = torch.as_tensor(captured.token_ids).unsqueeze(0)
    inputs = dict(batch.inputs)
    inputs["input_ids"] = torch.cat([batch.input_ids, answer_ids], 1)
    inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(answer_ids)], 1)
    logits, hidden_states = adapter.forward(inputs)
    start = batch.input_ids.shape[1] - 1
    positions = slice(start, start + len(captured.token_ids))
    probs = torch.softmax(logits[0, positions].float(), -1)
    expected = probs.gather(-1, answer_ids[0].unsqueeze(-1)).squeeze(-1).numpy()
    np.testing.assert_allclose(captured.token_prob, expected, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(captured.max_prob, probs.max(-1).values.numpy(), rtol=1e-3, atol=1e-5)
    for k, layer in enumerate(LAYERS):
        states = hidden_states[layer][0, positions].numpy()
        np.testing.assert_allclose(captured.hidden[:, k].astype(np.float32), states, atol=2e-2, rtol=1e-2)
    # token embeddings are the model's input embedding rows
    table = adapter.input_embeddings().detach()
    for token, row in captured.embeddings.items():
        np.testing.assert_allclose(row.astype(np.float32), table[token].numpy(), atol=1e-3)


def test_hidden_states_depend_on_the_image(llava, easyvqa_samples):
    first = easyvqa_samples[0]
    other = next(s for s in easyvqa_samples if s.image_id != first.image_id)
    a, b = (capture_batch(llava, _images([s]), [first.question], LAYERS, max_new_tokens=2)[0] for s in (first, other))
    assert np.abs(a.hidden[0].astype(np.float32) - b.hidden[0].astype(np.float32)).max() > 1e-3
    assert np.abs(a.image_mean.astype(np.float32) - b.image_mean.astype(np.float32)).max() > 1e-3


def test_store_roundtrip_resume_and_failures(llava, easyvqa_samples, tmp_path):
    out = tmp_path / "store"
    store = extract(llava, easyvqa_samples[:6], out, layers=LAYERS, batch_size=4, max_new_tokens=3,
                    shard_size=4, progress=False)
    assert store.sample_ids == [s.sample_id for s in easyvqa_samples[:6]]
    first_shards = {p.name: p.read_bytes() for p in (out / "shards").iterdir()}
    broken = Sample("broken-1", "easyvqa", "test", "what color is the shape?", ("red",), "color", "x",
                    image_path=str(tmp_path / "missing.png"))
    store = extract(llava, easyvqa_samples[:10] + [broken], out, layers=LAYERS, batch_size=4, max_new_tokens=3,
                    shard_size=4, progress=False)
    assert len(store) == 10 and [f["sample_id"] for f in store.failures] == ["broken-1"]
    assert "missing.png" in store.failures[0]["error"]
    for name, data in first_shards.items():  # finished shards are never rewritten
        assert (out / "shards" / name).read_bytes() == data
    row = store.rows[7]
    features = store.sample(7)
    assert len(features["token_ids"]) == row["num_tokens"] == len(features["hidden"])
    assert features["hidden"].dtype == np.float16 and features["hidden"].shape[1:] == (2, 64)
    assert features["token_prob"].dtype == np.float32
    assert row["soft_score"] in (0.0, 1.0) and row["label"] == int(row["soft_score"])
    assert set(store.token_embeddings()) >= set(np.concatenate([f["token_ids"] for f in store]).tolist())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["layers"] == LAYERS and manifest["generation"]["max_new_tokens"] == 3


def test_store_refuses_other_settings(llava, easyvqa_samples, tmp_path):
    out = tmp_path / "store"
    extract(llava, easyvqa_samples[:2], out, layers=LAYERS, max_new_tokens=3, progress=False)
    with pytest.raises(FeatureStoreError, match="layers"):
        extract(llava, easyvqa_samples[:4], out, layers=[1, 4], max_new_tokens=3, progress=False)
    with pytest.raises(FeatureStoreError, match="generation"):
        extract(llava, easyvqa_samples[:4], out, layers=LAYERS, max_new_tokens=5, progress=False)
    with pytest.raises(FeatureStoreError, match="no hidden states at layer 3"):
        FeatureStore(out).layer_index(3)


def test_two_process_extraction_equals_single_process(llava, easyvqa_samples, tmp_path):
    samples = easyvqa_samples[:8]
    single = extract(llava, samples, tmp_path / "single", layers=LAYERS, batch_size=2, max_new_tokens=3,
                     progress=False)
    merged = extract(llava, samples, tmp_path / "ddp", layers=LAYERS, batch_size=2, max_new_tokens=3,
                     devices=2, strategy="ddp_spawn", accelerator="cpu", progress=False)
    assert sorted(p.name for p in (tmp_path / "ddp").glob("index-*.jsonl")) == ["index-rank0.jsonl", "index-rank1.jsonl"]
    assert merged.sample_ids == single.sample_ids
    assert [r["answer"] for r in merged.rows] == [r["answer"] for r in single.rows]
    for a, b in zip(single, merged):
        np.testing.assert_allclose(a["token_prob"], b["token_prob"], atol=1e-4)
        np.testing.assert_allclose(a["hidden"].astype(np.float32), b["hidden"].astype(np.float32), atol=2e-2)


@pytest.mark.parametrize("name", ["tiny-llava", "tiny-instructblip"])
def test_teacher_forced_capture_reproduces_generation_features(easyvqa_samples, name):
    """The /score path (one forward over a given answer) sees what generation saw."""
    from harmony.features.capture import capture_teacher_forced

    adapter = load_vlm(name, device="cpu")
    samples = easyvqa_samples[8:11]
    generated = capture_batch(adapter, _images(samples), [s.question for s in samples], LAYERS, max_new_tokens=4)
    # the answer text is re-tokenised; compare where it round-trips to the same tokens
    answers = [g.answer for g in generated]
    forced = capture_teacher_forced(adapter, _images(samples), [s.question for s in samples], answers, LAYERS)
    compared = 0
    for g, f in zip(generated, forced):
        if adapter.eos_token_ids & {int(g.token_ids[-1])} and len(f.token_ids) == len(g.token_ids) \
                and (f.token_ids == g.token_ids).all():
            np.testing.assert_allclose(f.token_prob, g.token_prob, atol=1e-4)
            # fp16 storage, and a cached step-by-step pass against one full pass: ~1% apart at most
            np.testing.assert_allclose(f.hidden.astype(np.float32), g.hidden.astype(np.float32), atol=2e-2, rtol=2e-2)
            np.testing.assert_allclose(f.question_mean.astype(np.float32), g.question_mean.astype(np.float32),
                                       atol=2e-2, rtol=2e-2)
            compared += 1
    assert compared == 3
    assert all(f.token_ids[-1] in adapter.eos_token_ids for f in forced)
    assert all(len(f.token_ids) == len(adapter.tokenizer(" " + a, add_special_tokens=False)["input_ids"]) + 1
               for f, a in zip(forced, answers))


def test_fingerprint_follows_the_weights_not_the_path(random_checkpoints, tmp_path):
    import shutil

    from harmony.features.extract import model_fingerprint

    copy = shutil.copytree(random_checkpoints["llava"], tmp_path / "elsewhere")
    original = model_fingerprint(load_vlm(str(random_checkpoints["llava"]), device="cpu"))
    assert model_fingerprint(load_vlm(str(copy), device="cpu")) == original
    other = tmp_path / "retrained"
    from conftest import build_random_checkpoint

    build_random_checkpoint("llava", other, seed=1)  # same config, other weights
    assert model_fingerprint(load_vlm(str(other), device="cpu")) != original
