#!/usr/bin/env bash
# Event store figures for issue 4 on a replicated real log:
#   ingest events/s from assembled events (store alone: median of 3 runs, wall and CPU; graph
#   alone; both) and end to end from the raw log (`auditmesh ingest`); bytes per event on disk
#   with and without the record lines; needle search and count-by latency over the last 24 h
#   (median of 5 runs of the CLI, store opening included).
#
# usage: bench/store.sh [SIZE_MB] [INPUT_LOG]
#   SIZE_MB defaults to 100 (about 98,500 events per 100 MB; 10200 makes a 10 M-event store);
#   INPUT_LOG to the shared corpus's kernel/benign-enriched log. The measurement from assembled
#   events holds the whole log in memory and runs up to 2000 MB; larger sizes measure the CLI.
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
if [ "$size" -le 2000 ]; then
    target/release/examples/ingest_bench "$log" bench-data/store-lib 3
    rm -rf bench-data/store-lib
fi

echo "== end to end: auditmesh ingest"
start=$(date +%s.%N)
$bin ingest --quiet --data bench-data/store-cli "$log"
end=$(date +%s.%N)
events=$($bin search --data bench-data/store-cli --count)
seg=$(find bench-data/store-cli -name '*.seg' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
graph=$(du -sb bench-data/store-cli/graph | cut -f1)
all=$(du -sb bench-data/store-cli | cut -f1)
python3 -c "
e, t = $events, $end - $start
print(f'ingest end to end     {e/t:.0f} events/s ({t:.2f} s, {e} events)')
print(f'on disk after ingest  segments {$seg/e:.1f} + graph {$graph/e:.1f} bytes/event; the whole folder {$all/e:.1f} ({$all} bytes)')
print('                      (ingest released the record lines to the graph; --keep-lines keeps them: see store bytes above)')"

median() { # median wall time in ms of 5 runs of the command
    for _ in 1 2 3 4 5; do
        s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
    done | sort -n | sed -n 3p
}
# the last 24 h of the store: from the start of its last hour, 23 h back
last=$($bin search --data bench-data/store-cli --histogram 1h | tail -1 | cut -d' ' -f1)
since=$(python3 -c "import datetime; t=datetime.datetime.fromisoformat('$last'.replace('Z','+00:00')); print(int(t.timestamp()*1000)-23*3600*1000)")
in24h() { $bin search --data bench-data/store-cli --since "$since" "$@"; }
echo "== queries over the last 24 h (CLI, median of 5, ms; store opened each run)"
echo "count exe=/usr/bin/sudo          $(median in24h --count exe=/usr/bin/sudo) ms -> $(in24h --count exe=/usr/bin/sudo) events"
echo "count path=/etc/passwd           $(median in24h --count path=/etc/passwd) ms -> $(in24h --count path=/etc/passwd) events"
echo "search exe=/usr/bin/sudo (table) $(median in24h exe=/usr/bin/sudo --limit 20) ms"
echo "count-by syscall                 $(median in24h --count-by syscall) ms"
echo "count-by exe,auid top 10         $(median in24h --count-by exe,auid --top 10) ms"
echo "count time>=SINCE auid>=1000 exit<0 $(median $bin search --data bench-data/store-cli --count "time>=$since" "auid>=1000" "exit<0") ms -> $($bin search --data bench-data/store-cli --count "time>=$since" "auid>=1000" "exit<0") events"
if [ "$size" -le 100 ]; then # the graph is rebuilt from the window's events: seconds at 1000 MB
    echo "trace back /etc/passwd (rebuild) $(median $bin trace back /etc/passwd --data bench-data/store-cli --since "$since" --format json) ms"
fi
