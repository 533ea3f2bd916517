#!/usr/bin/env bash
# The project's test command (the README's second command, run by CI through .ci/run).
# Installs what the tests need on a fresh machine (auditd tools; DuckDB, pandas, pyarrow and
# networkx for Python), then runs every test of the workspace.
# The conformance tests read the shared audit corpus beside the repository (../shared/corpus)
# and fail, not skip, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
# The export and graph-format tests read our files with the real readers: DuckDB, pandas with
# pyarrow, networkx. They fail, not skip, without them; install them only when missing.
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 not found; the export tests need it (apt-get install python3 python3-pip)" >&2
  exit 1
fi
if ! python3 -c 'import duckdb, pandas, pyarrow, networkx' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check duckdb pandas pyarrow networkx \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages duckdb pandas pyarrow networkx
fi
if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus not found beside the repository; the conformance tests need it" >&2
  exit 1
fi
cargo test --workspace --locked
