#!/usr/bin/env python3
"""Per-round, per-core figures from a peers-harness raw file.

The harness's summary gives medians of qps and of CPU separately; the
performance targets compare servers per core *in the same round*, so this
prints each round's kq/core (qps / server CPU) and its ratio to the baseline,
then the medians of both. Usage: per_core.py RAW.tsv [BASELINE]
"""
import csv
import statistics
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    baseline = sys.argv[2] if len(sys.argv) == 3 else "dnsdist"
    per_core = {}  # (workload, target) -> {round: kq/core}
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            cpu = float(row["server_cpu"])
            if row["phase"] == "lat" or cpu <= 0:
                continue
            kq = float(row["qps"]) / cpu * 100 / 1000
            per_core.setdefault((row["workload"], row["target"]), {})[row["round"]] = kq
    print(f"{'wload':6}{'target':15}{'kq/core(med)':>13}{'x_' + baseline + '(med)':>18}  per round (kq/core, x_{baseline})")
    for (workload, target), rounds in sorted(per_core.items()):
        base = per_core.get((workload, baseline), {})
        ratios = [kq / base[r] for r, kq in rounds.items() if r in base]
        cells = " ".join(
            f"{kq:.0f}" + (f"/{kq / base[r]:.2f}" if r in base else "") for r, kq in sorted(rounds.items(), key=lambda x: int(x[0]))
        )
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        print(f"{workload:6}{target:15}{statistics.median(rounds.values()):13.1f}{ratio:>18}  {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
