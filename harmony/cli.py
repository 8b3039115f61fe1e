"""``harmony`` command line: extract | fit | evaluate | benchmark | calibrate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _extract(args) -> None:
    from harmony.data import load_dataset
    from harmony.features import extract
    from harmony.vlm import load_vlm

    samples = load_dataset(args.dataset, args.split, root=args.data_root, limit=args.limit, seed=args.seed)
    adapter = load_vlm(args.model, device=args.device, dtype=args.dtype)
    store = extract(adapter, samples, args.out, layers=args.layers, batch_size=args.batch_size,
                    max_new_tokens=args.max_new_tokens, devices=args.devices, num_nodes=args.num_nodes,
                    strategy=args.strategy, num_workers=args.num_workers)
    print(f"wrote the feature store {Path(args.out).resolve()} ({len(store)} samples, {len(store.failures)} failed)")


def _fit(args) -> None:
    from harmony.features import FeatureStore
    from harmony.scorers import REGISTRY

    if args.scorer not in REGISTRY:
        raise SystemExit(f"harmony fit: unknown scorer {args.scorer!r}; choose from {sorted(REGISTRY)}")
    val = FeatureStore(args.val_store) if args.val_store else None
    scorer = REGISTRY[args.scorer]().fit(FeatureStore(args.store), val)
    path = scorer.save(args.out)
    print(f"wrote the fitted scorer {scorer.name} to {Path(path).resolve()}")


def _evaluate(args) -> None:
    import json

    from harmony.evaluation import evaluate
    from harmony.features import FeatureStore
    from harmony.scorers import Scorer

    store = FeatureStore(args.store)
    scorer = Scorer.load(args.scorer_dir)
    figures = evaluate(scorer.score(store), store.labels, store.soft_scores, n_bootstrap=args.bootstrap)
    text = json.dumps({"scorer": scorer.name, "store": str(args.store), "metrics": figures}, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {Path(args.out).resolve()}")


def _benchmark(args) -> None:
    from harmony.evaluation import BenchmarkConfig, run_benchmark

    split = args.split or ("test" if args.dataset == "easyvqa" else "val")
    config = BenchmarkConfig(models=args.models, dataset=args.dataset, split=split, data_root=args.data_root,
                             limit=args.limit, shift=not args.no_shift and args.dataset == "easyvqa",
                             seeds=list(range(args.seeds)), batch_size=args.batch_size, device=args.device,
                             n_bootstrap=args.bootstrap, stores=args.stores)
    run_benchmark(config, args.out)


def _calibrate(args) -> None:
    import json

    from harmony.calibration import calibrate_threshold
    from harmony.features import FeatureStore
    from harmony.scorers import Scorer

    store = FeatureStore(args.store)
    scorer = Scorer.load(args.scorer_dir)
    calibration = calibrate_threshold(scorer.score(store), store.labels, alpha=args.alpha, delta=args.delta)
    path = Path(args.scorer_dir) / "calibration.json"
    path.write_text(json.dumps({**calibration.to_dict(), "store": str(args.store), "scorer": scorer.name}, indent=2))
    print(json.dumps(calibration.to_dict(), indent=2))
    print(f"wrote {path.resolve()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harmony", description="Reliability scores for VLM answers.")
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="answer a dataset and store the features of each answer")
    extract.add_argument("--model", default="tiny-llava", help="embedded name, checkpoint directory or hub id")
    extract.add_argument("--dataset", default="easyvqa", choices=["easyvqa", "aokvqa", "vizwiz", "pathvqa"])
    extract.add_argument("--split", default="test")
    extract.add_argument("--data-root", default=None, help="directory holding the dataset's official files")
    extract.add_argument("--out", required=True, help="feature store directory (created, or resumed)")
    extract.add_argument("--limit", type=int, default=None)
    extract.add_argument("--seed", type=int, default=0, help="seed of the --limit subsample")
    extract.add_argument("--batch-size", type=int, default=16)
    extract.add_argument("--layers", default="default", help="'default' (middle, last), 'all', or e.g. 8,16,-1")
    extract.add_argument("--max-new-tokens", type=int, default=10)
    extract.add_argument("--device", default=None, help="cuda or cpu (default: cuda when present)")
    extract.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    extract.add_argument("--devices", default=1, type=lambda v: v if v == "auto" else int(v))
    extract.add_argument("--num-nodes", type=int, default=1)
    extract.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp")
    extract.add_argument("--num-workers", type=int, default=2, help="image-loading workers")
    extract.set_defaults(run=_extract)

    fit = commands.add_parser("fit", help="fit one scorer on a feature store and save it")
    fit.add_argument("--store", required=True)
    fit.add_argument("--val-store", default=None, help="validation store (default: 10%% of --store's images)")
    fit.add_argument("--scorer", default="harmony")
    fit.add_argument("--out", required=True)
    fit.set_defaults(run=_fit)

    evaluate = commands.add_parser("evaluate", help="metrics of a saved scorer on a feature store")
    evaluate.add_argument("--store", required=True)
    evaluate.add_argument("--scorer-dir", required=True)
    evaluate.add_argument("--bootstrap", type=int, default=1000)
    evaluate.add_argument("--out", default=None, help="also write the JSON here")
    evaluate.set_defaults(run=_evaluate)

    calibrate = commands.add_parser("calibrate", help="choose the abstention threshold that controls the risk")
    calibrate.add_argument("--store", required=True, help="held-out calibration store (not used for fitting)")
    calibrate.add_argument("--scorer-dir", required=True)
    calibrate.add_argument("--alpha", type=float, default=0.1, help="target error rate among answered")
    calibrate.add_argument("--delta", type=float, default=0.1, help="allowed probability of exceeding alpha")
    calibrate.set_defaults(run=_calibrate)

    bench = commands.add_parser("benchmark", help="every scorer x metric table for models x a dataset")
    bench.add_argument("--models", nargs="+", default=["tiny-llava", "tiny-instructblip"])
    bench.add_argument("--dataset", default="easyvqa", choices=["easyvqa", "aokvqa", "vizwiz", "pathvqa"])
    bench.add_argument("--split", default=None, help="default: test for easyvqa, val otherwise")
    bench.add_argument("--data-root", default=None)
    bench.add_argument("--limit", type=int, default=None)
    bench.add_argument("--seeds", type=int, default=3, help="number of seeds (splits and scorer inits)")
    bench.add_argument("--no-shift", action="store_true", help="skip the degraded-image test set")
    bench.add_argument("--batch-size", type=int, default=32)
    bench.add_argument("--device", default=None)
    bench.add_argument("--bootstrap", type=int, default=200)
    bench.add_argument("--stores", default=None, help="feature-store cache (default: <out>/stores)")
    bench.add_argument("--out", default="results/default")
    bench.set_defaults(run=_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from harmony.errors import HarmonyError

    try:
        args.run(args)
    except HarmonyError as exc:
        print(f"harmony {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
