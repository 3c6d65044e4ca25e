"""Time to check N copies of the real fixture trees with full recomputation.

Copies both fixture rounds N times into a temporary folder (one submitter per copy), then
measures, side by side in one run: parsing (the tree walk and every file parsed by
``tinyperf.submissions.loader``), recomputation (``rules.engine.recompute_tree``) and the rule
pass. Prints seconds per result dir (``results/<system>/<benchmark>``) and the shares.
Usage: python benchmarks/check_speed.py [--copies 4] [--reference-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from tinyperf.rules.engine import check, recompute_tree, reference_labels
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.loader import load

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/real_submissions"


def build(root: Path, copies: int) -> dict[str, Path]:
    trees = {}
    for version in ("v1.1", "v1.3"):
        src = FIXTURES / version / "closed"
        dst = root / version / "closed"
        for sub in src.iterdir():
            for i in range(copies):
                shutil.copytree(sub, dst / f"{sub.name}{i}")
        trees[version] = root / version
    return trees


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--reference-dir", type=Path,
                    default=os.environ.get("TINYPERF_REFERENCE_DIR"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = build(Path(tmp), args.copies)
        for version, path in trees.items():
            rules = load_ruleset(version)
            labels = reference_labels(rules, args.reference_dir)
            t0 = time.perf_counter()
            tree = load(path)
            t1 = time.perf_counter()
            recompute_tree(tree, rules.settings, labels)
            t2 = time.perf_counter()
            report = check(tree, rules, args.reference_dir)  # recomputes again + rules
            t3 = time.perf_counter()
            rules_s = max((t3 - t2) - (t2 - t1), 0.0)
            total = (t1 - t0) + (t2 - t1) + rules_s
            dirs = len(tree.benchmarks())
            print(f"{version}: {dirs} result dirs ({args.copies} copies), "
                  f"{len(report.rows)} results, {total:.3f} s total, "
                  f"{1000 * total / dirs:.1f} ms per result dir")
            print(f"  parsing      {t1 - t0:7.3f} s  {100 * (t1 - t0) / total:5.1f} %")
            print(f"  recomputing  {t2 - t1:7.3f} s  {100 * (t2 - t1) / total:5.1f} %")
            print(f"  rules        {rules_s:7.3f} s  {100 * rules_s / total:5.1f} %")


if __name__ == "__main__":
    main()
