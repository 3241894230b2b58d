#!/usr/bin/env bash
# Lab: every raw backend sends and receives for real.
#
#   ns A: a0 198.18.5.1/24 02:e5:05:00:00:01 <--veth--> ns B: b0 198.18.5.2/24 02:e5:05:00:00:02
#   ns T: ezt0, a persistent TAP, 198.18.6.1/24 02:e5:06:00:00:01
#
# For AF_PACKET (TX ring, batched) and libpcap (loaded at run time: the
# probe reports it mapped for pcap only): link_probe in A sends echo
# requests built with the wire Reprs, and tcpdump in B must see exactly
# them; then B pings A and the probe (with the hand-built BPF filter) must
# print B's requests, not A's replies (outgoing frames are ignored) and not
# a UDP datagram (the filter drops it). AF_PACKET's kernel transmit stamps
# and batched sends are checked in every TX mode (see that section). For
# TAP: the probe attaches to ezt0 and sends into the kernel (tcpdump on
# ezt0 sees the frames, the kernel answers them), receives the kernel's
# pings, and creates a TAP of its own that vanishes when it exits. Every probe reports CapEff 0 once its device
# is open.
#
# Nothing leaves the namespaces created here (198.18.0.0/15 only); they are
# deleted on exit, failure included. Needs root; skips (77) otherwise.
# Usage: link_backends.sh LINK_PROBE [ERSATZ]
set -u
probe=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
for tool in ip tcpdump ping timeout; do
  command -v "$tool" >/dev/null || { echo "SKIP: missing $tool"; exit 77; }
done

suffix="$$-$RANDOM"
NS_A="ez-link-a-$suffix"
NS_B="ez-link-b-$suffix"
NS_T="ez-link-t-$suffix"
tmp=$(mktemp -d)
bg_pids=()

cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "$NS_A" "$NS_B" "$NS_T"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# wait_for FILE PATTERN: up to 5 s for a line to appear.
wait_for() {
  local i
  for i in $(seq 1 50); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

# start_tcpdump NS IFACE OUT [FILTER...]: runs until stop_tcpdump.
start_tcpdump() {
  local ns=$1 dev=$2 out=$3
  shift 3
  : >"$out.err"
  timeout -s KILL 60 ip netns exec "$ns" tcpdump -nn -l -i "$dev" "$@" >"$out" 2>"$out.err" &
  tcpdump_pid=$!
  bg_pids+=("$tcpdump_pid")
  wait_for "$out.err" "listening on"
}
stop_tcpdump() {
  sleep 0.3
  kill -INT "$(pgrep -P "$tcpdump_pid")" 2>/dev/null
  wait "$tcpdump_pid" 2>/dev/null
}

cap_zero() { grep -q "^CapEff:[[:space:]]*0000000000000000$" "$1"; }

# ------------------------------------------------------------------ lab
for ns in "$NS_A" "$NS_B" "$NS_T"; do
  ip netns add "$ns"
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
  in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  ip -n "$ns" link set lo up
done
ip -n "$NS_A" link add a0 address 02:e5:05:00:00:01 type veth peer name b0 netns "$NS_B" \
  address 02:e5:05:00:00:02
ip -n "$NS_A" addr add 198.18.5.1/24 dev a0
ip -n "$NS_B" addr add 198.18.5.2/24 dev b0
ip -n "$NS_A" link set a0 up
ip -n "$NS_B" link set b0 up

# ------------------------------------------------------------ veth backends
# afpacket-ringless: AF_PACKET with recvmmsg instead of a receive ring;
# afpacket-sendonly: a device that only sends (a ParallelTx lane).
for backend in afpacket pcap afpacket-ringless afpacket-sendonly; do
  kind=${backend%%-*}
  extra=()
  case $backend in
    *-ringless) extra=(--rx-ring none) ;;
    *-sendonly) extra=(--send-only) ;;
  esac
  # Send: five echo requests, in batches of four on AF_PACKET's TX ring.
  start_tcpdump "$NS_B" b0 "$tmp/$backend.tx.tcpdump" icmp || { fails=$((fails + 1)); continue; }
  timeout 20 ip netns exec "$NS_A" "$probe" --backend "$kind" "${extra[@]}" --iface a0 --batch 4 \
    send 5 02:e5:05:00:00:02 198.18.5.1 198.18.5.2 >"$tmp/$backend.tx.out" 2>&1
  check "$backend: probe sends 5 frames" grep -qx "sent 5" "$tmp/$backend.tx.out"
  stop_tcpdump
  grep "ICMP echo request" "$tmp/$backend.tx.tcpdump" | sed 's/^[0-9:.]* //' >"$tmp/$backend.tx.got"
  for seq in 1 2 3 4 5; do
    echo "IP 198.18.5.1 > 198.18.5.2: ICMP echo request, id 17767, seq $seq, length 40"
  done >"$tmp/want"
  check "$backend: tcpdump in the peer sees exactly the 5 requests, in order" \
    cmp -s "$tmp/want" "$tmp/$backend.tx.got"
  check "$backend: the peer's kernel answers them (checksums are right)" \
    test "$(grep -c "ICMP echo reply, id 17767" "$tmp/$backend.tx.tcpdump")" -eq 5
  check "$backend: CapEff is 0 once the device is open" cap_zero "$tmp/$backend.tx.out"
  if [ "$kind" = afpacket ]; then
    check "$backend: frames went through PACKET_TX_RING" grep -qx "tx ring yes" "$tmp/$backend.tx.out"
    # libpcap is loaded at run time, by its backend only.
    check "$backend: libpcap is never loaded" grep -qx "libpcap not mapped" "$tmp/$backend.tx.out"
  else
    check "pcap: the frames went through libpcap, loaded at run time" \
      grep -qx "libpcap mapped" "$tmp/$backend.tx.out"
  fi

  # Receive, through the stack filter: B's pings pass; A's replies are
  # outgoing (ignored); a UDP datagram is dropped by the kernel filter.
  timeout -s KILL 30 ip netns exec "$NS_A" "$probe" --backend "$kind" "${extra[@]}" --iface a0 \
    --filter recv 20 >"$tmp/$backend.rx.out" 2>"$tmp/$backend.rx.err" &
  rx=$!
  bg_pids+=("$rx")
  if wait_for "$tmp/$backend.rx.err" "^ready"; then
    in_ns "$NS_B" ping -n -c 3 -i 0.2 -W 1 198.18.5.1 >/dev/null
    in_ns "$NS_B" bash -c 'echo ersatz >/dev/udp/198.18.5.1/9' 2>/dev/null
    sleep 0.5
    kill -INT "$(pgrep -P "$rx")" 2>/dev/null
  fi
  wait "$rx"
  check "$backend: receive exits 0 on SIGINT" test $? -eq 0
  expect_requests=3
  [ "$backend" = afpacket-sendonly ] && expect_requests=0  # it never receives
  check "$backend: $expect_requests of the echo requests arrive" \
    test "$(grep -c "198.18.5.2 > 198.18.5.1: ICMP echo request" "$tmp/$backend.rx.out")" -eq "$expect_requests"
  check "$backend: outgoing replies are not received" \
    test "$(grep -c "echo reply" "$tmp/$backend.rx.out")" -eq 0
  # ersatz prints a UDP datagram as tcpdump does: "A.port > B.port: UDP, length N".
  check "$backend: the BPF filter drops UDP" test "$(grep -c ": UDP, length" "$tmp/$backend.rx.out")" -eq 0
  check "$backend: CapEff is 0 while receiving" cap_zero "$tmp/$backend.rx.out"
  if [ "$backend" = pcap ]; then
    check "pcap: the frames came through libpcap" grep -qx "libpcap mapped" "$tmp/$backend.rx.out"
  fi
  ip -n "$NS_A" neigh flush all
  ip -n "$NS_B" neigh flush all
done

# ------------------------------------------- TX timestamps and batched sends
# In every AF_PACKET transmit mode (and with PACKET_QDISC_BYPASS for the
# batching ones), the probe sends two bursts of 300 echo requests, each
# ended by one flush(), and collects the kernel's transmit stamps; tcpdump
# in B records when each request arrived (nanoseconds, the same
# CLOCK_REALTIME). 300 is more than the 255 stamps a default socket
# receive buffer queues. Checked, per mode:
#   (a) exactly one stamp per frame, frame numbers 0..599 in order;
#   (b) each stamp lies between the probe's clock reading just before the
#       system call that sent the frame and B's capture of that frame;
#   (c) B sees every request, each once.
# stamp_report PROBE_OUT TCPDUMP_OUT: "stamps S in_order O early E late L
# unmatched U peer P peer_unique Q".
stamp_report() {
  awk '
    FNR == NR {
      if ($0 ~ /198\.18\.5\.1 > 198\.18\.5\.2: ICMP echo request/) {
        for (i = 1; i <= NF; i++) if ($i == "seq") seq = $(i + 1) + 0
        split($1, t, ".")
        if (!(seq in psec)) { psec[seq] = t[1] + 0; pnsec[seq] = t[2] + 0; uniq++ }
        peer++
      }
      next
    }
    $1 == "stamp" {
      if ($2 + 0 == stamps) inorder++
      stamps++
      if ($3 + 0 < $5 + 0 || ($3 + 0 == $5 + 0 && $4 + 0 < $6 + 0)) early++
      seq = $2 + 1
      if (!(seq in psec)) { unmatched++; next }
      if ($3 + 0 > psec[seq] || ($3 + 0 == psec[seq] && $4 + 0 > pnsec[seq])) late++
    }
    END {
      printf "stamps %d in_order %d early %d late %d unmatched %d peer %d peer_unique %d\n",
        stamps, inorder, early, late, unmatched, peer, uniq
    }' "$2" "$1"
}

for variant in send ring sendmmsg ring+bypass sendmmsg+bypass; do
  mode=${variant%+bypass}
  extra=()
  [ "$variant" != "$mode" ] && extra=(--bypass)
  out="$tmp/stamps.$variant"
  start_tcpdump "$NS_B" b0 "$out.tcpdump" -tt --time-stamp-precision=nano icmp ||
    { fails=$((fails + 1)); continue; }
  timeout 30 ip netns exec "$NS_A" "$probe" --backend afpacket --iface a0 --tx-mode "$mode" \
    "${extra[@]}" --tstamp burst 2 300 02:e5:05:00:00:02 198.18.5.1 198.18.5.2 >"$out" 2>&1
  stop_tcpdump
  read -r _ stamps _ inorder _ early _ late _ unmatched _ peer _ uniq < <(stamp_report "$out" "$out.tcpdump")
  check "$variant: the driver stamps on veth (Capabilities::tx_timestamps)" grep -qx "tx_timestamps yes" "$out"
  check "$variant: frames went out in that mode" grep -qx "tx mode $mode" "$out"
  check "$variant: tx_count is 600" grep -qx "tx_count 600" "$out"
  check "$variant: (a) one stamp per frame ($stamps of 600), numbered 0..599 in order ($inorder)" \
    test "$stamps" -eq 600 -a "$inorder" -eq 600
  check "$variant: no stamp lost or unnumbered" grep -qx "stamps_lost 0" "$out"
  check "$variant: (b) no stamp before its send call ($early early)" test "$early" -eq 0
  check "$variant: (b) no stamp after the peer's capture ($late late, $unmatched not captured)" \
    test "$late" -eq 0 -a "$unmatched" -eq 0
  check "$variant: (c) the peer sees all 600 requests once each ($peer, $uniq distinct)" \
    test "$peer" -eq 600 -a "$uniq" -eq 600
done

# A pending stamp makes the socket poll POLLERR whatever was asked for:
# receive() must collect the stamps and sleep, not spin, and tx_timestamps()
# must still report them afterwards.
timeout 30 ip netns exec "$NS_A" "$probe" --backend afpacket --iface a0 --tx-mode ring --batch 64 \
  --tstamp idle 20 1 02:e5:05:00:00:02 >"$tmp/idle" 2>&1
idle_cpu=$(sed -n 's/^idle_cpu_ms \([0-9]*\).*/\1/p' "$tmp/idle")
check "receive() sleeps while stamps are pending (${idle_cpu:-?} ms of CPU in a 1 s wait)" \
  test "${idle_cpu:-1000}" -lt 200
check "the stamps receive() collected are reported by tx_timestamps() (20)" \
  grep -qx "stamps 20" "$tmp/idle"

# The checks above can fail: a probe without --tstamp reports no stamps,
# and its frames still all arrive.
start_tcpdump "$NS_B" b0 "$tmp/nostamp.tcpdump" -tt --time-stamp-precision=nano icmp &&
  timeout 30 ip netns exec "$NS_A" "$probe" --backend afpacket --iface a0 --tx-mode ring \
    burst 1 50 02:e5:05:00:00:02 198.18.5.1 198.18.5.2 >"$tmp/nostamp" 2>&1
stop_tcpdump
read -r _ stamps _ _ _ _ _ _ _ _ _ peer _ _ < <(stamp_report "$tmp/nostamp" "$tmp/nostamp.tcpdump")
check "control: without --tstamp no stamps come ($stamps), and all 50 frames arrive ($peer)" \
  test "$stamps" -eq 0 -a "$peer" -eq 50 -a "$(grep -c "^tx_timestamps no$" "$tmp/nostamp")" -eq 1

# Control for the filter checks: without --filter the UDP datagram arrives.
timeout -s KILL 30 ip netns exec "$NS_A" "$probe" --backend afpacket --iface a0 recv 20 \
  >"$tmp/nofilter.out" 2>"$tmp/nofilter.err" &
rx=$!
bg_pids+=("$rx")
if wait_for "$tmp/nofilter.err" "^ready"; then
  in_ns "$NS_B" bash -c 'echo ersatz >/dev/udp/198.18.5.1/9' 2>/dev/null
  sleep 0.5
  kill -INT "$(pgrep -P "$rx")" 2>/dev/null
fi
wait "$rx"
check "control: without the filter the UDP datagram is received" \
  grep -qE "198\.18\.5\.2\.[0-9]+ > 198\.18\.5\.1\.9: UDP, length 7" "$tmp/nofilter.out"

# ------------------------------------------------------------------- TAP
ip -n "$NS_T" tuntap add mode tap name ezt0
ip -n "$NS_T" link set ezt0 address 02:e5:06:00:00:01
ip -n "$NS_T" addr add 198.18.6.1/24 dev ezt0
ip -n "$NS_T" link set ezt0 up
# ersatz's end of the TAP link answers to no ARP here: a static entry.
ip -n "$NS_T" neigh add 198.18.6.2 lladdr 02:e5:06:00:00:00 dev ezt0 nud permanent

timeout -s KILL 30 ip netns exec "$NS_T" "$probe" --backend tap --iface ezt0 recv 20 \
  >"$tmp/tap.rx.out" 2>"$tmp/tap.rx.err" &
rx=$!
bg_pids+=("$rx")
if wait_for "$tmp/tap.rx.err" "^ready"; then
  in_ns "$NS_T" ping -n -c 3 -i 0.2 -W 0.3 198.18.6.2 >/dev/null
  sleep 0.3
  kill -INT "$(pgrep -P "$rx")" 2>/dev/null
fi
wait "$rx"
check "tap: ersatz's MAC is the interface's with the last bit flipped" \
  grep -qx "opened ezt0 mtu 1500 mac 02:e5:06:00:00:00" "$tmp/tap.rx.out"
check "tap: the kernel's 3 echo requests arrive" \
  test "$(grep -c "02:e5:06:00:00:01 > 02:e5:06:00:00:00, .*198.18.6.1 > 198.18.6.2: ICMP echo request" \
    "$tmp/tap.rx.out")" -eq 3
check "tap: CapEff is 0 while receiving" cap_zero "$tmp/tap.rx.out"

if start_tcpdump "$NS_T" ezt0 "$tmp/tap.tx.tcpdump" -e icmp; then
  # --linger keeps the TAP attached until the replies are back: with its
  # last fd closed the TAP loses carrier and unsent replies are discarded.
  timeout 20 ip netns exec "$NS_T" "$probe" --backend tap --iface ezt0 --linger 3 \
    send 3 02:e5:06:00:00:01 198.18.6.2 198.18.6.1 >"$tmp/tap.tx.out" 2>&1
  stop_tcpdump
  check "tap: the probe receives the kernel's 3 replies" grep -qx "replies 3" "$tmp/tap.tx.out"
  check "tap: tcpdump on the TAP sees the 3 requests" \
    test "$(grep -c "02:e5:06:00:00:00 > 02:e5:06:00:00:01, .*198.18.6.2 > 198.18.6.1: ICMP echo request, id 17767" \
      "$tmp/tap.tx.tcpdump")" -eq 3
  check "tap: the kernel answers them" \
    test "$(grep -c "198.18.6.1 > 198.18.6.2: ICMP echo reply, id 17767" "$tmp/tap.tx.tcpdump")" -eq 3
else
  fails=$((fails + 1))
fi

timeout 20 ip netns exec "$NS_T" "$probe" --backend tap --iface ezt9 info >"$tmp/tap.new.out" 2>&1
check "tap: a new TAP is created by name" grep -q "^opened ezt9 mtu 1500 mac" "$tmp/tap.new.out"
check "tap: CapEff is 0 after creating it" cap_zero "$tmp/tap.new.out"
check "tap: it is gone when ersatz exits" test -z "$(ip -n "$NS_T" -o link show ezt9 2>/dev/null)"

echo "link_backends: $fails failed"
exit $((fails > 0))
