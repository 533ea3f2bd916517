"""Reads an `auditmesh export` Parquet file with DuckDB and with pandas + pyarrow, and its JSON
lines twin with the json module, and prints what they hold as one JSON object, for
crates/cli/tests/export_cli.rs to compare with what the store says.

Usage: python3 export_check.py EVENTS.parquet EVENTS.jsonl
"""
import json
import sys

import duckdb
import pandas as pd
import pyarrow.parquet as pq

parquet, jsonl = sys.argv[1], sys.argv[2]
out = {}

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
rel = f"read_parquet('{parquet}')"
out["duckdb"] = {
    "count": con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0],
    "by_syscall": {str(s): n for s, n in con.execute(f"SELECT syscall, count(*) FROM {rel} GROUP BY syscall").fetchall()},
    "types": {name: typ for name, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()},
    "execve_argv": {
        str(serial): argv
        for serial, argv in con.execute(f"SELECT serial, argv FROM {rel} WHERE syscall = 'execve' AND success").fetchall()
    },
    "percent_paths": {
        str(serial): paths
        for serial, paths in con.execute(
            f"SELECT serial, paths FROM {rel} WHERE strpos(array_to_string(paths, ' '), '%') > 0"
        ).fetchall()
    },
    "first_time": str(con.execute(f"SELECT min(time)::VARCHAR FROM {rel}").fetchone()[0]),
    "by_node": {str(s): n for s, n in con.execute(f"SELECT node, count(*) FROM {rel} GROUP BY node").fetchall()},
}

df = pd.read_parquet(parquet, engine="pyarrow")
meta = pq.ParquetFile(parquet).metadata
out["pandas"] = {
    "count": len(df),
    "by_syscall": {(k if isinstance(k, str) else "None"): int(v) for k, v in df["syscall"].value_counts(dropna=False).items()},
    "time_dtype": str(df["time"].dtype),
    "execve_argv": {str(r.serial): r.argv for r in df[(df["syscall"] == "execve") & (df["success"] == True)].itertuples()},
    "row_groups": meta.num_row_groups,
    "compression": meta.row_group(0).column(0).compression if meta.num_row_groups else None,
    "first_records_line": df["records"].dropna().iloc[0].split("\n")[0] if "records" in df.columns and df["records"].notna().any() else None,
    "null_records": int(df["records"].isna().sum()) if "records" in df.columns else None,
    "columns": list(df.columns),
}

with open(jsonl, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f]
by = {}
for r in rows:
    by[str(r["syscall"])] = by.get(str(r["syscall"]), 0) + 1
out["jsonl"] = {
    "count": len(rows),
    "by_syscall": by,
    "execve_argv": {str(r["serial"]): r["argv"] for r in rows if r["syscall"] == "execve" and r["success"]},
}

print(json.dumps(out, sort_keys=True, default=str))
