"""Benchmark orchestration, metric tables and plots."""

from harmony.evaluation.benchmark import BenchmarkConfig, run_benchmark
from harmony.splits import split_images
from harmony.evaluation.scoring import evaluate

__all__ = ["BenchmarkConfig", "evaluate", "run_benchmark", "split_images"]
