#!/usr/bin/env bash
# The project's test command (the README's second command, run by CI through .ci/run).
# Installs what the tests need on a fresh machine, then runs every test of the workspace.
# The conformance tests read the shared audit corpus beside the repository (../shared/corpus)
# and fail, not skip, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus not found beside the repository; the conformance tests need it" >&2
  exit 1
fi
cargo test --workspace --locked
