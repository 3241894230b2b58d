#!/usr/bin/env bash
# Lab: `ersatz traceroute` against traceroute 2.1, and `ersatz ping`
# against iputils ping, scenario by scenario on the multi-hop paths lab
# (paths_lab.sh). Outputs must agree byte for byte once round-trip times are
# masked, and exit codes must match. Needs root; skips otherwise.
# Usage: paths_vs_anchors.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/paths_lab.sh"
for tool in traceroute ping; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh)"
    exit 77
  fi
done
paths_up
tmp=$(mktemp -d)
trap 'paths_down; rm -rf "$tmp"' EXIT

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# Round-trip times differ from run to run; nothing else may.
normalise() {
  sed -E -e 's#rtt min/avg/max/mdev = [0-9./]+ ms#rtt min/avg/max/mdev = T ms#' \
    -e 's#ipg/ewma [0-9./]+ ms#ipg/ewma T ms#' \
    -e 's/\t[0-9]+( absolute)?$/\tT\1/' \
    -e 's/time=[0-9.]+ ms/time=T ms/' \
    -e 's/time [0-9]+ms/time Tms/' \
    -e 's/[0-9]+\.[0-9]+ ms/T ms/g' \
    -e 's/^\[[0-9.]+\] /[T] /'
}

# The errors of unreachable and prohibit routes spend a per-source
# allowance of 5 that comes back at 1 a second (paths_lab.sh): runs that
# expect them start with it full.
refill=0

# compare TOOL NAME ARGS...: the anchor, then ersatz, in the client.
compare() {
  local tool=$1 name=$2
  shift 2
  [ "$refill" -eq 0 ] || sleep "$PATHS_ERROR_REFILL"
  paths_in client "$tool" "$@" >"$tmp/anchor.out" 2>&1
  local want=$?
  [ "$refill" -eq 0 ] || sleep "$PATHS_ERROR_REFILL"
  paths_in client "$ersatz" "$tool" "$@" >"$tmp/ersatz.out" 2>&1
  local got=$?
  normalise <"$tmp/anchor.out" >"$tmp/a"
  normalise <"$tmp/ersatz.out" >"$tmp/b"
  if [ "$want" -ne "$got" ]; then
    bad "$tool $name: exit $got, $tool $want"
    cat "$tmp/anchor.out" "$tmp/ersatz.out"
  elif ! diff -u "$tmp/a" "$tmp/b" >"$tmp/diff"; then
    bad "$tool $name: output differs"
    cat "$tmp/diff"
  else
    ok "$tool $name (exit $got)"
  fi
}

# ---- traceroute: a silent hop 2, the destination at hop 4.
compare traceroute "UDP" -n "$PATHS_PEER_IP"
compare traceroute "-I (ICMP echo)" -n -I "$PATHS_PEER_IP"
compare traceroute "-q 1" -n -q 1 "$PATHS_PEER_IP"
compare traceroute "-m 2 -w 1 (ends at the silent hop)" -n -m 2 -w 1 "$PATHS_PEER_IP"
compare traceroute "-f 3" -n -f 3 "$PATHS_PEER_IP"
compare traceroute "-N 1 -q 2" -n -N 1 -q 2 "$PATHS_PEER_IP"
compare traceroute "1400 bytes across the MTU-1280 link (fragmented)" -n "$PATHS_PEER_IP" 1400
compare traceroute "-F 1400: !F-1280" -n -F "$PATHS_PEER_IP" 1400
compare traceroute "-I -F 1400: !F-1280" -n -I -F "$PATHS_PEER_IP" 1400
compare traceroute "unknown host" -n 'bad_name!'
compare traceroute "-q 11" -n -q 11 "$PATHS_PEER_IP"
compare traceroute "-f 31" -n -f 31 "$PATHS_PEER_IP"
refill=1
compare traceroute "unreachable route: !H" -n "$PATHS_UNREACHABLE_IP"
compare traceroute "prohibit route: !X" -n "$PATHS_PROHIBIT_IP"
refill=0

# ---- ping: the path MTU learned through the MTU-1280 link. Each takes
# its own destination: the kernel remembers what it learned.
compare ping "-M do -s 1400: frag needed, then a local error" -c 3 -i 0.2 -s 1400 -M do "$PATHS_PEER_IP2"
compare ping "-M want -s 1400: frag needed, then fragments" -c 3 -i 0.2 -s 1400 -M want "$PATHS_PEER_IP3"

# ---- ping: iputils' other flags. -R and -T print the options of each
# reply (the TS values are times of day: masked).
compare ping "-R through three routers, then (same route)" -c 2 -i 0.2 -R "$PATHS_PEER_IP"
compare ping "-R on-link" -c 1 -R "$PATHS_R1_IP"
compare ping "-T tsonly" -c 2 -i 0.2 -T tsonly "$PATHS_PEER_IP"
compare ping "-T tsandaddr" -c 1 -T tsandaddr "$PATHS_PEER_IP"
compare ping "-T foo: refused" -c 1 -T foo "$PATHS_R1_IP"
compare ping "-R -T tsonly: refused" -c 1 -R -T tsonly "$PATHS_R1_IP"
compare ping "-a: a bell per reply" -c 2 -i 0.2 -a "$PATHS_R1_IP"
compare ping "broadcast without -b: refused" -c 1 198.18.10.255
compare ping "-b: broadcast, r1 answers" -c 2 -i 0.2 -b 198.18.10.255
compare ping "-A adaptive" -c 3 -A "$PATHS_R1_IP"
compare ping "-l 3 preload" -c 3 -l 3 -i 0.2 "$PATHS_R1_IP"
compare ping "-l 0: refused" -c 1 -l 0 "$PATHS_R1_IP"
compare ping "-e 7 identifier" -c 1 -e 7 "$PATHS_R1_IP"
compare ping "-B -U: source named" -c 1 -B -U "$PATHS_R1_IP"
compare ping "-r on-link" -c 1 -r "$PATHS_R1_IP"
compare ping "-r off-link: no route taken" -c 1 -W 1 -r "$PATHS_PEER_IP"

if [ "$fails" -ne 0 ]; then
  echo "$fails scenario(s) differ"
  exit 1
fi
echo "all scenarios agree"
