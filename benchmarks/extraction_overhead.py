"""Cost of one-pass feature capture over plain generation, measured in one run.

Times plain ``generate`` (answers only) against ``capture_batch`` (answers + token
probabilities + hidden states from the same call) and against the full ``extract``
into a feature store, on the same easy-VQA samples, batch size and model; prints the
ratios and the store's bytes per sample.

    python -m benchmarks.extraction_overhead [--model tiny-llava --samples 200 --batch-size 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from harmony.data import load_easyvqa
from harmony.features import extract
from harmony.features.capture import capture_batch, num_decoder_layers, resolve_layers
from harmony.vlm import load_vlm


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-llava")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    adapter = load_vlm(args.model, device=None)
    samples = load_easyvqa("test", limit=args.samples, seed=0)
    images = [s.load_image() for s in samples]
    questions = [s.question for s in samples]
    layers = resolve_layers("default", num_decoder_layers(adapter))
    batches = [(images[i:i + args.batch_size], questions[i:i + args.batch_size])
               for i in range(0, len(samples), args.batch_size)]

    def plain():
        for imgs, qs in batches:
            out = adapter.generate(adapter.encode(imgs, qs), max_new_tokens=args.max_new_tokens, capture=False)
            [adapter.decode(seq) for seq in out.sequences.tolist()]

    def captured():
        for imgs, qs in batches:
            capture_batch(adapter, imgs, qs, layers, max_new_tokens=args.max_new_tokens)

    def timed(fn) -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - start

    plain(), captured()  # warm-up
    plain_times, capture_times = [], []
    for _ in range(args.repeats):  # interleaved so drift hits both alike
        plain_times.append(timed(plain))
        capture_times.append(timed(captured))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        extract(adapter, samples, Path(tmp) / "store", batch_size=args.batch_size,
                max_new_tokens=args.max_new_tokens, progress=False, num_workers=0)
        store_time = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp, "store").rglob("*") if p.is_file())
    best_plain, best_capture = min(plain_times), min(capture_times)
    print(f"model {args.model}, {len(samples)} samples, batch size {args.batch_size}, layers {layers}, "
          f"device {adapter.device}")
    print(f"plain generate:            {best_plain:.3f} s  ({len(samples) / best_plain:.1f} samples/s)")
    print(f"generate + capture:        {best_capture:.3f} s  ratio {best_capture / best_plain:.3f}x")
    print(f"extract into a store:      {store_time:.3f} s  ratio {store_time / best_plain:.3f}x "
          f"(includes image loading, Lightning and disk writes)")
    print(f"store size: {size / len(samples):.0f} bytes per sample")


if __name__ == "__main__":
    main()
