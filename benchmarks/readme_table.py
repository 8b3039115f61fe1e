"""Print the README's compact results table (AUROC and PRR per model and condition) from a results.json.

    python -m benchmarks.readme_table results/default/results.json
"""

from __future__ import annotations

import json
import sys

from harmony.evaluation.report import best_scorer

SHOWN = ("msp", "mean_token_entropy", "saplma", "linear_probe", "harmony[text+prob]",
         "harmony[hidden+image+question]", "harmony")


def main(path: str) -> None:
    results = json.load(open(path))
    columns = [(model.replace("tiny-", ""), condition, metric, cell["summary"])
               for model, conditions in results["models"].items()
               for condition, cell in conditions.items() for metric in ("auroc", "prr")]
    print("| scorer | " + " | ".join(f"{m} {c} {k.upper()}" for m, c, k, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    best = [best_scorer(summary, metric) for _, _, metric, summary in columns]
    for scorer in SHOWN:
        cells = []
        for (_, _, metric, summary), top in zip(columns, best):
            text = f"{summary[scorer][metric]['mean']:.3f} ± {summary[scorer][metric]['std']:.3f}"
            cells.append(f"**{text}**" if scorer == top else text)
        print(f"| {scorer} | " + " | ".join(cells) + " |")
    print()
    for model, conditions in results["models"].items():
        for condition, cell in conditions.items():
            v = cell["verdict"]
            print(f"- {model} {condition}: HARMONY - best baseline = {v['auroc']['margin']:+.3f} AUROC "
                  f"({v['auroc']['best_baseline']}), {v['prr']['margin']:+.3f} PRR ({v['prr']['best_baseline']})")
    print(f"\nrun time: {results['minutes']} min")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/default/results.json")
