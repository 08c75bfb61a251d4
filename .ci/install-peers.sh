#!/usr/bin/env bash
# .ci/install-peers.sh — installs the real syslog peers the interop tests run (issue 3 item 7):
# util-linux `logger` (Debian: bsdutils), rsyslog (apt, never started as the system daemon) and
# syslog-ng-core unpacked into .ci/peers/syslog-ng (it conflicts with rsyslog as a Debian package).
# Idempotent and quiet: does nothing but print the versions when everything is already there.
# Never starts or stops a system service, never touches /dev/log or the system's syslog configs.
# Runs as root on Debian 12. test/helpers/peers/paths.ts knows the paths used here.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS_DIR="$PWD/.ci/peers"
SNG_DIR="$PEERS_DIR/syslog-ng"
SNG_LIB="$SNG_DIR/usr/lib/syslog-ng"
# syslog-ng-core's Depends (Debian 12), installed by apt so the unpacked binaries find them.
SNG_DEPS=(libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3 libsystemd0 libwrap0)
export DEBIAN_FRONTEND=noninteractive
# apt's chatter goes to a log that is shown only when a step fails.
LOG="$(mktemp)"
fail() { echo "install-peers: $*" >&2; cat "$LOG" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# `apt-get update` only when the package lists are missing, or once after a failed fetch
# (stale lists point at versions the mirror no longer serves).
updated=0
apt_update() {
  [ "$updated" = 1 ] && return 1
  apt-get update -qq -o DPkg::Lock::Timeout=300 >>"$LOG" 2>&1 || fail "apt-get update failed"
  updated=1
}
lists_present() { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
apt_install() {
  lists_present || apt_update
  local args=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=300
    -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef)
  apt-get install "${args[@]}" "$@" >>"$LOG" 2>&1 && return 0
  apt_update || fail "apt-get install $* failed"
  apt-get install "${args[@]}" "$@" >>"$LOG" 2>&1 || fail "apt-get install $* failed"
}

# --- policy-rc.d: while we install, no package may start its service ---------------------------
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP="$POLICY.logship-peers-backup"
POLICY_MARK='# written by logship .ci/install-peers.sh for the duration of an install'
policy_mode=none # none | ours | swapped
# A run killed mid-install (SIGKILL skips the trap) left our policy behind: put things back first.
if [ -f "$POLICY" ] && grep -qxF "$POLICY_MARK" "$POLICY"; then
  if [ -f "$POLICY_BACKUP" ]; then mv -f "$POLICY_BACKUP" "$POLICY"; else rm -f "$POLICY"; fi
fi
restore_policy() {
  case "$policy_mode" in
    ours) rm -f "$POLICY" ;;
    swapped) mv -f "$POLICY_BACKUP" "$POLICY" ;;
  esac
  policy_mode=none
}
deny_service_starts() {
  if [ -e "$POLICY" ]; then
    # A policy that already denies everything (Docker images ship one) stays as it is.
    local rc=0
    "$POLICY" rsyslog start >/dev/null 2>&1 || rc=$?
    [ "$rc" = 101 ] && return 0
    mv -f "$POLICY" "$POLICY_BACKUP"
    policy_mode=swapped
  else
    policy_mode=ours
  fi
  printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" >"$POLICY"
  chmod 755 "$POLICY"
}
trap 'restore_policy; rm -f "$LOG"' EXIT
trap 'exit 130' INT TERM

# --- what is missing --------------------------------------------------------------------------
pkgs=()
command -v logger >/dev/null 2>&1 || pkgs+=(bsdutils)
need_rsyslog=0
[ -x /usr/sbin/rsyslogd ] || need_rsyslog=1
for p in "${SNG_DEPS[@]}"; do installed "$p" || pkgs+=("$p"); done

if [ "${#pkgs[@]}" -gt 0 ] || [ "$need_rsyslog" = 1 ]; then
  [ "$need_rsyslog" = 1 ] && pkgs+=(rsyslog)
  deny_service_starts
  apt_install "${pkgs[@]}"
  restore_policy
fi

sng() { LD_LIBRARY_PATH="$SNG_LIB" "$SNG_DIR/usr/sbin/syslog-ng" "$@"; }
if ! sng --version >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"
  lists_present || apt_update
  download() { (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root syslog-ng-core >>"$LOG" 2>&1); }
  download || { apt_update || fail "apt-get download syslog-ng-core failed"; download; } ||
    fail "apt-get download syslog-ng-core failed"
  rm -rf "$SNG_DIR"
  mkdir -p "$SNG_DIR"
  dpkg -x "$tmp"/syslog-ng-core_*.deb "$SNG_DIR"
  rm -rf "$tmp"
  sng --version >>"$LOG" 2>&1 || fail "the unpacked syslog-ng does not run"
fi

# --- one line per peer --------------------------------------------------------------------------
# loggen has no --version: --help proves it loads its plugins (it needs SYSLOGNG_PREFIX for them).
SYSLOGNG_PREFIX="$SNG_DIR/usr" LD_LIBRARY_PATH="$SNG_LIB" "$SNG_DIR/usr/bin/loggen" --help-socket-plugin 2>&1 |
  grep -- '--inet' >/dev/null || fail "the unpacked loggen does not load its socket plugin"
sng_version="$(sng --version 2>&1 | sed -n 's/^Installer-Version: //p')"
echo "peer logger: util-linux $(logger --version 2>&1 | awk 'NR==1{print $NF}') (/usr/bin/logger)"
echo "peer rsyslog: $(/usr/sbin/rsyslogd -v 2>&1 | awk 'NR==1{print $2}') (/usr/sbin/rsyslogd)"
echo "peer syslog-ng: $sng_version ($SNG_DIR/usr/sbin/syslog-ng)"
echo "peer loggen: syslog-ng $sng_version ($SNG_DIR/usr/bin/loggen)"
