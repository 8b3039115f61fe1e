"""Fit and calibrate the HARMONY scorer shipped with an embedded model (used by the service by default).

    python -m harmony.zoo.fit_scorer --model tiny-llava

Answers from the easy-VQA test split are split by image: 60% fit HARMONY, 20%
select its checkpoint, 20% calibrate the abstention threshold (alpha, delta).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from harmony.calibration import calibrate_threshold
from harmony.data import load_easyvqa
from harmony.splits import split_images
from harmony.features import extract
from harmony.metrics import auroc, prr
from harmony.scorers import HarmonyScorer
from harmony.serving import CALIBRATION_FILE, SCORERS
from harmony.vlm import load_vlm


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-llava")
    parser.add_argument("--store", default=None, help="reuse this feature store of easy-VQA test answers")
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    store_dir = Path(args.store) if args.store else Path(tempfile.mkdtemp()) / "store"
    store = extract(load_vlm(args.model), load_easyvqa("test"), store_dir, max_new_tokens=6, batch_size=32)
    train, val, calibration = (store.subset(ids) for ids in split_images(store, (0.6, 0.2, 0.2), args.seed))
    scorer = HarmonyScorer(seed=args.seed).fit(train, val)
    reliability = scorer.score(calibration)
    result = calibrate_threshold(reliability, calibration.labels, alpha=args.alpha, delta=args.delta)
    out = args.out or SCORERS / args.model
    scorer.save(out)
    report = {**result.to_dict(), "scorer": scorer.name, "model": args.model,
              "calibration_auroc": auroc(reliability, calibration.labels),
              "calibration_prr": prr(reliability, calibration.labels), "training": scorer.training_report_}
    (out / CALIBRATION_FILE).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"wrote {out.resolve()}")


if __name__ == "__main__":
    main()
