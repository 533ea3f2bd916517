#!/usr/bin/env bash
# Re-capture auditmesh's kernel fixtures (fixtures/kernel/*) from the real kernel of this machine.
#
# Requirements:
#   - root, on a Linux machine whose kernel audit subsystem works (not in a container that
#     lacks CAP_AUDIT_CONTROL), Debian/Ubuntu with auditd installed (scripts/install-test-deps.sh);
#   - the project's shared tools beside the repository: ../shared/tools/kernel-corpus/capture.sh
#     (relative to the repo root; override with KERNEL_CORPUS_TOOLS=/path/to/kernel-corpus).
#     capture.sh runs a private auditd into /srv/amwork, audits only the workload's login
#     session (loginuid 4242), and deletes its rules and disables auditing when done. It also
#     runs `apt-get download sudo` (network) for workloads that need it; ours do not use it.
#   - no system auditd running (the kernel accepts one audit daemon; capture.sh starts its own).
#
# Workloads are scripts/workloads/<name>.sh, listed in `captures` below. A workload that needs
# more rules than capture.sh's defaults has them in scripts/workloads/<name>.rules (one auditctl
# rule a line, given to capture.sh as EXTRA_RULES). Every workload is captured in ENRICHED format with
# node=web-01 into fixtures/kernel/<name>-enriched/, except pidreuse (RAW, without node=, to keep
# 2,000 processes small); exec-basic is also captured in RAW format
# without node= into fixtures/kernel/exec-basic-raw/. Each folder gets audit.log and the
# audit.rules given to auditctl -R and rules.loaded.txt (`auditctl -l` after loading: what
# the kernel actually had; a rule whose watched folder does not exist, e.g. /etc/sudoers.d
# without sudo installed, fails to load and auditctl -R stops there).
#
# Neutral paths: the log records the command lines, working directories and file names of
# the audited session, which includes the forked shell of capture.sh that enters the login
# session (its PROCTITLE is capture.sh's own command line). So nothing is run from the
# repository or from a random temp dir: capture.sh and its helper files are copied to the
# fixed staging dir /tmp/amcapture/tools/, the workloads to /tmp/amcapture/wl/, and each
# capture runs from /tmp/amcapture as `bash tools/capture.sh out/<folder> FORMAT NODE
# wl/<name>.sh` (relative arguments). /tmp/amcapture is created fresh and removed at the end.
# capture.sh itself runs the workload as /srv/amwork/<name>.sh with cwd /srv/amwork.
#
# The kernel audit state is left as found: enabled flag, failure mode, rate and backlog
# limits are restored, no rules remain, no auditd keeps running (pid 0 in `auditctl -s`).
#
# usage: scripts/capture-fixtures.sh [WORKLOAD_NAME...]   (default: all)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${KERNEL_CORPUS_TOOLS:-$repo/../shared/tools/kernel-corpus}
capture=$tools/capture.sh
# the files capture.sh copies from its own folder into /srv/amwork
tool_files=(capture.sh tree.c i32ops.c ptracer.c ptyrun.py)
wl_dir=$repo/scripts/workloads
stage=/tmp/amcapture
out_root=$repo/fixtures/kernel
PATH=$PATH:/usr/sbin:/sbin
unset EXTRA_RULES

[ "$(id -u)" -eq 0 ] || { echo "capture-fixtures: must run as root" >&2; exit 1; }
[ -x "$capture" ] || { echo "capture-fixtures: $capture not found (shared tools must sit beside the repo)" >&2; exit 1; }
for f in "${tool_files[@]}"; do
  [ -f "$tools/$f" ] || { echo "capture-fixtures: $tools/$f not found" >&2; exit 1; }
done
command -v auditctl >/dev/null && command -v auditd >/dev/null \
  || { echo "capture-fixtures: auditd not installed; run scripts/install-test-deps.sh" >&2; exit 1; }

status_field() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }

before_status=$(auditctl -s)
before_rules=$(auditctl -l)
echo "== auditctl -s before"; echo "$before_status"
echo "== auditctl -l before"; echo "$before_rules"
[ "$(status_field pid)" = 0 ] || { echo "capture-fixtures: an audit daemon is registered (pid $(status_field pid)); stop it first" >&2; exit 1; }
[ "$before_rules" = "No rules" ] || { echo "capture-fixtures: audit rules are loaded; refusing to clobber them" >&2; exit 1; }
enabled0=$(status_field enabled)
[ "$enabled0" != 2 ] || { echo "capture-fixtures: audit configuration is locked (enabled 2)" >&2; exit 1; }
failure0=$(status_field failure) rate0=$(status_field rate_limit)
backlog0=$(status_field backlog_limit) wait0=$(status_field backlog_wait_time)
srv_existed=no; [ -e /srv/amwork ] && srv_existed=yes
# capture.sh's default rules end with a watch on /etc/sudoers.d; without that folder auditctl -R
# stops there and a workload's extra rules (appended after it) would never load
sudoers_existed=no; [ -e /etc/sudoers.d ] && sudoers_existed=yes

restore() {
  auditctl -D >/dev/null 2>&1 || true
  auditctl -e "$enabled0" >/dev/null 2>&1 || true
  auditctl -f "$failure0" >/dev/null 2>&1 || true
  auditctl -r "$rate0" >/dev/null 2>&1 || true
  auditctl -b "$backlog0" >/dev/null 2>&1 || true
  auditctl --backlog_wait_time "$wait0" >/dev/null 2>&1 || true
  [ "$srv_existed" = yes ] || rm -rf /srv/amwork
  [ "$sudoers_existed" = yes ] || rmdir /etc/sudoers.d 2>/dev/null || true
  rm -rf "$stage"
}
trap restore EXIT

# staging dir with a fixed, neutral name (see above); a leftover of an aborted run is replaced
rm -rf "$stage"
mkdir -m 700 "$stage"
mkdir "$stage/tools" "$stage/wl" "$stage/out"
for f in "${tool_files[@]}"; do cp "$tools/$f" "$stage/tools/"; done
cp "$wl_dir"/*.sh "$wl_dir"/*.rules "$stage/wl/"

# name  format  node  output-folder
captures=(
  "exec-basic ENRICHED web-01 exec-basic-enriched"
  "exec-basic RAW      NONE   exec-basic-raw"
  "net        ENRICHED web-01 net-enriched"
  "longargs   ENRICHED web-01 longargs-enriched"
  "ia32       ENRICHED web-01 ia32-enriched"
  "provenance ENRICHED web-01 provenance-enriched"
  "pidreuse   RAW      NONE   pidreuse-raw"
)
want=("$@")
for c in "${captures[@]}"; do
  read -r name format node folder <<<"$c"
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  echo "== capture $name ($format, node $node) -> fixtures/kernel/$folder"
  [ -f "$stage/wl/$name.sh" ] || { echo "capture-fixtures: no workload scripts/workloads/$name.sh" >&2; exit 1; }
  rm -rf "${stage:?}/out/$folder"
  # relative arguments from the staging dir: this command line is recorded in the log
  extra=
  if [ -f "$stage/wl/$name.rules" ]; then extra=wl/$name.rules; mkdir -p /etc/sudoers.d; fi
  (cd "$stage" && EXTRA_RULES=$extra bash tools/capture.sh "out/$folder" "$format" "$node" "wl/$name.sh")
  res=$stage/out/$folder
  lost=$(awk '$1 == "lost" { print $2 }' "$res/status.after.txt")
  [ "$lost" = 0 ] || echo "capture-fixtures: WARNING: $folder: kernel reports lost=$lost" >&2
  if [ -s "$res/workload.out" ]; then
    echo "-- workload output"; sed 's/^/   /' "$res/workload.out"
  fi
  mkdir -p "$out_root/$folder"
  cp "$res/audit.log" "$res/audit.rules" "$res/rules.loaded.txt" "$out_root/$folder/"
done

restore
trap - EXIT
echo "== auditctl -s after"; auditctl -s
echo "== auditctl -l after"; auditctl -l
if pgrep -x auditd >/dev/null; then echo "capture-fixtures: WARNING: an auditd process is still running" >&2; fi
wc -lc "$out_root"/*/audit.log
