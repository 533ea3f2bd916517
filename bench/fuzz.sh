#!/usr/bin/env bash
# Seeds and runs the cargo-fuzz targets in fuzz/.
#
# Usage: bench/fuzz.sh [SECONDS] [TARGET...]      (default: 300 s each, targets parse_line assemble)
#
# Seeds fuzz/corpus/<target>/ (gitignored) from the lines of the shared corpus beside the repository
# (../shared/corpus, when present) and from the repository's fixtures/, then runs each target for
# SECONDS, one after the other, on one core each. Crashes land in fuzz/artifacts/<target>/; minimize
# one with `cargo fuzz tmin <target> <artifact>` and keep it in fuzz/regressions/<target>/.
#
# Toolchain: cargo-fuzz needs nightly flags (-Zsanitizer). A nightly toolchain is used when rustup
# has one; otherwise stable with RUSTC_BOOTSTRAP=1. Set FUZZ_TOOLCHAIN to choose.
# FUZZ_JOBS=N runs the targets in parallel instead (N ignored beyond the number of targets).
# FUZZ_KEEP_GOING=1 fuzzes past crashes, OOMs and timeouts (libFuzzer fork mode), collecting every
# artifact, instead of stopping at the first.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-300}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(parse_line assemble)

KEEP_GOING=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && KEEP_GOING=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)

command -v cargo-fuzz >/dev/null 2>&1 || { echo "fuzz.sh: cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 1; }

if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  CARGO=(cargo "+$FUZZ_TOOLCHAIN")
elif rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  CARGO=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  CARGO=(cargo)
fi

# Seeds: parse_line gets one line per file (distinct lines, capped per source file so that the big
# kernel logs do not drown the rest); assemble gets runs of consecutive lines (one byte of mode in
# front, see fuzz_targets/assemble.rs).
python3 - <<'PY'
import hashlib, os, sys

roots = [p for p in ("../shared/corpus", "fixtures") if os.path.isdir(p)]
skip_ext = (".json", ".golden", ".rules", ".csv", ".md", ".yaml", ".gitattributes")
sources = []
for root in roots:
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            if f.endswith(skip_ext) or f in ("NOTICE", "LICENSE"):
                continue
            try:
                data = open(p, "rb").read()
            except OSError:
                continue
            lines = [l for l in data.split(b"\n") if b"audit(" in l]
            if lines:
                sources.append((p, lines))

def put(target, blob):
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(blob).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(blob)
        return 1
    return 0

PER_FILE = 400
CHUNK = 24
n_line = n_chunk = 0
for path, lines in sources:
    seen = set()
    picked = 0
    for l in lines:
        # Prefer variety: one line per (record type, field names) shape, up to PER_FILE per file.
        head = l.split(b"): ", 1)
        shape = (l[:l.find(b" msg=")] if b" msg=" in l else l[:40],
                 tuple(t.split(b"=", 1)[0] for t in head[-1].split(b" ")[:12]))
        if shape in seen:
            continue
        seen.add(shape)
        n_line += put("parse_line", l)
        picked += 1
        if picked >= PER_FILE:
            break
    for i in range(0, min(len(lines), CHUNK * 40), CHUNK):
        chunk = b"\n".join(lines[i:i + CHUNK]) + b"\n"
        if len(chunk) <= 64 * 1024:
            n_chunk += put("assemble", b"\x00" + chunk)
print(f"fuzz.sh: seeded from {len(sources)} files: {n_line} new parse_line seeds, {n_chunk} new assemble seeds",
      file=sys.stderr)
PY

(cd fuzz && "${CARGO[@]}" fuzz build)

# Regression inputs (fuzz/regressions/<target>/, committed) are replayed first, each on its own; a
# failing one is reported and fuzzing goes on (they stay out of the corpus so that a known,
# unfixed crash does not stop every run at startup).
mkdir -p fuzz/artifacts
status=0
for t in "${TARGETS[@]}"; do
  for f in fuzz/regressions/"$t"/*; do
    [ -f "$f" ] || continue
    if (cd fuzz && "${CARGO[@]}" fuzz run "$t" "../$f" -- -runs=0 >/dev/null 2>"artifacts/replay.log") 2>/dev/null; then
      echo "fuzz.sh: regression $f passes" >&2
    else
      status=1
      echo "fuzz.sh: regression $f FAILS: $(grep -m1 -E 'panicked at|ERROR: libFuzzer' fuzz/artifacts/replay.log || true)" >&2
    fi
  done
done

run() {
  local t="$1"
  mkdir -p fuzz/artifacts/"$t"
  echo "fuzz.sh: $t for ${SECONDS_PER_TARGET}s, log fuzz/artifacts/$t/fuzz.log" >&2
  local before
  before=$(find fuzz/artifacts/"$t" -maxdepth 1 \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  (cd fuzz && "${CARGO[@]}" fuzz run "$t" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
      -print_final_stats=1 "${KEEP_GOING[@]}" >"artifacts/$t/fuzz.log" 2>&1) && rc=0 || rc=$?
  tail -n 30 fuzz/artifacts/"$t"/fuzz.log | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss|Done )|cov:' | tail -n 3 >&2 || true
  local after
  after=$(find fuzz/artifacts/"$t" -maxdepth 1 \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  # In keep-going mode libFuzzer exits 0 even when it found something.
  [ "$after" -gt "$before" ] && [ "$rc" -eq 0 ] && rc=1
  if [ "$rc" -ne 0 ]; then
    echo "fuzz.sh: $t FAILED (rc=$rc); crash input in fuzz/artifacts/$t/, see fuzz/artifacts/$t/fuzz.log" >&2
  fi
  return "$rc"
}

if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  pids=()
  for t in "${TARGETS[@]}"; do run "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${TARGETS[@]}"; do run "$t" || status=1; done
fi
exit "$status"
