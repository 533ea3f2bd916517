#!/usr/bin/env bash
# End-to-end comparison of `auditmesh parse` with its peers on the same input, in the same run.
#
# Usage: bench/compare.sh [--size MB] [--runs N] [--input LOG] [--no-build] [--no-memcheck]
#
#   --size MB      size of the replicated input (default 100); made by bench/replicate.py into
#                  bench-data/ (gitignored) when missing
#   --runs N       timed runs per tool; the median wall time is reported (default 3)
#   --input LOG    log to replicate (default ../shared/corpus/kernel/benign-enriched/audit.log,
#                  relative to the repository root)
#   --no-build     do not run `cargo build --release -p auditmesh-cli`
#   --no-memcheck  skip the memory-growth check (auditmesh at 25 MB and 100 MB)
#
# Tools, each reading the same file with its output sent to /dev/null:
#   auditmesh  target/release/auditmesh parse INPUT
#   ausearch   ausearch -i -if INPUT                  (Debian package auditd)
#   laurel     laurel -c CONFIG < INPUT               (Debian package laurel, else
#              `cargo install laurel --root bench-data/laurel`); CONFIG is written to a temporary
#              directory: laurel's defaults, output to stdout ("-"), no privilege drop.
# A tool that is not installed is reported as missing and left out.
#
# Wall time and peak RSS come from /usr/bin/time (GNU time, `-f '%e %M'`), wall time also from the
# shell clock (ns) for resolution. Before timing, each tool runs once untimed with its output
# counted (events: JSON lines for auditmesh and laurel, `----` separators for ausearch), which also
# warms the page cache.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$PWD"

SIZE=100
RUNS=3
INPUT_SRC="../shared/corpus/kernel/benign-enriched/audit.log"
BUILD=1
MEMCHECK=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --input) INPUT_SRC="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-memcheck) MEMCHECK=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "compare.sh: GNU time (/usr/bin/time, Debian package time) is required" >&2; exit 1; }
PATH="$PATH:/usr/sbin:/sbin"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

say() { printf '%s\n' "$*" >&2; }

# --- auditmesh ------------------------------------------------------------------------------
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
AUDITMESH="$TARGET_DIR/release/auditmesh"
if [ "$BUILD" = 1 ]; then
  say "compare.sh: cargo build --release -p auditmesh-cli"
  if ! cargo build --release -p auditmesh-cli >&2; then
    say "compare.sh: build failed; auditmesh left out"
  fi
fi
HAVE_AUDITMESH=0
PROBE="fixtures/kernel/exec-basic-enriched/audit.log"
if [ -x "$AUDITMESH" ] && [ -n "$("$AUDITMESH" parse "$PROBE" 2>/dev/null </dev/null | head -c 1)" ]; then
  HAVE_AUDITMESH=1
else
  say "compare.sh: '$AUDITMESH parse $PROBE' prints nothing (not built or not written yet); auditmesh left out"
fi

# --- peers ----------------------------------------------------------------------------------
HAVE_AUSEARCH=0
command -v ausearch >/dev/null 2>&1 && HAVE_AUSEARCH=1 || say "compare.sh: ausearch missing (apt-get install auditd); left out"

LAUREL=""
if command -v laurel >/dev/null 2>&1; then
  LAUREL="$(command -v laurel)"
elif [ -x bench-data/laurel/bin/laurel ]; then
  LAUREL="$REPO/bench-data/laurel/bin/laurel"
elif apt-cache policy laurel 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  say "compare.sh: laurel missing; Debian has it: apt-get install laurel"
else
  say "compare.sh: laurel missing; cargo install laurel --root bench-data/laurel"
fi
LAUREL_CONF="$TMP/laurel.toml"
cat >"$LAUREL_CONF" <<EOF
directory = "$TMP"
[auditlog]
file = "-"
EOF

# --- input ----------------------------------------------------------------------------------
input_for() {  # input_for MB -> path of the replicated log, made when missing
  local mb="$1" name
  name="$(basename "$(dirname "$INPUT_SRC")")"
  local path="bench-data/${name}-${mb}MB.log"
  if [ ! -s "$path" ]; then
    python3 bench/replicate.py --input "$INPUT_SRC" --size "$mb" --output "$path" >&2
  fi
  printf '%s\n' "$REPO/$path"
}

INPUT="$(input_for "$SIZE")"
BYTES=$(stat -c %s "$INPUT")
RECORDS=$(grep -c 'audit(' "$INPUT" || true)
say "compare.sh: input ${INPUT#"$REPO"/}: $RECORDS records, $BYTES bytes; $RUNS runs per tool"

# --- measuring ------------------------------------------------------------------------------
# measure NAME EVENTS-COUNTER -- CMD... ; stdin of CMD is $STDIN (or /dev/null)
# Appends "name secs rss_kb cpu_secs events" to $TMP/results.
measure() {
  local name="$1" counter="$2"; shift 3
  local stdin="${STDIN:-/dev/null}"
  local events
  events=$("$@" <"$stdin" 2>"$TMP/$name.err" | $counter) || true
  if [ "${events:-0}" = 0 ]; then
    say "compare.sh: $name printed no events; its stderr:"; head -n 5 "$TMP/$name.err" | sed 's/^/    /' >&2
  fi
  : >"$TMP/$name.runs"
  local i t0 t1 rc
  for i in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    rc=0
    "$TIME" -f '%e %M %U %S' -o "$TMP/$name.time" "$@" <"$stdin" >/dev/null 2>>"$TMP/$name.err" || rc=$?
    t1=$(date +%s%N)
    # ausearch exits 1 when nothing matched; anything else non-zero is a failure.
    if [ "$rc" -ne 0 ] && ! { [ "$name" = ausearch ] && [ "$rc" -eq 1 ]; }; then
      say "compare.sh: $name failed (exit $rc): $(tail -n 2 "$TMP/$name.err")"
      return 0
    fi
    read -r _e rss usr sys < <(grep -E '^[0-9.]+ [0-9]+ ' "$TMP/$name.time" | tail -n 1)
    echo "$(( (t1 - t0) / 1000 )) $rss $usr $sys" >>"$TMP/$name.runs"
    say "    $name run $i: $(awk -v us=$(( (t1 - t0) / 1000 )) 'BEGIN { printf "%.3f", us / 1e6 }') s, $rss KB"
  done
  # Median of the wall times; the RSS and CPU time of that same run.
  sort -n "$TMP/$name.runs" | awk -v n="$RUNS" -v name="$name" -v ev="$events" \
    'NR == int((n + 1) / 2) { printf "%s %.6f %d %.2f %s\n", name, $1 / 1e6, $2, $3 + $4, ev }' >>"$TMP/results"
}

count_lines() { wc -l; }
count_ausearch() { grep -c '^----' || true; }

: >"$TMP/results"
if [ "$HAVE_AUDITMESH" = 1 ]; then
  say "compare.sh: auditmesh parse"
  measure auditmesh count_lines -- "$AUDITMESH" parse "$INPUT"
fi
if [ "$HAVE_AUSEARCH" = 1 ]; then
  say "compare.sh: ausearch -i"
  measure ausearch count_ausearch -- ausearch -i -if "$INPUT"
fi
if [ -n "$LAUREL" ]; then
  say "compare.sh: laurel"
  STDIN="$INPUT" measure laurel count_lines -- "$LAUREL" -c "$LAUREL_CONF"
fi

# --- table ----------------------------------------------------------------------------------
echo
echo "input: ${INPUT#"$REPO"/} ($RECORDS records, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB), median of $RUNS runs"
awk -v recs="$RECORDS" -v bytes="$BYTES" '
  { name[NR] = $1; secs[NR] = $2; rss[NR] = $3; cpu[NR] = $4; ev[NR] = $5; if ($1 == "auditmesh") am = NR }
  END {
    printf "%-10s %10s %14s %9s %13s %9s %10s\n", "tool", "median s", "records/s", "MB/s", "peak RSS MB", "CPU s", "events"
    for (i = 1; i <= NR; i++)
      printf "%-10s %10.3f %14.0f %9.1f %13.1f %9.2f %10s\n", name[i], secs[i], recs / secs[i], bytes / 1e6 / secs[i], rss[i] / 1024, cpu[i], ev[i]
    if (am) {
      print ""
      for (i = 1; i <= NR; i++) {
        if (i == am) continue
        target = name[i] == "laurel" ? 30 : name[i] == "ausearch" ? 15 : 0
        verdict = target ? sprintf(" (target >= %dx: %s)", target, secs[i] / secs[am] >= target ? "met" : "NOT met") : ""
        printf "auditmesh vs %-9s %7.1fx faster, %5.2fx the peak RSS%s\n", name[i] ":", secs[i] / secs[am], rss[am] / rss[i], verdict
      }
    }
  }' "$TMP/results"

# --- memory growth --------------------------------------------------------------------------
if [ "$MEMCHECK" = 1 ] && [ "$HAVE_AUDITMESH" = 1 ]; then
  echo
  echo "memory growth, auditmesh parse (peak RSS, median of $RUNS runs):"
  for mb in 25 100; do
    f="$(input_for "$mb")"
    : >"$TMP/mem.$mb"
    for i in $(seq "$RUNS"); do
      "$TIME" -f '%M' -o "$TMP/mem.time" "$AUDITMESH" parse "$f" >/dev/null 2>/dev/null </dev/null || true
      tail -n 1 "$TMP/mem.time" >>"$TMP/mem.$mb"
    done
    rss=$(sort -n "$TMP/mem.$mb" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')
    printf '  %4s MB input (%s bytes): %8.1f MB peak RSS\n' "$mb" "$(stat -c %s "$f")" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  done
fi
