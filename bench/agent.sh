#!/usr/bin/env bash
# Host-agent benchmark: the same exec load against each audit collector, side by side, in one run.
#
# Usage: sudo bench/agent.sh [options]
#
#   --rates "R..."       execs/s to run (default "1000 5000")
#   --duration S         seconds of load per run (default 30)
#   --repeats N          runs per (configuration, rate), interleaved; the run with the median CPU
#                        is shown, with the range of CPU % across runs (default 1)
#   --configs LIST       comma-separated, from: auditd-raw, auditd-enriched, auditd+laurel,
#                        auditmesh, auditd+auditmesh-plugin (default: all five)
#   --program PATH       program the load spawns (default /bin/true)
#   --static-true        spawn a 3-instruction static "true" assembled with cc instead (fewer
#                        page faults per exec: lets a small machine reach higher exec rates)
#   --threads N          loadgen spawner threads (default: automatic)
#   --lost               instead of the CPU table: ramp the rate with one collector (default the
#                        auditmesh agent) for --lost-duration each and report the highest
#                        records/s with kernel lost = 0, and whether 10,000 records/s held
#   --lost-rates "R..."  records/s steps of the ramp (default "5000 10000 15000 20000 25000 30000")
#   --lost-duration S    seconds per step (default 60)
#   --lost-config C      collector for --lost (default auditmesh)
#   --backlog-limit N    kernel backlog_limit during the runs (default 8192)
#   --backlog-wait-time N  kernel backlog_wait_time during the runs, jiffies (default 60000, the
#                        kernel's default; 0 makes the kernel drop at once instead of throttling)
#   --plugin-log-format F  auditd log_format in the plugin configurations (default RAW)
#   --q-depth N          auditd's dispatcher queue for plugins (default 8000)
#   --no-build           do not run cargo build --release -p loadgen -p auditmesh-cli
#   --keep               keep the temporary directory (logs, outputs, raw results)
#
# Configurations (every collector gets a private directory under a temporary directory; nothing
# in /etc/audit is read or changed):
#   auditd-raw               auditd -n -c DIR, log_format = RAW
#   auditd-enriched          the same with log_format = ENRICHED
#   auditd+laurel            auditd (log_format --plugin-log-format) with laurel as its plugin
#                            (laurel -c DIR/laurel.toml, output DIR/laurel/audit.log)
#   auditmesh                auditmesh agent --source netlink (owns the audit socket, no auditd)
#   auditd+auditmesh-plugin  auditd with `auditmesh agent --source plugin` as its plugin
# Each run: start the collector, wait until it is registered, snapshot /proc/PID/stat (utime +
# stime) of every collector process, `auditctl -s` (lost, backlog_wait_time_actual) and /proc/stat;
# run auditmesh-loadgen (crates/loadgen) at the rate for the duration while polling `auditctl -s`
# for the backlog every 0.5 s; wait until the kernel backlog is empty and the output has stopped
# growing; snapshot again; stop the collector; count the events of the load in its output. See
# bench/README.md for the columns.
#
# Kernel audit state is shared with the netlink kernel tests: the whole script holds
# /run/lock/auditmesh-netlink-kernel-tests.lock, refuses to run when an audit daemon is registered,
# saves the `auditctl -s` settings and restores them at the end (also on Ctrl-C or error), adds
# only its own rules (key auditmesh-bench) and deletes them, and stops every process it started.
# Needs root, auditd and auditctl (Debian package auditd); laurel (Debian package laurel, or
# `cargo install laurel`) for auditd+laurel; GNU time for the load's own CPU column.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$PWD"

RATES="1000 5000"
DURATION=30
REPEATS=1
CONFIGS="auditd-raw,auditd-enriched,auditd+laurel,auditmesh,auditd+auditmesh-plugin"
PROGRAM=/bin/true
STATIC_TRUE=0
THREADS=0
LOST=0
LOST_RATES="5000 10000 15000 20000 25000 30000"
LOST_DURATION=60
LOST_CONFIG=auditmesh
BACKLOG_LIMIT=8192
BACKLOG_WAIT_TIME=60000
PLUGIN_LOG_FORMAT=RAW
Q_DEPTH=8000
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --configs) CONFIGS="$2"; shift 2 ;;
    --program) PROGRAM="$2"; shift 2 ;;
    --static-true) STATIC_TRUE=1; shift ;;
    --threads) THREADS="$2"; shift 2 ;;
    --lost) LOST=1; shift ;;
    --lost-rates) LOST_RATES="$2"; shift 2 ;;
    --lost-duration) LOST_DURATION="$2"; shift 2 ;;
    --lost-config) LOST_CONFIG="$2"; shift 2 ;;
    --backlog-limit) BACKLOG_LIMIT="$2"; shift 2 ;;
    --backlog-wait-time) BACKLOG_WAIT_TIME="$2"; shift 2 ;;
    --plugin-log-format) PLUGIN_LOG_FORMAT="$2"; shift 2 ;;
    --q-depth) Q_DEPTH="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "agent.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

PATH="$PATH:/usr/sbin:/sbin"
KEY=auditmesh-bench
LOCK=/run/lock/auditmesh-netlink-kernel-tests.lock
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""

say() { printf 'agent.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (kernel audit rules and daemons)"
command -v auditctl >/dev/null 2>&1 || die "auditctl missing: apt-get install auditd"
command -v flock >/dev/null 2>&1 || die "flock missing (util-linux)"

# --- build ----------------------------------------------------------------------------------
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
LOADGEN="$TARGET_DIR/release/auditmesh-loadgen"
AUDITMESH="$TARGET_DIR/release/auditmesh"
if [ "$BUILD" = 1 ]; then
  say "cargo build --release -p loadgen -p auditmesh-cli"
  cargo build --release -p loadgen -p auditmesh-cli >&2 || say "build failed; using what is in $TARGET_DIR/release"
fi
[ -x "$LOADGEN" ] || die "$LOADGEN missing: cargo build --release -p loadgen"

HAVE_AUDITD=0
command -v auditd >/dev/null 2>&1 && HAVE_AUDITD=1 || say "auditd missing (apt-get install auditd): the auditd configurations are skipped"
LAUREL="$(command -v laurel || true)"
[ -n "$LAUREL" ] || say "laurel missing (apt-get install laurel, or cargo install laurel): auditd+laurel is skipped"
HAVE_AGENT=0
if [ -x "$AUDITMESH" ] && "$AUDITMESH" agent --help >/dev/null 2>&1; then
  HAVE_AGENT=1
else
  say "'$AUDITMESH agent' is not there (not built, or the agent is not written yet): the auditmesh configurations are skipped"
fi

TMP="$(mktemp -d /tmp/auditmesh-agent-bench.XXXXXX)"
chmod 0700 "$TMP"

if [ "$STATIC_TRUE" = 1 ]; then
  command -v cc >/dev/null 2>&1 || die "--static-true needs cc"
  printf '.globl _start\n_start:\n  mov $60, %%eax\n  xor %%edi, %%edi\n  syscall\n' >"$TMP/static-true.s"
  cc -nostdlib -static -o "$TMP/static-true" "$TMP/static-true.s" || die "cc could not assemble static-true"
  PROGRAM="$TMP/static-true"
fi
[ -x "$PROGRAM" ] || die "$PROGRAM is not executable"

# --- kernel state: lock, save, restore ------------------------------------------------------
status() { auditctl -s 2>/dev/null; }
status_field() { status | awk -v k="$1" '$1 == k { print $2; exit }'; }

STARTED=()   # pids of every process this script started, stopped by cleanup
SAVED=""
RULES_ADDED=0

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL
  local p="$1" i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    say "pid $p did not stop on SIGTERM in 10 s: SIGKILL"
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}

rules() {  # rules -a|-d
  auditctl "$1" exit,always -F arch=b64 -S execve -F key="$KEY" >/dev/null 2>&1 || return 1
  auditctl "$1" exit,always -F arch=b32 -S execve -F key="$KEY" >/dev/null 2>&1 || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ ${#STARTED[@]} -gt 0 ] && auditctl -e 0 >/dev/null 2>&1
  local p
  for p in "${STARTED[@]}"; do stop_pid "$p"; done
  if [ "$RULES_ADDED" = 1 ]; then
    rules -d
    while auditctl -l 2>/dev/null | grep -q "key=$KEY"; do rules -d || break; done
  fi
  if [ -n "$SAVED" ]; then
    local enabled failure rate_limit backlog_limit backlog_wait_time
    read -r enabled failure rate_limit backlog_limit backlog_wait_time <<<"$SAVED"
    auditctl -b "$backlog_limit" >/dev/null
    auditctl --backlog_wait_time "$backlog_wait_time" >/dev/null
    auditctl -r "$rate_limit" >/dev/null
    auditctl -f "$failure" >/dev/null
    auditctl -e "$enabled" >/dev/null
    local pid now
    pid=$(status_field pid)
    now="$(status | awk '$1 ~ /^(enabled|failure|rate_limit|backlog_limit|backlog_wait_time)$/ { printf "%s ", $2 }')"
    [ "$pid" = 0 ] || say "WARNING: audit daemon pid is $pid after cleanup"
    [ "${now% }" = "$SAVED" ] || say "WARNING: audit settings are '${now% }', expected '$SAVED' (enabled failure rate_limit backlog_limit backlog_wait_time)"
  fi
  if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exec 9>>"$LOCK"
if ! flock -n 9; then
  say "waiting for $LOCK (kernel tests or another benchmark are using kernel audit state)"
  flock 9
fi

[ "$(status_field enabled)" != 2 ] || die "audit is locked (enabled 2) until reboot"
DAEMON=$(status_field pid)
[ "$DAEMON" = 0 ] || die "an audit daemon is registered (pid $DAEMON: $(tr '\0' ' ' </proc/"$DAEMON"/cmdline 2>/dev/null)); stop it first"
SAVED="$(status | awk '$1 ~ /^(enabled|failure|rate_limit|backlog_limit|backlog_wait_time)$/ { printf "%s ", $2 }')"
SAVED="${SAVED% }"
[ "$(wc -w <<<"$SAVED")" = 5 ] || die "could not read the audit settings from auditctl -s"
say "saved audit settings (enabled failure rate_limit backlog_limit backlog_wait_time): $SAVED"

auditctl -e 0 >/dev/null
auditctl -b "$BACKLOG_LIMIT" >/dev/null
auditctl --backlog_wait_time "$BACKLOG_WAIT_TIME" >/dev/null
auditctl -r 0 >/dev/null
while auditctl -l 2>/dev/null | grep -q "key=$KEY"; do rules -d || break; done  # left over by a killed run
RULES_ADDED=1
rules -a || die "auditctl could not add the execve rule"

# --- collectors -----------------------------------------------------------------------------
write_auditd_conf() {  # write_auditd_conf DIR LOG_FORMAT
  local dir="$1" fmt="$2"
  mkdir -p "$dir/plugins" "$dir/log"
  chmod 0750 "$dir" "$dir/plugins" "$dir/log"
  cat >"$dir/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $dir/log/audit.log
log_format = $fmt
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 100000
num_logs = 2
max_log_file_action = IGNORE
priority_boost = 4
name_format = NONE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
q_depth = $Q_DEPTH
overflow_action = SYSLOG
max_restarts = 10
plugin_dir = $dir/plugins
end_of_event_timeout = 2
EOF
  chmod 0640 "$dir/auditd.conf"
}

write_plugin_conf() {  # write_plugin_conf DIR NAME PATH ARGS
  # auditd rejects an empty `args =` line
  { printf 'active = yes\ndirection = out\npath = %s\ntype = always\n' "$3"
    [ -z "$4" ] || printf 'args = %s\n' "$4"
    printf 'format = string\n'; } >"$1/plugins/$2.conf"
  chmod 0640 "$1/plugins/$2.conf"
}

wait_registered() {  # wait_registered PID: until `auditctl -s` shows PID (10 s)
  local i
  for i in $(seq 100); do
    [ "$(status_field pid)" = "$1" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

plugin_pid() {  # plugin_pid AUDITD_PID: the first child of auditd (10 s)
  local i c
  for i in $(seq 100); do
    c=$(cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)
    if [ -n "$c" ]; then echo "$c"; return 0; fi
    sleep 0.1
  done
  return 1
}

# start_collector CONFIG DIR: sets MAIN (pid to stop), PIDS ("name:pid ..." to measure), OUT (the
# output that is counted), OUT_KIND (auditd|json).
start_collector() {
  local config="$1" dir="$2"
  MAIN=""; PIDS=""; OUT=""; OUT_KIND=json
  case "$config" in
    auditd-raw|auditd-enriched)
      local fmt=RAW; [ "$config" = auditd-enriched ] && fmt=ENRICHED
      write_auditd_conf "$dir" "$fmt"
      auditd -n -c "$dir" </dev/null >"$dir/auditd.stderr" 2>&1 9>&- &
      MAIN=$!; STARTED+=("$MAIN")
      wait_registered "$MAIN" || { say "$config: auditd did not register: $(tail -n 3 "$dir/auditd.stderr")"; return 1; }
      PIDS="auditd:$MAIN"; OUT="$dir/log/audit.log"; OUT_KIND=auditd ;;
    auditd+laurel)
      write_auditd_conf "$dir" "$PLUGIN_LOG_FORMAT"
      mkdir -p "$dir/laurel"
      cat >"$dir/laurel.toml" <<EOF
directory = "$dir/laurel"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000000
generations = 2
[transform]
execve-argv = [ "array" ]
[translate]
universal = false
user-db = false
[enrich]
pid = true
execve-env = [ "LD_PRELOAD", "LD_LIBRARY_PATH" ]
container = true
script = true
EOF
      chmod 0640 "$dir/laurel.toml"
      "$LAUREL" -d -c "$dir/laurel.toml" >/dev/null 2>&1 || { say "auditd+laurel: laurel rejects its config: $("$LAUREL" -d -c "$dir/laurel.toml" 2>&1 | tail -n 2)"; return 1; }
      write_plugin_conf "$dir" laurel "$LAUREL" "--config $dir/laurel.toml"
      auditd -n -c "$dir" </dev/null >"$dir/auditd.stderr" 2>&1 9>&- &
      MAIN=$!; STARTED+=("$MAIN")
      wait_registered "$MAIN" || { say "$config: auditd did not register: $(tail -n 3 "$dir/auditd.stderr")"; return 1; }
      local lp; lp=$(plugin_pid "$MAIN") || { say "auditd+laurel: laurel did not start"; return 1; }
      STARTED+=("$lp")
      PIDS="auditd:$MAIN laurel:$lp"; OUT="$dir/laurel/audit.log" ;;
    auditmesh)
      mkdir -p "$dir/state"
      "$AUDITMESH" agent --source netlink --output "$dir/agent.json" --state-dir "$dir/state" \
        </dev/null >"$dir/agent.stderr" 2>&1 9>&- &
      MAIN=$!; STARTED+=("$MAIN")
      wait_registered "$MAIN" || { say "auditmesh: the agent did not register: $(tail -n 3 "$dir/agent.stderr")"; return 1; }
      PIDS="auditmesh:$MAIN"; OUT="$dir/agent.json" ;;
    auditd+auditmesh-plugin)
      write_auditd_conf "$dir" "$PLUGIN_LOG_FORMAT"
      mkdir -p "$dir/state"
      # auditd passes at most 2 args to a plugin: a wrapper holds the command line. It execs, so
      # the plugin's pid is the agent's.
      cat >"$dir/auditmesh-plugin" <<EOF
#!/bin/sh
exec "$AUDITMESH" agent --source plugin --output "$dir/agent.json" --state-dir "$dir/state" 2>"$dir/agent.stderr"
EOF
      chmod 0750 "$dir/auditmesh-plugin"
      write_plugin_conf "$dir" auditmesh "$dir/auditmesh-plugin" ""
      auditd -n -c "$dir" </dev/null >"$dir/auditd.stderr" 2>&1 9>&- &
      MAIN=$!; STARTED+=("$MAIN")
      wait_registered "$MAIN" || { say "$config: auditd did not register: $(tail -n 3 "$dir/auditd.stderr")"; return 1; }
      local ap; ap=$(plugin_pid "$MAIN") || { say "auditd+auditmesh-plugin: the plugin did not start"; return 1; }
      STARTED+=("$ap")
      PIDS="auditd:$MAIN auditmesh:$ap"; OUT="$dir/agent.json" ;;
    *) die "unknown configuration $config" ;;
  esac
}

stop_collector() {  # stops every process started so far (auditd before its plugin)
  auditctl -e 0 >/dev/null 2>&1 || true
  local p
  for p in "${STARTED[@]}"; do stop_pid "$p"; done
  STARTED=()
}

# --- measuring ------------------------------------------------------------------------------
cpu_ticks() { sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null | awk '{ print $12 + $13 }' || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' /proc/"$1"/status 2>/dev/null || echo 0; }
host_ticks() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }
out_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# count_events KIND FILE LOADGEN_PID: events of the load in FILE: the key, the load generator as
# parent and the program's comm (the load cycles through pids: once it has exited, its pid may be
# reused by a process whose children are not the load's)
COMM="$(basename "$PROGRAM" | cut -c1-15)"
count_events() {
  [ -f "$2" ] || { echo 0; return; }
  if [ "$1" = auditd ]; then
    grep -a "type=SYSCALL" "$2" | grep -a "key=\"$KEY\"" | grep -a " ppid=$3 " | grep -acF " comm=\"$COMM\" " || true
  else
    grep -aF "$KEY" "$2" | grep -aE "ppid\"?[:=]\"?$3([^0-9]|$)" | grep -acF "\"comm\":\"$COMM\"" || true
  fi
}

# records_per_exec LOG LOADGEN_PID: records per event of the load in an auditd RAW log, plus the
# EOE record that the kernel sends and auditd does not write
records_per_exec() {
  awk -v pid="$2" -v key="key=\"$KEY\"" '
    { if (match($0, /audit\([0-9.]+:[0-9]+\)/)) id = substr($0, RSTART, RLENGTH); else next
      n[id]++; if ($0 ~ /type=EOE/) eoe = 1 }
    /type=SYSCALL/ && index($0, " ppid=" pid " ") && index($0, key) { ours[id] = 1; ev++ }
    END { if (!ev) { print 0; exit } for (i in ours) r += n[i]; printf "%.2f\n", r / ev + (eoe ? 0 : 1) }' "$1"
}

RESULTS="$TMP/results"
: >"$RESULTS"
RUN=0

# run_one CONFIG RATE DURATION REPEAT: one measured run; appends a row to $RESULTS
run_one() {
  local config="$1" rate="$2" duration="$3" rep="$4"
  RUN=$((RUN + 1))
  local dir="$TMP/run-$RUN-${config//+/-}-$rate"
  mkdir -p "$dir"
  say "run $RUN: $config at $rate execs/s for $duration s (repeat $rep)"
  if ! start_collector "$config" "$dir"; then
    stop_collector
    return 1
  fi
  auditctl -e 1 >/dev/null
  sleep 1  # let the collector settle (auditd writes DAEMON_START, plugins start)

  local p c0=() c1=() h0 h1
  for p in $PIDS; do c0+=("$(cpu_ticks "${p#*:}")"); done
  local lost0 wait0
  lost0=$(status_field lost); wait0=$(status_field backlog_wait_time_actual); wait0=${wait0:-0}
  h0=$(host_ticks)
  (while :; do status | awk '$1 == "backlog" { print $2 }'; sleep 0.5; done) >"$dir/backlog" 2>/dev/null 9>&- &
  local poller=$!
  STARTED+=("$poller")

  local t0 t1 lg_rc=0
  t0=$(date +%s%N)
  if [ -n "$TIME" ]; then
    "$TIME" -f '%U %S' -o "$dir/loadgen.time" "$LOADGEN" --rate "$rate" --duration "$duration" --threads "$THREADS" \
      -- "$PROGRAM" >"$dir/loadgen.json" 2>"$dir/loadgen.stderr" 9>&- || lg_rc=$?
  else
    "$LOADGEN" --rate "$rate" --duration "$duration" --threads "$THREADS" -- "$PROGRAM" \
      >"$dir/loadgen.json" 2>"$dir/loadgen.stderr" 9>&- || lg_rc=$?
  fi
  t1=$(date +%s%N)
  h1=$(host_ticks)
  echo "$h0 $h1" >"$dir/host-ticks"
  [ "$lg_rc" = 0 ] || say "loadgen failed (exit $lg_rc): $(tail -n 2 "$dir/loadgen.stderr")"
  [ -s "$dir/loadgen.stderr" ] && say "  $(tail -n 1 "$dir/loadgen.stderr")"

  # Drain: the kernel backlog is empty and the output has not grown for 1 s (at most 30 s).
  local i last=-1 same=0 size
  for i in $(seq 60); do
    size=$(out_size "$OUT")
    if [ "$size" = "$last" ] && [ "$(status_field backlog)" = 0 ]; then
      same=$((same + 1)); [ "$same" -ge 2 ] && break
    else
      same=0
    fi
    last=$size
    sleep 0.5
  done

  local lost1 wait1 rss_kb=0 rss_detail="" cpu_detail="" cpu_ticks_sum=0 alive=1 j=0
  for p in $PIDS; do
    local t; t=$(cpu_ticks "${p#*:}")
    kill -0 "${p#*:}" 2>/dev/null || alive=0
    c1+=("$t")
    local d=$(( t - c0[j] ))
    cpu_ticks_sum=$((cpu_ticks_sum + d))
    local h; h=$(hwm_kb "${p#*:}")
    rss_kb=$((rss_kb + h))
    cpu_detail+="${cpu_detail:++}${p%%:*}:TICKS$d"
    rss_detail+="${rss_detail:++}${p%%:*}:$(awk -v k="$h" 'BEGIN { printf "%.1f", k / 1024 }')"
    j=$((j + 1))
  done
  lost1=$(status_field lost); wait1=$(status_field backlog_wait_time_actual); wait1=${wait1:-0}
  stop_pid "$poller"
  stop_collector
  [ "$alive" = 1 ] || say "  WARNING: a collector process died during the run (see $dir)"

  local wall_s lg_pid spawned achieved behind events expected load_cpu=""
  wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  lg_pid=$(grep -o '"pid":[0-9]*' "$dir/loadgen.json" | cut -d: -f2)
  spawned=$(grep -o '"spawned":[0-9]*' "$dir/loadgen.json" | cut -d: -f2)
  achieved=$(grep -o '"achieved_rate":[0-9.]*' "$dir/loadgen.json" | cut -d: -f2)
  behind=$(grep -o '"fell_behind":[a-z]*' "$dir/loadgen.json" | cut -d: -f2)
  [ -n "$lg_pid" ] || { say "  loadgen printed no result"; lg_pid=0; spawned=0; achieved=0; behind=true; }
  events=$(count_events "$OUT_KIND" "$OUT" "$lg_pid")
  [ -n "$TIME" ] && [ -s "$dir/loadgen.time" ] && load_cpu=$(tail -n 1 "$dir/loadgen.time" | awk -v w="$wall_s" '{ printf "%.2f", ($1 + $2) / w }')
  if [ "$config" = auditd-raw ] && [ "$events" -gt 0 ]; then
    records_per_exec "$OUT" "$lg_pid" >"$TMP/records-per-exec"
  fi

  # row: config rate rep achieved spawned behind cpu% cpu_detail rss_mb rss_detail lost backlog_max
  #      waited events host_cores load_cores wall
  local cpu_pct
  cpu_pct=$(awk -v t="$cpu_ticks_sum" -v hz="$CLK_TCK" -v w="$wall_s" 'BEGIN { printf "%.2f", t / hz / w * 100 }')
  cpu_detail=$(awk -v s="$cpu_detail" -v hz="$CLK_TCK" -v w="$wall_s" 'BEGIN {
      n = split(s, parts, "+"); out = ""
      for (i = 1; i <= n; i++) { split(parts[i], kv, ":TICKS"); out = out (i > 1 ? "+" : "") kv[1] ":" sprintf("%.2f", kv[2] / hz / w * 100) }
      print out }')
  local host_cores backlog_max
  host_cores=$(awk -v a="$h0" -v b="$h1" -v n="$NCPU" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) * n }')
  backlog_max=$(sort -n "$dir/backlog" | tail -n 1); backlog_max=${backlog_max:-0}
  printf '%s %s %s %s %s %s %s %s %.1f %s %s %s %s %s %s %s %s\n' "$config" "$rate" "$rep" "$achieved" "$spawned" "$behind" \
    "$cpu_pct" "$cpu_detail" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$rss_detail" "$((lost1 - lost0))" \
    "$backlog_max" "$((wait1 - wait0))" "$events" "$host_cores" "${load_cpu:--}" "$wall_s" >>"$RESULTS"
  say "  cpu $cpu_pct % ($cpu_detail), rss $rss_detail MB, lost $((lost1 - lost0)), backlog max $backlog_max, events $events of $spawned, host $host_cores cores busy"
}

print_table() {  # print_table RESULTS: one line per (config, rate), the run with the median CPU
  awk -v ncpu="$NCPU" '
    { k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++nk] = k } rows[k, ++cnt[k]] = $0 }
    END {
      printf "%-24s %6s %8s %7s %13s %7s %-28s %7s %-24s %5s %8s %8s %15s %6s %6s\n", "config", "rate", "achieved", "CPU%", "CPU% range", "%/1k/s", "CPU% by process", "RSS MB", "RSS MB by process", "lost", "backlog", "waited", "events/execs", "host", "load"
      for (i = 1; i <= nk; i++) {
        k = order[i]; n = cnt[k]
        # sort the runs by CPU % (field 7), pick the median
        for (a = 1; a <= n; a++) { split(rows[k, a], f, " "); cpu[a] = f[7] + 0; idx[a] = a }
        for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (cpu[idx[b]] < cpu[idx[a]]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
        m = idx[int((n + 1) / 2)]
        split(rows[k, m], f, " ")
        lost = 0; for (a = 1; a <= n; a++) { split(rows[k, a], g, " "); lost = g[11] > lost ? g[11] : lost }
        range = n > 1 ? sprintf("%.2f-%.2f", cpu[idx[1]], cpu[idx[n]]) : "-"
        per1k = f[4] > 0 ? f[7] / (f[4] / 1000) : 0
        pct = f[5] > 0 ? sprintf("%d/%d", f[14], f[5]) : "-"
        printf "%-24s %6s %8.0f %7.2f %13s %7.2f %-28s %7.1f %-24s %5s %8s %8s %15s %6s %6s%s\n", f[1], f[2], f[4], f[7], range, per1k, f[8], f[9], f[10], lost, f[12], f[13], pct, f[15], f[16], f[6] == "true" ? "  (load fell behind)" : ""
      }
    }' "$1"
}

print_ratios() {  # per (config, rate) the run with the median CPU, as in the table
  awk '
    { k = $1 " " $2; n[k]++; row[k, n[k]] = $0; rates[$2] = 1; cfg[$1] = 1 }
    END {
      for (k in n) {
        for (a = 1; a <= n[k]; a++) idx[a] = a
        for (a = 1; a <= n[k]; a++) for (b = a + 1; b <= n[k]; b++) {
          split(row[k, idx[a]], x, " "); split(row[k, idx[b]], y, " ")
          if (y[7] + 0 < x[7] + 0) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
        }
        split(row[k, idx[int((n[k] + 1) / 2)]], f, " ")
        cpu[k] = f[7]; rss[k] = f[9]; ach[k] = f[4]
      }
      for (r in rates) {
        am = "auditmesh " r
        for (c in cfg) {
          k = c " " r
          if (!(k in cpu) || c == "auditmesh") continue
          if (c == "auditd+auditmesh-plugin") {
            printf "%6s execs/s: auditd+auditmesh-plugin %.2f %% CPU, %.1f MB RSS (auditd and the plugin)\n", r, cpu[k], rss[k]
            continue
          }
          if ((am in cpu) && cpu[k] > 0)
            printf "%6s execs/s: auditmesh uses %.2fx the CPU of %s and %.2fx its RSS\n", r, cpu[am] / cpu[k], c, rss[am] / rss[k]
        }
        if (am in cpu) {
          printf "%6s execs/s: auditmesh CPU %.2f %% of one core (target <= 5 %%: %s)", r, cpu[am], cpu[am] <= 5 ? "met" : "NOT met"
          if (ach[am] + 0 < r * 0.99) printf " -- load reached only %.0f execs/s", ach[am]
          printf "\n"
          if (r == 1000) printf "%6s execs/s: auditmesh peak RSS %.1f MB (target < 50 MB: %s)\n", r, rss[am], rss[am] < 50 ? "met" : "NOT met"
        }
      }
    }' "$1" | sort -n
}

echo_context() {
  say "machine: $NCPU cores, load average $(cut -d' ' -f1-3 /proc/loadavg); program $PROGRAM; backlog_limit $BACKLOG_LIMIT, backlog_wait_time $BACKLOG_WAIT_TIME"
}

wanted() {  # wanted CONFIG: listed in --configs and runnable here
  case ",$CONFIGS," in *",$1,"*) ;; *) return 1 ;; esac
  case "$1" in
    auditd-raw|auditd-enriched) [ "$HAVE_AUDITD" = 1 ] ;;
    auditd+laurel) [ "$HAVE_AUDITD" = 1 ] && [ -n "$LAUREL" ] ;;
    auditmesh) [ "$HAVE_AGENT" = 1 ] ;;
    auditd+auditmesh-plugin) [ "$HAVE_AUDITD" = 1 ] && [ "$HAVE_AGENT" = 1 ] ;;
    *) die "unknown configuration $1" ;;
  esac
}

# --- the lost ramp --------------------------------------------------------------------------
if [ "$LOST" = 1 ]; then
  wanted "$LOST_CONFIG" || die "--lost needs the $LOST_CONFIG configuration, which cannot run here (see above)"
  echo_context
  RPE=""
  if [ "$HAVE_AUDITD" = 1 ]; then
    say "measuring records per exec with auditd-raw (5 s at 200 execs/s)"
    run_one auditd-raw 200 5 calibration || true
    RPE=$(cat "$TMP/records-per-exec" 2>/dev/null || true)
  fi
  if [ -z "$RPE" ] || [ "$RPE" = 0 ]; then
    RPE=7
    say "records per exec could not be measured (no auditd); assuming $RPE"
  fi
  say "records per exec: $RPE (SYSCALL, EXECVE, CWD, PATH per path, PROCTITLE, EOE)"
  : >"$RESULTS"
  best=0; best_execs=0; held10k=""; prev_rps=0
  for rps in $LOST_RATES; do
    execs=$(awk -v r="$rps" -v p="$RPE" 'BEGIN { printf "%d", (r / p) + 0.999 }')
    run_one "$LOST_CONFIG" "$execs" "$LOST_DURATION" "$rps" || die "$LOST_CONFIG did not start"
    row=$(tail -n 1 "$RESULTS")
    lost=$(awk '{ print $11 }' <<<"$row"); achieved=$(awk '{ print $4 }' <<<"$row"); behind=$(awk '{ print $6 }' <<<"$row")
    real_rps=$(awk -v a="$achieved" -v p="$RPE" 'BEGIN { printf "%.0f", a * p }')
    printf '%s %s %s %s %s\n' "$rps" "$execs" "$real_rps" "$lost" "$behind" >>"$TMP/ramp"
    if [ "$rps" = 10000 ]; then held10k="$lost $behind"; fi
    if [ "$lost" = 0 ]; then
      [ "$real_rps" -gt "$best" ] && { best=$real_rps; best_execs=$achieved; }
    fi
    if [ "$lost" != 0 ]; then say "lost $lost at $rps records/s: the ramp stops"; break; fi
    # A step whose load fell short still counts at the rate it reached; the ramp stops when a
    # step no longer reaches more than the one before (the machine cannot spawn faster).
    if [ "$real_rps" -le "${prev_rps:-0}" ]; then say "reached $real_rps records/s, no more than the step before: the machine cannot spawn faster; the ramp stops"; break; fi
    prev_rps=$real_rps
  done
  echo
  echo "kernel lost ramp: $LOST_CONFIG, $LOST_DURATION s per step, $RPE records per exec, backlog_limit $BACKLOG_LIMIT, backlog_wait_time $BACKLOG_WAIT_TIME"
  print_table "$RESULTS"
  echo
  awk '{ printf "target %6s records/s = %5s execs/s: reached %6s records/s, lost %s%s\n", $1, $2, $3, $4, $5 == "true" ? " (load fell behind)" : "" }' "$TMP/ramp"
  echo "highest rate with lost = 0: $best records/s ($best_execs execs/s)"
  if [ -z "$held10k" ]; then
    echo "10,000 records/s for $LOST_DURATION s: not run (not in --lost-rates, or the ramp stopped before it)"
  else
    read -r l b <<<"$held10k"
    if [ "$l" = 0 ] && [ "$b" != true ]; then echo "10,000 records/s for $LOST_DURATION s: lost = 0 (target met)"
    elif [ "$l" = 0 ]; then echo "10,000 records/s for $LOST_DURATION s: lost = 0, but the load fell short of 10,000 records/s (see 'reached')"
    else echo "10,000 records/s for $LOST_DURATION s: lost = $l (target NOT met)"; fi
  fi
  [ "$KEEP" = 1 ] && cp "$RESULTS" "$TMP/results.lost"
  exit 0
fi

# --- the CPU table --------------------------------------------------------------------------
RUN_CONFIGS=()
for c in ${CONFIGS//,/ }; do
  if wanted "$c"; then RUN_CONFIGS+=("$c"); else say "skipping $c (see above)"; fi
done
[ ${#RUN_CONFIGS[@]} -gt 0 ] || die "no configuration can run"
echo_context
for rate in $RATES; do
  for rep in $(seq "$REPEATS"); do
    for c in "${RUN_CONFIGS[@]}"; do
      run_one "$c" "$rate" "$DURATION" "$rep" || say "  $c failed to start: left out"
    done
  done
done

echo
echo "host-agent benchmark: $DURATION s per run, $REPEATS run(s) each, program $PROGRAM, $NCPU cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
print_table "$RESULTS"
[ -s "$TMP/records-per-exec" ] && echo "records per exec (auditd-raw, with EOE): $(cat "$TMP/records-per-exec")"
echo
print_ratios "$RESULTS"
