#!/usr/bin/env bash
# Frames per second through ersatz's raw devices over a veth pair, side by
# side in one run: AF_PACKET rings (TPACKET_V3 RX ring; PACKET_TX_RING with
# 64 frames per send()), libpcap (pcap_next_ex / pcap_inject, immediate
# mode), and the baseline, an AF_PACKET socket with one send() or recv() per
# frame and no ring.
#
#   ns S: s0 02:e5:07:00:00:01 <--veth--> ns R: r0 02:e5:07:00:00:02
#
# TX, far end down: each path sends COUNT 60-byte frames from S while r0 is
#   down, so veth drops them on arrival: the figure is the send path alone,
#   as on a NIC. (On veth the far end's receive processing runs on the
#   sender's CPU, inside its send call.)
# TX, far end up: the same with r0 up and nothing listening in R: send path
#   plus the far end's kernel receive.
# RX: each path receives in R while the ring path sends COUNT frames from S
#   as fast as it can: frames received over the time from the first to the
#   last, how many arrived, the kernel's drop count, and the receiving
#   process's own CPU time per frame. On a 2-CPU veth lab the RX rate is
#   mostly the sender's; the CPU cost per frame is the receiver's.
# TX figures are the median of 5 runs; the time runs until the last send
# returned (for the ring, until flush() saw every frame leave).
#
# A figure, not a test: it never fails a build. Nothing leaves the
# namespaces made here; they are deleted on exit. Needs root.
# Usage: link_bench.sh LINK_BENCH_BINARY [COUNT]
set -u
bench=$1
count=${2:-200000}
if [ "$(id -u)" -ne 0 ]; then
  echo "link_bench: needs root for network namespaces" >&2
  exit 77
fi
suffix="$$-$RANDOM"
NS_S="ez-bench-s-$suffix"
NS_R="ez-bench-r-$suffix"
tmp=$(mktemp -d)
rx_pid=""
cleanup() {
  [ -n "$rx_pid" ] && kill -KILL "$rx_pid" 2>/dev/null
  wait 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null
  ip netns del "$NS_R" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

for ns in "$NS_S" "$NS_R"; do
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
done
ip -n "$NS_S" link add s0 address 02:e5:07:00:00:01 type veth peer name r0 netns "$NS_R" \
  address 02:e5:07:00:00:02
ip -n "$NS_S" link set s0 up

field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" "$2"; }

tx() {  # tx PATH: median fps of 5 runs
  local path=$1 i
  for i in 1 2 3 4 5; do
    timeout 120 ip netns exec "$NS_S" "$bench" tx "$path" s0 02:e5:07:00:00:02 "$count" \
      >"$tmp/tx.out" 2>&1 || { cat "$tmp/tx.out" >&2; echo 0; continue; }
    field fps "$tmp/tx.out"
  done | sort -n | sed -n 3p
}

rx() {  # rx PATH: "fps received drops cpu_ns"
  local path=$1 i
  : >"$tmp/rx.err"
  timeout -s KILL 120 ip netns exec "$NS_R" "$bench" rx "$path" r0 "$count" \
    >"$tmp/rx.out" 2>"$tmp/rx.err" &
  rx_pid=$!
  for i in $(seq 1 50); do grep -q ready "$tmp/rx.err" && break; sleep 0.1; done
  timeout 120 ip netns exec "$NS_S" "$bench" tx ring s0 02:e5:07:00:00:02 "$count" >/dev/null
  wait "$rx_pid"
  rx_pid=""
  echo "$(field fps "$tmp/rx.out") $(field frames "$tmp/rx.out") $(field drops "$tmp/rx.out")" \
    "$(field cpu_ns "$tmp/rx.out")"
}

paths="ring pcap plain"
sleep 0.5
for path in $paths; do eval "txd_$path=$(tx "$path")"; done
ip -n "$NS_R" link set r0 up
sleep 0.5
for path in $paths; do eval "txu_$path=$(tx "$path")"; done
for path in $paths; do
  read -r r n d c < <(rx "$path")
  eval "rx_$path=${r:-0} rxn_$path=${n:-0} rxd_$path=${d:-0} rxc_$path=${c:-0}"
done

echo "$count frames of 60 bytes over veth; frames per second"
printf '%-32s %14s %14s %10s %16s %9s %12s\n' "path" "TX (far down)" "TX (far up)" "RX" \
  "RX received" "RX drops" "RX cpu ns/f"
for path in $paths; do
  case $path in
    ring) name="AF_PACKET rings (ersatz)" ;;
    pcap) name="libpcap (ersatz)" ;;
    plain) name="plain send()/recv() per frame" ;;
  esac
  eval "printf '%-32s %14.0f %14.0f %10.0f %16s %9s %12s\n' \"$name\" \"\$txd_$path\" \
    \"\$txu_$path\" \"\$rx_$path\" \"\$rxn_$path/$count\" \"\$rxd_$path\" \"\$rxc_$path\""
done
awk -v a="$txd_ring" -v b="$txd_plain" -v c="$txu_ring" -v d="$txu_plain" \
  -v e="$rx_ring" -v f="$rx_plain" -v g="$rxc_ring" -v h="$rxc_plain" 'BEGIN {
  printf "rings / plain:"
  if (b > 0) printf "  TX far down %.2fx", a / b
  if (d > 0) printf "  TX far up %.2fx", c / d
  if (f > 0) printf "  RX %.2fx", e / f
  if (g > 0) printf "  RX cpu per frame %.1fx less", h / g
  printf "\n"
}'
