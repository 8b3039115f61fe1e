import csv
import json

from harmony.evaluation import BenchmarkConfig, run_benchmark, split_images
from harmony.features import FeatureStore


def test_benchmark_runs_end_to_end_on_a_tiny_subset(tmp_path):
    config = BenchmarkConfig(models=["tiny-llava"], limit=150, seeds=[0, 1], n_bootstrap=5, batch_size=32)
    results = run_benchmark(config, tmp_path)
    for name in ("results.json", "table.md", "samples.csv", "rejection_curve_tiny-llava_clean.png",
                 "reliability_tiny-llava_shifted.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    saved = json.loads((tmp_path / "results.json").read_text())
    clean = saved["models"]["tiny-llava"]["clean"]
    assert set(clean["summary"]) >= {"msp", "saplma", "linear_probe", "harmony", "harmony[text+prob]"}
    assert 0.0 <= clean["summary"]["harmony"]["auroc"]["mean"] <= 1.0
    assert len(clean["per_seed"]) == 2 and "margin" in clean["verdict"]["auroc"]
    assert "shifted" in results["models"]["tiny-llava"]
    table = (tmp_path / "table.md").read_text()
    assert "| harmony |" in table and "shifted" in table
    with open(tmp_path / "samples.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {"sample_id", "label", "soft_score", "harmony", "msp"} <= set(rows[0])
    assert all(0.0 <= float(r["harmony"]) <= 1.0 for r in rows)
    # scorer train and test never share an image
    store = FeatureStore(tmp_path / "stores" / "tiny-llava" / "easyvqa-test-clean")
    train, val, test = split_images(store, config.fractions, seed=0)
    image = {r["sample_id"]: r["image_id"] for r in store.rows}
    assert not {image[i] for i in train} & {image[i] for i in test}
    assert not {image[i] for i in val} & {image[i] for i in test}
