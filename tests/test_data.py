import io
import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from harmony.data import load_aokvqa, load_dataset, load_easyvqa, load_pathvqa, load_vizwiz
from harmony.errors import DatasetFormatError


def _jpg(path, color=(200, 10, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), color).save(path, format="JPEG")


def _aokvqa_record(qid, image_id, difficult=False):
    return {"split": "val", "image_id": image_id, "question_id": qid, "question": "What is this?",
            "choices": ["a", "b", "c", "d"], "correct_choice_idx": 1, "direct_answers": ["cat"] * 10,
            "difficult_direct_answer": difficult, "rationales": ["r1", "r2", "r3"]}


def test_easyvqa_splits_are_disjoint_by_image_and_sized_as_released():
    train, val, test = (load_easyvqa(s) for s in ("train", "val", "test"))
    assert len(train) + len(val) == 38575
    assert len(test) == 9673
    assert not {s.image_id for s in train} & {s.image_id for s in val}
    assert not {s.image_id for s in train} & {s.image_id for s in test}  # keyed by split and id
    assert {s.answer_type for s in test} == {"yes/no", "color", "shape"}
    assert test[0].load_image().size == (64, 64)


def test_subsampling_is_deterministic_and_seeded():
    a = load_easyvqa("test", limit=50, seed=1)
    assert [s.sample_id for s in a] == [s.sample_id for s in load_easyvqa("test", limit=50, seed=1)]
    assert [s.sample_id for s in a] != [s.sample_id for s in load_easyvqa("test", limit=50, seed=2)]
    assert len(a) == 50


def test_aokvqa_official_format(tmp_path):
    records = [_aokvqa_record(f"q{i}", 100 + i, difficult=(i == 2)) for i in range(3)]
    (tmp_path / "aokvqa_v1p0_val.json").write_text(json.dumps(records))
    for i in range(3):
        _jpg(tmp_path / "coco" / "val2017" / f"{100 + i:012d}.jpg")
    samples = load_aokvqa(tmp_path, "val")
    assert [s.sample_id for s in samples] == ["aokvqa-q0", "aokvqa-q1", "aokvqa-q2"]
    assert samples[0].answers == ("cat",) * 10
    assert samples[0].load_image().size == (8, 8)
    assert len(load_aokvqa(tmp_path, "val", drop_difficult=True)) == 2


def test_aokvqa_missing_field_names_file_record_and_field(tmp_path):
    records = [_aokvqa_record("q0", 1), _aokvqa_record("q1", 2)]
    del records[1]["question"]
    (tmp_path / "aokvqa_v1p0_val.json").write_text(json.dumps(records))
    with pytest.raises(DatasetFormatError, match=r"aokvqa_v1p0_val.json: record 1 is missing the field 'question'"):
        load_aokvqa(tmp_path, "val")


def test_missing_annotation_and_malformed_json(tmp_path):
    with pytest.raises(DatasetFormatError, match="not found"):
        load_aokvqa(tmp_path, "val")
    (tmp_path / "aokvqa_v1p0_val.json").write_text("[{oops")
    with pytest.raises(DatasetFormatError, match="malformed JSON"):
        load_aokvqa(tmp_path, "val")


@pytest.mark.parametrize("nested", [False, True])
def test_vizwiz_official_format(tmp_path, nested):
    answers = [{"answer": "red", "answer_confidence": "yes"}] * 3 + [{"answer": "blue", "answer_confidence": "maybe"}] * 7
    records = [{"image": f"VizWiz_val_{i:08d}.jpg", "question": "What color?", "answers": answers,
                "answer_type": "other", "answerable": 1} for i in range(2)]
    ann = tmp_path / "Annotations" if nested else tmp_path
    ann.mkdir(exist_ok=True)
    (ann / "val.json").write_text(json.dumps(records))
    for i in range(2):
        _jpg(tmp_path / "val" / f"VizWiz_val_{i:08d}.jpg")
    samples = load_vizwiz(tmp_path, "val")
    assert len(samples) == 2 and samples[0].answers.count("red") == 3
    assert samples[1].sample_id == "vizwiz-VizWiz_val_00000001"


def test_vizwiz_test_split_has_no_answers(tmp_path):
    (tmp_path / "test.json").write_text(json.dumps([{"image": "VizWiz_test_00000000.jpg", "question": "What?"}]))
    _jpg(tmp_path / "test" / "VizWiz_test_00000000.jpg")
    assert load_vizwiz(tmp_path, "test")[0].answers == ()


def test_missing_images_fail_or_are_skipped_and_counted(tmp_path, caplog):
    answers = [{"answer": "red", "answer_confidence": "yes"}] * 10
    records = [{"image": f"VizWiz_val_{i:08d}.jpg", "question": "Q?", "answers": answers} for i in range(3)]
    (tmp_path / "val.json").write_text(json.dumps(records))
    _jpg(tmp_path / "val" / "VizWiz_val_00000000.jpg")
    with pytest.raises(DatasetFormatError, match="image not found.*2 missing"):
        load_vizwiz(tmp_path, "val")
    with caplog.at_level("WARNING"):
        assert len(load_vizwiz(tmp_path, "val", skip_missing_images=True)) == 1
    assert "skipped 2 of 3" in caplog.text


def test_pathvqa_original_pickle(tmp_path):
    qas = tmp_path / "qas" / "test"
    qas.mkdir(parents=True)
    records = [{"image": "test_0001", "question": "Is this a gland?", "answer": "yes"},
               {"image": "test_0002", "question": "What is present?", "answer": "necrosis"}]
    (qas / "test_qa.pkl").write_bytes(pickle.dumps(records))
    for name in ("test_0001", "test_0002"):
        _jpg(tmp_path / "images" / "test" / f"{name}.jpg")
    samples = load_pathvqa(tmp_path, "test")
    assert [s.answer_type for s in samples] == ["closed", "open"]
    assert samples[1].load_image().mode == "RGB"


def test_pathvqa_parquet_copy(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(buffer, format="JPEG")
    table = pa.table({"image": [{"bytes": buffer.getvalue(), "path": "img_1.jpg"}] * 2,
                      "question": ["is it blue?", "what is it?"], "answer": ["yes", "tissue"]})
    (tmp_path / "data").mkdir()
    pq.write_table(table, tmp_path / "data" / "validation-00000-of-00001.parquet")
    samples = load_pathvqa(tmp_path, "val")
    assert len(samples) == 2 and samples[0].load_image().getpixel((4, 4))[2] > 200


def test_pathvqa_malformed_pickle_names_the_file(tmp_path):
    qas = tmp_path / "qas" / "val"
    qas.mkdir(parents=True)
    (qas / "val_qa.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DatasetFormatError, match="val_qa.pkl"):
        load_pathvqa(tmp_path, "val")


def test_load_dataset_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("coco", "val")
    with pytest.raises(ValueError, match="--data-root"):
        load_dataset("vizwiz", "val")
    assert len(load_dataset("easyvqa", "val", limit=3)) == 3
