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
