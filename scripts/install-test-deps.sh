#!/usr/bin/env bash
# Install what auditmesh's tests need on a Debian/Ubuntu machine (CI runners, dev VMs):
#   auditd  -> auditctl, ausearch, aureport, auditd (Debian package "auditd")
#
# Usage: scripts/install-test-deps.sh        (as root, or as a user with passwordless sudo)
#
# - Idempotent: when everything is already installed it does nothing and prints nothing.
# - Runs `apt-get update` only when something has to be installed.
# - Never leaves the auditd *service* running or enabled when it was not before.
#
# Why the service must stay off: the kernel accepts exactly one audit daemon registration
# (the `pid` in `auditctl -s`). auditmesh's kernel tests register their own netlink listener
# and load their own rules; a system auditd started by the package's postinst would hold the
# registration, load /etc/audit/rules.d/*, and race the tests for every record. So during the
# install we put a policy-rc.d in place that answers 101 ("action forbidden"), which makes
# invoke-rc.d / deb-systemd-invoke skip starting the service, and afterwards we disable the
# unit that the postinst enabled and stop any auditd that got started anyway.
set -euo pipefail

PKGS=(auditd)
BINS=(auditctl ausearch aureport auditd)

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n -- "$0" "$@"
  fi
  echo "install-test-deps: must run as root (or with sudo)" >&2
  exit 1
fi

pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

have_bin() {
  PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1
}

missing=()
reinstall=()
for p in "${PKGS[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  for b in "${BINS[@]}"; do
    # package says installed but a binary is gone (e.g. deleted by hand): reinstall
    have_bin "$b" || { missing=(auditd); reinstall=(--reinstall); break; }
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0

# --- state before the install, so that we only undo what the install itself did ---
auditd_was_running=no
pgrep -x auditd >/dev/null 2>&1 && auditd_was_running=yes
unit_was_enabled=no
if command -v systemctl >/dev/null 2>&1 \
   && systemctl is-enabled --quiet auditd.service >/dev/null 2>&1; then
  unit_was_enabled=yes
fi

# --- forbid service starts during the install (policy-rc.d exit 101) ---
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
restore_policy() {
  if [ -n "$POLICY_BACKUP" ]; then
    mv -f "$POLICY_BACKUP" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}
if [ -e "$POLICY" ]; then
  POLICY_BACKUP=$(mktemp /usr/sbin/.policy-rc.d.bak.XXXXXX)
  cp -p "$POLICY" "$POLICY_BACKUP"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# temporary, from auditmesh scripts/install-test-deps.sh\nexit 101\n' > "$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing ${missing[*]}" >&2
aptlog=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${reinstall[@]}" "${missing[@]}"; } >"$aptlog" 2>&1; then
  cat "$aptlog" >&2; rm -f "$aptlog"; exit 1
fi
rm -f "$aptlog"

restore_policy
trap - EXIT

# --- undo the service side effects of the postinst ---
if [ "$unit_was_enabled" = no ] && command -v systemctl >/dev/null 2>&1; then
  # works with or without a running systemd (it only removes the wants/ symlinks)
  systemctl disable --quiet auditd.service >/dev/null 2>&1 || true
fi
if [ "$auditd_was_running" = no ] && pgrep -x auditd >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop auditd.service >/dev/null 2>&1 || true
  fi
  # auditd.service refuses a manual stop on Debian (RefuseManualStop=yes), and without
  # systemd there is only the daemon: signal the one the install started, by its pid file
  for pidf in /run/auditd.pid /var/run/auditd.pid; do
    if [ -s "$pidf" ]; then
      kill -TERM "$(cat "$pidf")" 2>/dev/null || true
      break
    fi
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pgrep -x auditd >/dev/null 2>&1 || break
    sleep 0.5
  done
fi

for b in "${BINS[@]}"; do
  have_bin "$b" || { echo "install-test-deps: $b still missing after install" >&2; exit 1; }
done
