#!/usr/bin/env python3
"""Summarizes the criterion results of `cargo bench -p parse -p assemble`.

Reads <target>/criterion/{parse,assemble}/*/*/new/{benchmark,estimates}.json and prints, per stage,
the median time per pass over the input, records/s (criterion's Elements throughput) and MB/s
(input bytes / median time, MB = 10^6 bytes). Run it after `cargo bench`.

Usage: bench/criterion-summary.py [TARGET_DIR]     (default: $CARGO_TARGET_DIR or target)
"""

import glob
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Input labels used by crates/*/benches/*.rs, relative to the repository root.
INPUTS = {
    "benign-enriched": "../shared/corpus/kernel/benign-enriched/audit.log",
    "fixture-exec-basic-enriched": "fixtures/kernel/exec-basic-enriched/audit.log",
}
ORDER = ["frame", "fields", "decode", "decode_enriched", "parse_assemble", "parse_assemble_decode_no_summary", "parse_assemble_decode"]


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    rows = []
    for bench in glob.glob(os.path.join(target, "criterion", "*", "*", "*", "new", "benchmark.json")):
        with open(bench) as f:
            meta = json.load(f)
        if meta.get("group_id") not in ("parse", "assemble"):
            continue
        with open(os.path.join(os.path.dirname(bench), "estimates.json")) as f:
            est = json.load(f)
        ns = est["median"]["point_estimate"]
        lo = est["median"]["confidence_interval"]["lower_bound"]
        hi = est["median"]["confidence_interval"]["upper_bound"]
        records = (meta.get("throughput") or {}).get("Elements")
        label = meta.get("value_str") or ""
        path = INPUTS.get(label)
        size = os.path.getsize(os.path.join(REPO, path)) if path and os.path.exists(os.path.join(REPO, path)) else None
        rows.append((meta["group_id"], meta["function_id"], label, ns, lo, hi, records, size))
    if not rows:
        sys.exit(f"criterion-summary: no results under {target}/criterion; run cargo bench -p parse -p assemble first")
    rows.sort(key=lambda r: (r[0] != "parse", ORDER.index(r[1]) if r[1] in ORDER else 99))
    print(f"{'stage':<42} {'input':<16} {'ms/pass':>9} {'records/s (median, CI)':>32} {'MB/s':>8}")
    for group, func, label, ns, lo, hi, records, size in rows:
        rps = f"{records / ns * 1e9:,.0f} ({records / hi * 1e9 / 1e6:.2f}-{records / lo * 1e9 / 1e6:.2f} M)" if records else "-"
        mbps = f"{size / ns * 1e3:.1f}" if size else "-"
        print(f"{group + '/' + func:<42} {label:<16} {ns / 1e6:>9.2f} {rps:>32} {mbps:>8}")


if __name__ == "__main__":
    main()
