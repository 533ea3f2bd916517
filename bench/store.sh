#!/usr/bin/env bash
# Event store figures for issue 4 on a replicated real log:
#   ingest events/s from assembled events (store alone, graph alone, both) and end to end from
#   the raw log (`auditmesh ingest`); bytes per event on disk; needle search and count-by
#   latency (median of 5 runs of the CLI, store opening included).
#
# usage: bench/store.sh [SIZE_MB] [INPUT_LOG]
#   SIZE_MB defaults to 100; INPUT_LOG to the shared corpus's kernel/benign-enriched log.
# Writes into bench-data/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-100}
input=${2:-../shared/corpus/kernel/benign-enriched/audit.log}
mkdir -p bench-data
log=bench-data/store-${size}MB.log
[ -f "$log" ] || python3 bench/replicate.py --input "$input" --size "$size" --output "$log"
cargo build --release --quiet -p auditmesh-cli
cargo build --release --quiet -p store --example ingest_bench
bin=target/release/auditmesh

echo "== input: $log ($(du -m "$log" | cut -f1) MB)"
rm -rf bench-data/store-lib bench-data/store-cli
target/release/examples/ingest_bench "$log" bench-data/store-lib

echo "== end to end: auditmesh ingest"
start=$(date +%s.%N)
$bin ingest --quiet --data bench-data/store-cli "$log"
end=$(date +%s.%N)
events=$($bin search --data bench-data/store-cli --count)
bytes=$(du -sb bench-data/store-cli | cut -f1)
python3 -c "print(f'ingest end to end     {$events/($end-$start):.0f} events/s ({$end-$start:.2f} s)'); print(f'store on disk         {$bytes} bytes, {$bytes/$events:.1f} bytes/event (raw lines kept)')"

median() { # median wall time in ms of 5 runs of the command
    for _ in 1 2 3 4 5; do
        s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
    done | sort -n | sed -n 3p
}
last=$($bin search --data bench-data/store-cli --histogram 1h | tail -1 | cut -d' ' -f1)
since=$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat('$last'.replace('Z','+00:00')); print(int(t.timestamp()*1000)-23*3600*1000)")
echo "== queries (CLI, median of 5, ms; store opened and checked each run)"
echo "count exe=/usr/bin/sudo          $(median $bin search --data bench-data/store-cli --count exe=/usr/bin/sudo) ms -> $($bin search --data bench-data/store-cli --count exe=/usr/bin/sudo) events"
echo "count path=/etc/passwd           $(median $bin search --data bench-data/store-cli --count path=/etc/passwd) ms -> $($bin search --data bench-data/store-cli --count path=/etc/passwd) events"
echo "search exe=/usr/bin/sudo (table) $(median $bin search --data bench-data/store-cli exe=/usr/bin/sudo --limit 20) ms"
echo "count-by syscall, last 24 h      $(median $bin search --data bench-data/store-cli --since "$since" --count-by syscall) ms"
echo "count-by exe,auid all            $(median $bin search --data bench-data/store-cli --count-by exe,auid --top 10) ms"
echo "trace back /etc/passwd (rebuild) $(median $bin trace back /etc/passwd --data bench-data/store-cli --since "$since" --format json) ms"
