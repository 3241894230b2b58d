#!/usr/bin/env bash
# serve benchmark (issue 9): the kernel's `ping -f -q -c N` against an
# address `ersatz serve` answers for, and against the kernel's own address
# on the same link, side by side, alternating. Then arping reply times,
# ersatz's and iputils', against what the wire says. A figure, not a test.
#
#   bench/serve_bench.sh [ERSATZ] [FLOOD_COUNT] [RUNS]
#
# ERSATZ defaults to build/release/ersatz (built if missing), FLOOD_COUNT to
# 100000, RUNS to 3. serve runs in the lab's client namespace on c0 for
# 198.18.0.50; the pings run in the router namespace, to 198.18.0.50 and to
# the client kernel's 198.18.0.1, both behind the same veth. Round trips
# per second = replies / wall time of the whole ping process.
# Only the lab's 198.18.0.0/15 addresses, inside namespaces made here.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ersatz=${1:-$here/build/release/ersatz}
count=${2:-100000}
runs=${3:-3}
arping_count=${ERSATZ_BENCH_ARPING_COUNT:-10}
served=198.18.0.50

if [ ! -x "$ersatz" ]; then
  cmake --preset release -S "$here" >/dev/null
  cmake --build "$here/build/release" --target ersatz_cli -j"$(nproc)" >/dev/null
fi

# shellcheck source=../tests/lab/lab.sh
. "$here/tests/lab/lab.sh"
lab_up >/dev/null
out=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill -INT "$serve_pid" 2>/dev/null; wait 2>/dev/null; lab_down; rm -rf "$out"' EXIT

# shellcheck disable=SC2086 # ERSATZ_SERVE_FLAGS: extra flags (--busy-poll);
# ERSATZ_SERVE_PREFIX: a command to run serve under (taskset -c 1)
ip netns exec "$LAB_CLIENT" ${ERSATZ_SERVE_PREFIX:-} "$ersatz" serve "$served/24" -I c0 ${ERSATZ_SERVE_FLAGS:-} >"$out/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
  grep -q '^serving ' "$out/serve.out" && break
  sleep 0.1
done
grep -q '^serving ' "$out/serve.out" || { cat "$out/serve.out"; exit 1; }

now_ns() { date +%s%N; }
# flood TARGET: "rt/s received" for one `ping -f -q -c N` from the router.
flood() {
  local t0 t1 rx
  t0=$(now_ns)
  lab_in router ping -f -q -c "$count" "$1" >"$out/flood.txt" 2>&1 || true
  t1=$(now_ns)
  rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$out/flood.txt")
  awk -v rx="${rx:-0}" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f %d\n", rx / (ns / 1e9), rx }'
}

# Warm the neighbour entries.
lab_in router ping -c 2 -i 0.2 "$served" >/dev/null
lab_in router ping -c 2 -i 0.2 "$LAB_CLIENT_IP" >/dev/null

echo "ping -f -q -c $count from the router: kernel address vs served address"
printf '%-6s %14s %14s %8s\n' run kernel_rt/s serve_rt/s ratio
kernel_all=()
serve_all=()
for r in $(seq 1 "$runs"); do
  # Alternate which goes first.
  if [ $((r % 2)) -eq 1 ]; then
    read -r k _ < <(flood "$LAB_CLIENT_IP")
    read -r s srx < <(flood "$served")
  else
    read -r s srx < <(flood "$served")
    read -r k _ < <(flood "$LAB_CLIENT_IP")
  fi
  kernel_all+=("$k")
  serve_all+=("$s")
  printf '%-6s %14s %14s %7.2fx  (%s of %s answered)\n' "$r" "$k" "$s" "$(awk -v a="$s" -v b="$k" 'BEGIN { print a / b }')" "$srx" "$count"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
km=$(median "${kernel_all[@]}")
sm=$(median "${serve_all[@]}")
printf '%-6s %14s %14s %7.2fx\n' median "$km" "$sm" "$(awk -v a="$sm" -v b="$km" 'BEGIN { print a / b }')"

# arping: printed reply times against the wire (tcpdump on the client's
# c0: request out to reply in), to the router.
wire_medians() {
  tcpdump -r "$1" -n -tt 2>/dev/null | awk '
    / Request who-has / { t = $1 }
    / Reply / && t { printf "%.6f\n", ($1 - t) * 1000; t = 0 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printed_median() {
  sed -n 's/.* \([0-9.]*\)ms$/\1/p' "$1" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
arping_run() {
  local name=$1 cap=$out/$1.pcap
  shift
  ip netns exec "$LAB_CLIENT" tcpdump -i c0 -U -n -w "$cap" "arp and host $LAB_ROUTER_IP" 2>/dev/null &
  local tp=$!
  sleep 0.7
  lab_in client "$@" >"$out/$name.txt" 2>&1 || true
  sleep 0.3
  kill -INT "$tp"
  wait "$tp" || true
  printf '%-8s printed median %s ms, on the wire %s ms\n' "$name" "$(printed_median "$out/$name.txt")" "$(wire_medians "$cap")"
}
echo
echo "arping -c $arping_count to the router ($LAB_ROUTER_IP), reply times (median)"
arping_run iputils arping -c "$arping_count" -i 1 -w $((arping_count + 2)) "$LAB_ROUTER_IP"
arping_run ersatz "$ersatz" arping -c "$arping_count" -i 0.2 "$LAB_ROUTER_IP"

kill -INT "$serve_pid"
wait "$serve_pid" || true
serve_pid=
echo
cat "$out/serve.out"
