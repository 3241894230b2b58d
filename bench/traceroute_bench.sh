#!/usr/bin/env bash
# traceroute benchmark: wall time of `ersatz traceroute` against
# traceroute 2.1 on the same path, in paired runs. A figure, not a test: it
# never fails on a time.
#
#   bench/traceroute_bench.sh [ERSATZ] [PAIRS]
#
# ERSATZ defaults to build/release/ersatz (built if missing), PAIRS to 21.
# The path is the paths lab (tests/lab/paths_lab.sh): three routers, the
# second silent, the destination at hop 4. Each pair runs, from the client
# namespace, `traceroute -n ARGS` and `ersatz traceroute -n ARGS` back to
# back, the first of the two alternating from pair to pair; each process is
# timed by the shell that starts it, inside the namespace. Printed per scenario: the
# median wall time of each, and the median of the per-pair ratios
# (ersatz / traceroute). Scenarios: UDP (the default), -I, and -q 1.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ersatz=${1:-$here/build/release/ersatz}
pairs=${2:-21}

die() { echo "traceroute_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
command -v traceroute >/dev/null || die "needs traceroute (scripts/install-deps.sh)"
if [ ! -x "$ersatz" ]; then
  cmake --preset release -S "$here" >/dev/null || die "cannot configure the release preset"
  cmake --build "$here/build/release" --target ersatz_cli -j"$(nproc)" >/dev/null || die "cannot build ersatz"
fi
ersatz=$(readlink -f "$ersatz")

# shellcheck source-path=SCRIPTDIR source=../tests/lab/paths_lab.sh
. "$here/tests/lab/paths_lab.sh"
paths_up >/dev/null
out=$(mktemp -d)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  paths_down
  rm -rf "$out"
}
trap cleanup EXIT

# wall NAME CMD...: runs CMD in the client, appends its wall time (µs) to
# $out/NAME, and keeps its output for the sanity check. The clock is read
# inside the namespace, by the shell that starts CMD (bash's
# EPOCHREALTIME, no process of its own), so `ip netns exec`'s own start-up
# is not counted.
wall() {
  local name=$1
  shift
  # shellcheck disable=SC2016  # expanded by the inner shell
  paths_in client bash -c 's=$EPOCHREALTIME; "$@" >"$0" 2>&1; e=$EPOCHREALTIME; echo "$s $e"' \
    "$out/$name.last" "$@" | awk '{printf "%d\n", ($2 - $1) * 1e6}' >>"$out/$name"
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-8s %14s %14s %16s\n' scenario "traceroute ms" "ersatz ms" "ratio (median)"
for scenario in udp icmp q1; do
  case $scenario in
    udp) args=(-n "$PATHS_PEER_IP") ;;
    icmp) args=(-n -I "$PATHS_PEER_IP") ;;
    q1) args=(-n -q 1 "$PATHS_PEER_IP") ;;
  esac
  # One run of each first, unmeasured: ARP entries and page cache warm.
  paths_in client traceroute "${args[@]}" >/dev/null 2>&1
  paths_in client "$ersatz" traceroute "${args[@]}" >/dev/null 2>&1
  for ((i = 0; i < pairs; i++)); do
    if ((i % 2)); then
      wall "$scenario.ersatz" "$ersatz" traceroute "${args[@]}"
      wall "$scenario.traceroute" traceroute "${args[@]}"
    else
      wall "$scenario.traceroute" traceroute "${args[@]}"
      wall "$scenario.ersatz" "$ersatz" traceroute "${args[@]}"
    fi
  done
  # Both must have traced the same path, or the times mean nothing.
  grep -q "^ 4  $PATHS_PEER_IP" "$out/$scenario.ersatz.last" || die "ersatz did not reach the peer: $(cat "$out/$scenario.ersatz.last")"
  grep -q "^ 4  $PATHS_PEER_IP" "$out/$scenario.traceroute.last" || die "traceroute did not reach the peer"
  a=$(median <"$out/$scenario.traceroute")
  b=$(median <"$out/$scenario.ersatz")
  r=$(paste "$out/$scenario.ersatz" "$out/$scenario.traceroute" | awk '{print $1 / $2}' | median)
  printf '%-8s %14.2f %14.2f %16.3f\n' "$scenario" "$(echo "$a / 1000" | bc -l)" "$(echo "$b / 1000" | bc -l)" "$r"
done
echo "($pairs pairs per scenario; wall time of each process as its shell saw it)"
