#!/usr/bin/env bash
# Provenance graph figures for issue 4 on a replicated real log:
#   `auditmesh ingest` end to end into store + graph (events/s, graph size and bytes/event);
#   store + graph from already-assembled events on two threads (`pipeline_bench`, on the first
#   PIPELINE_MB of the log); `auditmesh trace back FILE --format json` with unbounded depth
#   (median of 5 CLI runs, graph opened each run), the p50/p90 of one trace per file over 41
#   files drawn evenly from every stored path, and the same trace in process
#   (`trace_bench`: open, name lookup, trace, blocks read).
#
# usage: bench/graph.sh [SIZE_MB] [INPUT_LOG]
#   SIZE_MB defaults to 10300 (about 10 M events of the kernel/benign-enriched log, 2,239
#   copies; about 10 GB of log in bench-data/, deleted at the end unless KEEP_LOG=1).
# Writes into bench-data/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-10300}
input=${2:-../shared/corpus/kernel/benign-enriched/audit.log}
pipeline_mb=${PIPELINE_MB:-1000}
mkdir -p bench-data
log=bench-data/graph-${size}MB.log
data=bench-data/graph-${size}MB
[ -f "$log" ] || python3 bench/replicate.py --input "$input" --size "$size" --output "$log"
cargo build --release --quiet -p auditmesh-cli
cargo build --release --quiet -p graphstore --example trace_bench --example pipeline_bench
bin=target/release/auditmesh

echo "== input: $log ($(du -m "$log" | cut -f1) MB)"
rm -rf "$data"
echo "== end to end: auditmesh ingest (read+assemble, store, graph: three threads)"
start=$(date +%s.%N)
$bin ingest --quiet --data "$data" "$log"
end=$(date +%s.%N)
events=$($bin search --data "$data" --count)
graph_bytes=$(du -sb "$data/graph" | cut -f1)
all_bytes=$(du -sb "$data" | cut -f1)
python3 -c "
e=$events; g=$graph_bytes; a=$all_bytes; s=$end-$start
print(f'ingest end to end     {e/s:.0f} events/s ({s:.1f} s, {e} events)')
print(f'graph on disk         {g} bytes, {g/e:.1f} bytes/event')
print(f'store + graph on disk {a} bytes, {a/e:.1f} bytes/event')"

median() { # median wall time in ms of 5 runs of the command
    for _ in 1 2 3 4 5; do
        s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
    done | sort -n | sed -n 3p
}
echo "== trace back FILE --format json, unbounded depth (CLI, median of 5, ms)"
for f in /srv/amwork/wl/tree-leaf.txt /var/lib/dpkg/info/am-dummy.list /etc/group; do
    n=$($bin trace back "$f" --data "$data" --format json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['nodes']), 'entities', len(d['edges']), 'edges')")
    echo "$f  $(median $bin trace back "$f" --data "$data" --format json) ms  ($n)"
done
echo "== trace back over a sample of files: 41 paths drawn evenly from all distinct stored paths"
echo "   (absolute paths the graph knows), one CLI run each after one warm-up; p50 / p90 / max in ms"
$bin search --data "$data" --count-by path | awk 'NR > 1 {print $1}' | grep '^/' | sort -u \
    | awk '{a[NR]=$0} END {n=NR; for (i=0;i<41;i++) print a[1+int(i*(n-1)/40)]}' > bench-data/graph-sample.txt
while read -r f; do
    # a stored path the graph has no file for (a failed open, say) is left out of the figures
    $bin trace back "$f" --data "$data" --format json >/dev/null 2>&1 || continue
    s=$(date +%s%N); $bin trace back "$f" --data "$data" --format json >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
done < bench-data/graph-sample.txt | sort -n | awk '{a[NR]=$1} END {printf "files %d  p50 %d ms  p90 %d ms  max %d ms\n", NR, a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR]}'
rm -f bench-data/graph-sample.txt
echo "== the same traces in process (trace_bench: graph opened afresh each run)"
for f in /srv/amwork/wl/tree-leaf.txt /var/lib/dpkg/info/am-dummy.list /etc/group; do
    echo "$f: $(target/release/examples/trace_bench "$data/graph" "$f" 5 | tail -2 | tr '\n' ' ')"
done

echo "== from assembled events: store + graph on two threads (first ${pipeline_mb} MB of the log)"
head -c $((pipeline_mb * 1000000)) "$log" > bench-data/graph-pipeline.log
rm -rf bench-data/graph-pipeline
target/release/examples/pipeline_bench bench-data/graph-pipeline.log bench-data/graph-pipeline
rm -rf bench-data/graph-pipeline bench-data/graph-pipeline.log
[ "${KEEP_LOG:-0}" = 1 ] || rm -f "$log"
