"""Latency and throughput of the real service, measured in one run.

Starts `bentoml serve` twice (adaptive batching on, then off), sends easy-VQA
questions at concurrency 1 and 16, and prints p50/p95 latency, throughput, the
batched/unbatched throughput ratio and what scoring adds to /answer (score=false
answers from the same generate call without running the scorer).

    python -m benchmarks.service_latency [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from harmony.data import load_easyvqa

ROOT = Path(__file__).resolve().parents[1]


def start(batching: bool, port: int, log: Path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BENTOML_DO_NOT_TRACK": "True",
           "HARMONY_BATCHING": "1" if batching else "0"}
    process = subprocess.Popen([sys.executable, "-m", "bentoml", "serve", "serve.service:Harmony", "--host",
                                "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=open(log, "w"),
                               stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    for _ in range(300):
        try:
            if client.get("/readyz").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the service did not start; see {log}")


def load(client: httpx.Client, payloads, concurrency: int, score: bool) -> dict:
    def one(payload):
        data, question = payload
        started = time.perf_counter()
        reply = client.post("/answer", files={"image": ("q.png", data, "image/png")},
                            data={"question": question, "score": str(score).lower()})
        reply.raise_for_status()
        return time.perf_counter() - started

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, payloads[: 2 * concurrency]))  # warm-up
        started = time.perf_counter()
        latencies = list(pool.map(one, payloads))
        wall = time.perf_counter() - started
    return {"p50_ms": 1000 * float(np.percentile(latencies, 50)), "p95_ms": 1000 * float(np.percentile(latencies, 95)),
            "throughput": len(payloads) / wall}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=3917)
    args = parser.parse_args(argv)
    samples = load_easyvqa("test", limit=args.requests, seed=5)
    payloads = [(Path(s.image_path).read_bytes(), s.question) for s in samples]
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for batching in (True, False):
            process, client = start(batching, args.port, Path(tmp) / f"serve-{batching}.log")
            try:
                for concurrency in (1, 16):
                    for score in (True, False):
                        key = (batching, concurrency, score)
                        figures[key] = load(client, payloads, concurrency, score)
                        print(f"batching={'on ' if batching else 'off'} concurrency={concurrency:2d} "
                              f"score={'on ' if score else 'off'}: p50 {figures[key]['p50_ms']:.1f} ms, "
                              f"p95 {figures[key]['p95_ms']:.1f} ms, {figures[key]['throughput']:.1f} req/s", flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
    ratio = figures[(True, 16, True)]["throughput"] / figures[(False, 16, True)]["throughput"]
    print(f"batched / unbatched throughput at concurrency 16: {ratio:.2f}x")
    for concurrency in (1, 16):
        with_score, without = figures[(True, concurrency, True)]["p50_ms"], figures[(True, concurrency, False)]["p50_ms"]
        print(f"scoring adds {100 * (with_score / without - 1):+.1f}% to /answer p50 latency at concurrency "
              f"{concurrency} ({without:.1f} -> {with_score:.1f} ms)")


if __name__ == "__main__":
    main()
