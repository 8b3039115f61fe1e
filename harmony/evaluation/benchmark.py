"""The benchmark: extract once, split by image, fit every scorer, evaluate on test (and a shifted test), over seeds."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


from harmony.data import load_dataset
from harmony.data.shift import shifted
from harmony.evaluation.report import (
    best_scorer, markdown_table, plot_rejection_curves, plot_reliability_diagram, summarize, write_samples_csv,
)
from harmony.evaluation.scoring import evaluate
from harmony.features import FeatureStore, extract
from harmony.scorers import default_suite
from harmony.splits import split_images


@dataclass
class BenchmarkConfig:
    """What to run. ``limit`` subsamples each dataset split (None = all of it)."""

    models: list[str] = field(default_factory=lambda: ["tiny-llava", "tiny-instructblip"])
    dataset: str = "easyvqa"
    split: str = "test"                 # the split whose answers are divided into scorer train / val / test
    data_root: str | None = None
    limit: int | None = None
    shift: bool = True                  # also evaluate on degraded images (easy-VQA)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)  # train / val / test, by image
    batch_size: int = 32
    max_new_tokens: int = 6
    layers: str = "default"
    device: str | None = None
    n_bootstrap: int = 200
    stores: str | None = None           # feature-store cache directory (default: <out>/stores)


def _stage(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_benchmark(config: BenchmarkConfig, out: str | Path) -> dict:
    """Run the benchmark and write results.json, table.md, samples.csv and plots under ``out``."""
    from harmony.vlm import load_vlm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stores_root = Path(config.stores) if config.stores else out / "stores"
    started = time.time()
    samples = load_dataset(config.dataset, config.split, root=config.data_root, limit=config.limit)
    conditions = {"clean": samples}
    if config.shift:
        conditions["shifted"] = shifted(samples)
    results = {"config": asdict(config), "models": {}}
    tables, sample_rows = [], []
    for m, model in enumerate(config.models, 1):
        _stage(f"model {m}/{len(config.models)} {model}: loading")
        adapter = load_vlm(model, device=config.device)
        stores = {}
        for condition, items in conditions.items():
            _stage(f"model {model}: extracting {len(items)} {condition} answers")
            stores[condition] = extract(adapter, items, stores_root / model.replace("/", "__") /
                                        f"{config.dataset}-{config.split}-{condition}", layers=config.layers,
                                        batch_size=config.batch_size, max_new_tokens=config.max_new_tokens)
        del adapter
        clean = stores["clean"]
        per_condition: dict[str, list[dict]] = {c: [] for c in stores}
        for seed in config.seeds:
            train_ids, val_ids, test_ids = split_images(clean, config.fractions, seed)
            train, val = clean.subset(train_ids), clean.subset(val_ids)
            tests = {c: s.subset([f"{i}~shift" if c == "shifted" else i for i in test_ids]) for c, s in stores.items()}
            suite = default_suite(seed=seed)
            scores = {c: {} for c in tests}
            for k, scorer in enumerate(suite, 1):
                _stage(f"model {model} seed {seed}: fitting {scorer.name} ({k}/{len(suite)})")
                scorer.fit(train, val)
                for condition, test in tests.items():
                    scores[condition][scorer.name] = scorer.score(test)
            for condition, test in tests.items():
                labels, soft = test.labels, test.soft_scores
                per_condition[condition].append({name: evaluate(r, labels, soft, config.n_bootstrap, seed)
                                                 for name, r in scores[condition].items()})
                for i, row in enumerate(test.rows):
                    sample_rows.append({"model": model, "condition": condition, "seed": seed,
                                        "sample_id": row["sample_id"], "label": row["label"],
                                        "soft_score": row["soft_score"],
                                        **{name: round(float(r[i]), 6) for name, r in scores[condition].items()}})
                if seed == config.seeds[0]:
                    title = f"{model} on {config.dataset} {condition} (seed {seed})"
                    slug = f"{model.replace('/', '__')}_{condition}"
                    plot_rejection_curves(out / f"rejection_curve_{slug}.png", scores[condition], labels, title)
                    plot_reliability_diagram(out / f"reliability_{slug}.png", scores[condition], labels, title)
        results["models"][model] = {}
        for condition, runs in per_condition.items():
            summary = summarize(runs)
            results["models"][model][condition] = {
                "accuracy": float(tests[condition].labels.mean()), "test_size": len(tests[condition]),
                "summary": summary, "per_seed": runs, "verdict": verdict(summary)}
            tables.append(markdown_table(summary, f"{model} · {config.dataset} {condition} "
                                                  f"(accuracy {tests[condition].labels.mean():.3f}, "
                                                  f"{len(tests[condition])} test answers, {len(config.seeds)} seeds)"))
    results["minutes"] = round((time.time() - started) / 60, 2)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "table.md").write_text("\n".join(tables))
    write_samples_csv(out / "samples.csv", sample_rows)
    _stage(f"done in {results['minutes']} min; wrote {out.resolve()} (results.json, table.md, samples.csv, *.png)")
    return results


def verdict(summary: dict) -> dict:
    """HARMONY's margin over the best non-HARMONY scorer on AUROC and PRR."""
    baselines = [s for s in summary if not s.startswith("harmony")]
    out = {}
    for metric in ("auroc", "prr"):
        best = best_scorer(summary, metric, among=baselines)
        out[metric] = {"harmony": summary["harmony"][metric]["mean"], "best_baseline": best,
                       "best_baseline_value": summary[best][metric]["mean"] if best else float("nan")}
        out[metric]["margin"] = out[metric]["harmony"] - out[metric]["best_baseline_value"]
    return out
