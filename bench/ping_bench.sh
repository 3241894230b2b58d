#!/usr/bin/env bash
# ping benchmark (issue 4): ersatz ping against iputils ping in one netns
# lab, on the same target, in one run. A figure, not a test: it never fails
# on a time.
#
#   bench/ping_bench.sh [ERSATZ] [FLOOD_COUNT] [RUNS]
#
# ERSATZ defaults to build/release/ersatz (built if missing), FLOOD_COUNT to
# 100000, RUNS to 3. For each run, in alternation: `ping -f -q -c N` and
# `ersatz ping -f -q -c N` to the router (on-link, 198.18.0.254), timed
# with the monotonic clock around the whole process (round trips per
# second = replies / wall time); then 6 rounds of `-c 40 -i 0.1` from
# both, alternating which goes first, and the median RTT of each.
# Only the lab's own 198.18.0.0/15 addresses are used, inside namespaces
# created here and deleted on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ersatz=${1:-$here/build/release/ersatz}
count=${2:-100000}
runs=${3:-3}
slow_count=${ERSATZ_BENCH_SLOW_COUNT:-40}
slow_interval=${ERSATZ_BENCH_SLOW_INTERVAL:-0.1}
rtt_rounds=${ERSATZ_BENCH_RTT_ROUNDS:-6}

if [ ! -x "$ersatz" ]; then
  cmake --preset release -S "$here" >/dev/null
  cmake --build "$here/build/release" --target ersatz_cli -j"$(nproc)" >/dev/null
fi
command -v ping >/dev/null || { echo "ping_bench: needs iputils ping" >&2; exit 1; }

# shellcheck source=../tests/lab/lab.sh
. "$here/tests/lab/lab.sh"
lab_up >/dev/null
target=$LAB_ROUTER_IP
out=$(mktemp -d)
trap 'lab_down; rm -rf "$out"' EXIT

now_ns() { date +%s%N; }

# flood NAME CMD...: prints "rt/s wall_ms received" for a `-q` flood (the
# summary says how many came back).
flood() {
  local name=$1 t0 t1 rx dest
  shift
  dest="$out/$name.txt"
  t0=$(now_ns)
  lab_in client "$@" >"$dest" 2>&1 || true
  t1=$(now_ns)
  rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$dest")
  awk -v rx="${rx:-0}" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f %.1f %d\n", rx / (ns / 1e9), ns / 1e6, rx }'
}

# median_rtt FILE: the median of the "time=X ms" values.
median_rtt() {
  sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$1" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
         else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm the neighbour entries and the caches.
lab_in client ping -c 2 -i 0.2 "$target" >/dev/null
lab_in client "$ersatz" ping -c 2 -i 0.2 "$target" >/dev/null

# median VALUES...
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# -q isolates the work of the round trip itself: neither tool writes
# anything per probe.
echo "ping_bench: $count-probe floods to $target with -q, $runs runs each, alternating"
printf '%-6s %-8s %12s %10s %9s\n' run tool "rt/s" "wall ms" received
: >"$out/rates"
for run in $(seq 1 "$runs"); do
  read -r a_rate a_ms a_rx < <(flood "iputils.$run" ping -f -q -c "$count" "$target")
  read -r e_rate e_ms e_rx < <(flood "ersatz.$run" "$ersatz" ping -f -q -c "$count" "$target")
  printf '%-6s %-8s %12s %10s %9s\n' "$run" iputils "$a_rate" "$a_ms" "$a_rx"
  printf '%-6s %-8s %12s %10s %9s\n' "$run" ersatz "$e_rate" "$e_ms" "$e_rx"
  echo "$a_rate $e_rate" >>"$out/rates"
done
awk '{ printf "ratio run %d: %.2fx\n", NR, $2 / $1 }' "$out/rates"
a_med=$(median $(cut -d' ' -f1 "$out/rates"))
e_med=$(median $(cut -d' ' -f2 "$out/rates"))
awk -v a="$a_med" -v e="$e_med" \
  'BEGIN { printf "median -f -q: iputils %d rt/s, ersatz %d rt/s, ratio %.2fx (goal >= 1.5x)\n\n", a, e, e / a }'

# Round-trip times: rounds of $slow_count probes at -i $slow_interval,
# alternating which tool goes first; the median of each round.
echo "ping_bench: $rtt_rounds alternating rounds of $slow_count probes at -i $slow_interval"
printf '%-6s %12s %12s %8s\n' round "iputils ms" "ersatz ms" "lower?"
lower=0
for round in $(seq 1 "$rtt_rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    lab_in client ping -c "$slow_count" -i "$slow_interval" "$target" >"$out/rtt.i.$round" 2>&1 || true
    lab_in client "$ersatz" ping -c "$slow_count" -i "$slow_interval" "$target" >"$out/rtt.e.$round" 2>&1 || true
  else
    lab_in client "$ersatz" ping -c "$slow_count" -i "$slow_interval" "$target" >"$out/rtt.e.$round" 2>&1 || true
    lab_in client ping -c "$slow_count" -i "$slow_interval" "$target" >"$out/rtt.i.$round" 2>&1 || true
  fi
  i_med=$(median_rtt "$out/rtt.i.$round")
  e_med=$(median_rtt "$out/rtt.e.$round")
  verdict=$(awk -v i="$i_med" -v e="$e_med" 'BEGIN { print (e < i) ? "yes" : "no" }')
  [ "$verdict" = yes ] && lower=$((lower + 1))
  printf '%-6s %12s %12s %8s\n' "$round" "$i_med" "$e_med" "$verdict"
done
echo "ersatz's median RTT was lower in $lower of $rtt_rounds rounds (goal: every round)"
