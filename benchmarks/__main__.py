"""`python -m benchmarks [--quick] [--only KEY ...]`: run the sections, print the table, write
var/bench.json, and exit non-zero when a target fails (with --quick: a call or statement target,
since times on a loaded machine prove nothing)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from benchmarks import SECTION_MODULES
from benchmarks.harness import ROOT, SECTIONS, Sizes, setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, counts asserted")
    parser.add_argument("--only", nargs="*", default=[], help="section keys to run")
    args = parser.parse_args(argv)
    database = setup_django("uku_bench_quick" if args.quick else "uku_bench")
    for module in SECTION_MODULES:
        importlib.import_module(module)
    sizes = Sizes.for_run(args.quick)
    print(f"uku benchmark ({'quick' if args.quick else 'full'}) on {database}\n")
    report: dict[str, object] = {"database": database, "quick": args.quick}
    failed = []
    for key, run in SECTIONS:
        if args.only and key not in args.only:
            continue
        result = run(sizes)
        result.figures["targets"] = {
            t.name: {"ok": t.ok, "detail": t.detail, "known_miss": t.known_miss}
            for t in result.targets
        }
        # "merit.p1_customer_import" is stored as report["merit"]["p1_customer_import"].
        *outer, leaf = key.split(".")
        into = report
        for part in outer:
            into = into.setdefault(part, {})  # type: ignore[assignment]
        into[leaf] = result.figures
        print(f"{key}")
        for name, value in result.figures.items():
            if name == "targets":
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            print(f"  {name:<28} {value}")
        for target in result.targets:
            status = "ok  " if target.ok else ("MISS" if target.known_miss else "FAIL")
            note = f" (known: {target.known_miss})" if target.known_miss and not target.ok else ""
            print(f"  [{status}] {target.name}: {target.detail}{note}")
            if target.ok:
                continue
            if target.known_miss and args.quick:
                continue
            if target.counts_only or not args.quick:
                failed.append(f"{key}: {target.name}")
        print()
    out = ROOT / "var" / ("bench-quick.json" if args.quick else "bench.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    if failed:
        print("targets missed:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
