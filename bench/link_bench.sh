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
# bursts: AfPacketDevice alone, 60-byte frames sent as bursts of 1, 16 and
#   256 frames, each burst ended by one flush() (link_bench burst): the TX
#   ring (one kick per burst), sendmmsg() (one call per burst) and send()
#   (one call per frame, the baseline), each with and without
#   PACKET_QDISC_BYPASS, with the far end down and up. Frames per second
#   and the sender's CPU time per frame (on a veth, with the far end up,
#   that includes the far end's receive), median of 5 runs of COUNT/2.
#   Far end down: the veth has no carrier, so without the bypass a frame
#   ends in the noop qdisc in dev_queue_xmit, and with it in veth_xmit.
# stamps: the same with kernel TX stamps (tx_timestamps() after every
#   flush), far end up: what a stamp costs per frame.
# rtt: on-link round trips to the far end's kernel (198.18.7.2), 6 rounds
#   alternating iputils ping -c 40 -i 0.2 and link_bench rtt (the same
#   probes through AfPacketDevice as ersatz ping opens it, with TX stamps):
#   median RTT per round, for iputils, for ersatz timed from the wall clock
#   before transmit() (as today) and from the kernel's TX stamp.
#
# A figure, not a test: it never fails a build. Nothing leaves the
# namespaces made here; they are deleted on exit. Needs root.
# Usage: link_bench.sh LINK_BENCH_BINARY [COUNT] [SECTIONS]
#   SECTIONS: any of "frames bursts stamps rtt" (default: all four)
set -u
bench=$1
count=${2:-200000}
sections=${3:-frames bursts stamps rtt}
want() { case " $sections " in *" $1 "*) return 0 ;; esac; return 1; }
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

# Runs of the same figure are interleaved with the others (round robin over
# every configuration, 5 rounds), so that a disturbance on the shared
# machine spreads over all of them; each figure is the median of its 5.
burst_once() {  # burst_once MODE SIZE [bypass] [tstamp]: "fps cpu_ns", or "refused"
  local mode=$1 size=$2
  shift 2
  timeout 120 ip netns exec "$NS_S" "$bench" burst "$mode" s0 02:e5:07:00:00:02 \
    $((count / 2)) "$size" "$@" >"$tmp/burst.out" 2>&1
  case $? in
    0) echo "$(field fps "$tmp/burst.out") $(field cpu_ns "$tmp/burst.out")" ;;
    3) echo "refused" ;;  # ENOBUFS from the driver: no figure
    *) cat "$tmp/burst.out" >&2; echo "failed" ;;
  esac
}

# cell FILE KEY: the median "fps (cpu)" of KEY's lines ("KEY fps cpu"), or
# ENOBUFS when the driver refused the frames.
cell() {
  local n fps cpu
  if grep -q "^$2 refused" "$1"; then
    echo "ENOBUFS"
    return
  fi
  n=$(grep -c "^$2 [0-9]" "$1")
  [ "$n" -gt 0 ] || { echo "-"; return; }
  fps=$(grep "^$2 [0-9]" "$1" | awk '{ print $(NF - 1) }' | sort -n | sed -n "$(((n + 1) / 2))p")
  cpu=$(grep "^$2 [0-9]" "$1" | awk '{ print $NF }' | sort -n | sed -n "$(((n + 1) / 2))p")
  printf '%.0f (%.0f)' "$fps" "$cpu"
}

bursts_table() {  # bursts_table STATE: one row per mode, fps (cpu ns/frame) per burst size
  local state=$1 mode bypass size round r
  : >"$tmp/bursts.dat"
  for round in 1 2 3 4 5; do
    for mode in ring sendmmsg send; do
      for bypass in plain bypass; do
        for size in 1 16 256; do
          grep -q "^$mode $bypass $size refused" "$tmp/bursts.dat" && continue
          r=$(burst_once "$mode" "$size" $([ $bypass = bypass ] && echo bypass))
          echo "$mode $bypass $size $r" >>"$tmp/bursts.dat"
        done
      done
    done
  done
  echo
  echo "bursts of 60-byte frames, far end $state: frames per second (sender CPU ns per frame)"
  printf '%-28s %18s %18s %18s\n' "mode" "burst 1" "burst 16" "burst 256"
  for mode in ring sendmmsg send; do
    for bypass in plain bypass; do
      printf '%-28s' "$mode$([ $bypass = bypass ] && echo " + qdisc bypass")"
      for size in 1 16 256; do
        printf ' %18s' "$(cell "$tmp/bursts.dat" "$mode $bypass $size")"
      done
      echo
    done
  done
}

stamps_table() {
  local mode size ts round
  : >"$tmp/stamps.dat"
  for round in 1 2 3 4 5; do
    for mode in send ring sendmmsg; do
      for size in 1 16; do
        for ts in off on; do
          echo "$mode $size $ts $(burst_once "$mode" "$size" $([ $ts = on ] && echo tstamp))" \
            >>"$tmp/stamps.dat"
        done
      done
    done
  done
  echo
  echo "kernel TX stamps, far end up: frames per second (sender CPU ns per frame), without / with"
  printf '%-12s %32s %32s\n' "mode" "burst 1" "burst 16"
  for mode in send ring sendmmsg; do
    printf '%-12s' "$mode"
    for size in 1 16; do
      printf ' %32s' "$(cell "$tmp/stamps.dat" "$mode $size off") / $(cell "$tmp/stamps.dat" "$mode $size on")"
    done
    echo
  done
}

rtt_rounds() {
  local round pings med
  ip -n "$NS_S" addr add 198.18.7.1/24 dev s0
  ip -n "$NS_R" addr add 198.18.7.2/24 dev r0
  ip -n "$NS_R" link set r0 up
  sleep 1
  echo
  echo "on-link RTT to the far end's kernel, 40 probes every 0.2 s per round: median, microseconds"
  printf '%-6s %10s %22s %22s\n' "round" "iputils" "ersatz (user clock)" "ersatz (kernel TX)"
  for round in 1 2 3 4 5 6; do
    pings=$(ip netns exec "$NS_S" ping -n -c 40 -i 0.2 198.18.7.2 |
      sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n)
    med=$(echo "$pings" | awk '{ v[NR] = $1 } END {
      if (NR % 2) print v[(NR + 1) / 2] * 1000; else print (v[NR / 2] + v[NR / 2 + 1]) * 500 }')
    timeout 60 ip netns exec "$NS_S" "$bench" rtt s0 02:e5:07:00:00:02 198.18.7.1 198.18.7.2 40 200 \
      >"$tmp/rtt.out" 2>&1 || cat "$tmp/rtt.out" >&2
    printf '%-6s %10.1f %22s %22s\n' "$round" "$med" "$(field user_median_us "$tmp/rtt.out")" \
      "$(field kernel_median_us "$tmp/rtt.out")"
  done
}

paths="ring pcap plain"
sleep 0.5
if want frames; then
  for path in $paths; do eval "txd_$path=$(tx "$path")"; done
fi
want bursts && bursts_table down
ip -n "$NS_R" link set r0 up
sleep 0.5
want bursts && bursts_table up
want stamps && stamps_table
want rtt && rtt_rounds
want frames || exit 0
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
