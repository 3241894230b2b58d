#!/usr/bin/env bash
# Lab: `ersatz dump -i` against tcpdump on live kernel traffic.
#
#   ns A: a0 198.18.5.1/24 <--veth--> ns B: b0 198.18.5.2/24
#
# tcpdump -nn and ersatz dump capture a0 side by side while A pings B; their
# lines must be identical (timestamps included: both read the kernel's
# stamp of the same frame), with and without -e, through AF_PACKET and
# libpcap. Also: -w writes a pcap tcpdump and tshark read; SIGINT ends a
# capture with exit 0 and "N packets captured"; -c stops by itself; --json
# is JSON Lines; the running capture has CapEff 0; without CAP_NET_RAW the
# error is one line and exit code 2; -i alone follows the default route.
# libpcap is loaded by the pcap backend only, and without it (hidden in a
# private mount namespace) ersatz still runs and --backend pcap says what to
# install.
#
# Nothing leaves the namespaces created here (198.18.0.0/15 only); they are
# deleted on exit, failure included. Needs root; skips (77) otherwise.
# Usage: link_dump.sh LINK_PROBE ERSATZ
set -u
ersatz=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
for tool in ip tcpdump ping timeout pgrep; do
  command -v "$tool" >/dev/null || { echo "SKIP: missing $tool"; exit 77; }
done
export TZ=UTC

suffix="$$-$RANDOM"
NS_A="ez-dump-a-$suffix"
NS_B="ez-dump-b-$suffix"
tmp=$(mktemp -d)
bg_pids=()

cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null; done
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

wait_for() {  # wait_for FILE PATTERN: up to 5 s
  local i
  for i in $(seq 1 50); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

# start NAME CMD...: runs CMD in the background under a watchdog, stdout to
# $tmp/NAME.out and stderr to $tmp/NAME.err; its PID (the command's own,
# not the watchdog's) in pid_NAME once it printed "listening on".
start() {
  local name=$1
  shift
  # Empty the files first: a run before this one left "listening on" there.
  : >"$tmp/$name.out"
  : >"$tmp/$name.err"
  timeout -s KILL 60 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local w=$!
  bg_pids+=("$w")
  printf -v "watch_$name" %s "$w"
  wait_for "$tmp/$name.err" "listening on" || return 1
  printf -v "pid_$name" %s "$(pgrep -P "$w")"
}
# finish NAME: SIGINT to the command; its exit status in rc_NAME.
finish() {
  local name=$1 w p
  w=$(eval echo "\$watch_$name")
  p=$(eval echo "\$pid_$name")
  kill -INT "$p" 2>/dev/null
  wait "$w"
  printf -v "rc_$name" %s "$?"
}

ping_b() { in_ns "$NS_A" ping -n -c 3 -i 0.2 -W 1 198.18.5.2 >/dev/null; sleep 0.3; }
flush_arp() { ip -n "$NS_A" neigh flush all; ip -n "$NS_B" neigh flush all; }

# ------------------------------------------------------------------ lab
for ns in "$NS_A" "$NS_B"; do
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
sleep 0.5

# ----------------------------------------------- side by side with tcpdump
for backend in afpacket pcap; do
  for flags in "" "-e"; do
    what="$backend${flags:+ $flags}"
    flush_arp
    start td ip netns exec "$NS_A" tcpdump -nn -l $flags -i a0 || { fails=$((fails + 1)); continue; }
    start ez ip netns exec "$NS_A" "$ersatz" dump -i a0 --backend "$backend" $flags ||
      { fails=$((fails + 1)); finish td; continue; }
    check "$what: the capture runs with CapEff 0" \
      grep -q "^CapEff:[[:space:]]*0000000000000000$" "/proc/$pid_ez/status"
    # libpcap is loaded at run time, by the pcap backend and nothing else.
    if [ "$backend" = pcap ]; then
      check "$what: libpcap is loaded (the pcap path runs)" grep -q "/libpcap\.so" "/proc/$pid_ez/maps"
    else
      check "$what: libpcap is not loaded" bash -c "! grep -q /libpcap\\.so /proc/$pid_ez/maps"
    fi
    ping_b
    finish ez
    finish td
    # tcpdump ends its output with a blank line when interrupted.
    grep -v '^$' "$tmp/td.out" >"$tmp/td.lines"
    n=$(wc -l <"$tmp/td.lines")
    check "$what: kernel ping seen (ARP + 3 requests + 3 replies)" test "$n" -ge 7
    # The text after the timestamp must be identical. The stamps agree to
    # the microsecond when the kernel stamped the frame once for every
    # socket; when it had not (skb->tstamp unset), each packet socket reads
    # the clock itself (tpacket_get_timestamp) and they may differ by a few
    # microseconds, so they are compared within 1 ms.
    cut -d' ' -f2- "$tmp/td.lines" >"$tmp/td.text"
    cut -d' ' -f2- "$tmp/ez.out" >"$tmp/ez.text"
    if cmp -s "$tmp/td.text" "$tmp/ez.text"; then
      echo "ok   $what: dump -i prints tcpdump's $n lines"
    else
      echo "FAIL $what: dump -i differs from tcpdump"
      diff -u "$tmp/td.lines" "$tmp/ez.out"
      fails=$((fails + 1))
    fi
    check "$what: timestamps agree with tcpdump's within 1 ms" /usr/bin/python3 -c '
import sys
def us(line):
    h, m, s = line.split(" ", 1)[0].split(":")
    return (int(h) * 3600 + int(m) * 60) * 10**6 + round(float(s) * 10**6)
a = open(sys.argv[1]).read().splitlines()
b = open(sys.argv[2]).read().splitlines()
assert len(a) == len(b)
assert all(abs(us(x) - us(y)) < 1000 for x, y in zip(a, b))
' "$tmp/td.lines" "$tmp/ez.out"
    check "$what: SIGINT exits 0" test "$rc_ez" -eq 0
    check "$what: SIGINT prints '$n packets captured'" grep -qx "$n packets captured" "$tmp/ez.err"
    check "$what: tcpdump's 'listening on' line" \
      grep -qx "listening on a0, link-type EN10MB (Ethernet), snapshot length 262144 bytes" \
      "$tmp/ez.err"
  done
done

# -------------------------------------------------------------------- -w
flush_arp
start ezw ip netns exec "$NS_A" "$ersatz" dump -i a0 -w "$tmp/live.pcap" || fails=$((fails + 1))
ping_b
finish ezw
n=$(grep -o '^[0-9]* packets captured' "$tmp/ezw.err" | cut -d' ' -f1)
check "-w: nothing on stdout" test ! -s "$tmp/ezw.out"
check "-w: frames were captured" test "${n:-0}" -ge 7
check "-w: tcpdump reads the file, every frame" \
  test "$(tcpdump -nn -r "$tmp/live.pcap" 2>/dev/null | wc -l)" -eq "${n:-0}"
if command -v tshark >/dev/null; then
  check "-w: tshark reads the file, every frame" \
    test "$(tshark -n -r "$tmp/live.pcap" 2>/dev/null | wc -l)" -eq "${n:-0}"
else
  echo "skip -w: tshark is not installed"
fi
tcpdump -nn -r "$tmp/live.pcap" >"$tmp/file.tcpdump" 2>/dev/null
"$ersatz" dump -r "$tmp/live.pcap" >"$tmp/file.ersatz" 2>/dev/null
check "-w: dump -r of the file prints what tcpdump -r prints" cmp -s "$tmp/file.tcpdump" \
  "$tmp/file.ersatz"

# -------------------------------------------------------------- -c, --json
flush_arp
timeout -s KILL 30 ip netns exec "$NS_A" "$ersatz" dump -i a0 -c 4 >"$tmp/c.out" 2>"$tmp/c.err" &
w=$!
bg_pids+=("$w")
wait_for "$tmp/c.err" "listening on" && ping_b
wait "$w"
check "-c 4: exits 0 by itself" test $? -eq 0
check "-c 4: four lines" test "$(wc -l <"$tmp/c.out")" -eq 4
check "-c 4: '4 packets captured'" grep -qx "4 packets captured" "$tmp/c.err"

flush_arp
timeout -s KILL 30 ip netns exec "$NS_A" "$ersatz" dump -i a0 --json -c 4 >"$tmp/j.out" \
  2>"$tmp/j.err" &
w=$!
bg_pids+=("$w")
# --json prints no 'listening on' line; the capture is ready once it has
# dropped its capabilities, which it does right after opening the device.
for i in $(seq 1 50); do
  p=$(pgrep -P "$w")
  [ -n "$p" ] && grep -q "^CapEff:[[:space:]]*0000000000000000$" "/proc/$p/status" 2>/dev/null && break
  sleep 0.1
done
ping_b
wait "$w"
rc=$?
[ -s "$tmp/j.out" ] || { echo "json run: exit $rc"; cat "$tmp/j.err"; }
check "--json: four objects, numbered" /usr/bin/python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, lines
for n, line in enumerate(lines, 1):
    assert json.loads(line)["frame.number"] == n
' "$tmp/j.out"

# ---------------------------------------------------- filter expressions
# Live, the program libpcap compiles runs in the kernel on ersatz's socket:
# side by side with tcpdump and the same expression, both must keep the
# same frames of the same traffic (ARP, 3 requests, 3 replies, then a UDP
# datagram): the same number, and for ARP and ICMP the same lines.
# expect EXPRESSION COUNT
for case in "icmp[icmptype] == icmp-echo:3" "arp or icmp[icmptype] == icmp-echoreply:5" "udp:1"; do
  expr=${case%:*}
  count=${case##*:}
  flush_arp
  start tdf ip netns exec "$NS_A" tcpdump -nn -l -i a0 "$expr" || { fails=$((fails + 1)); continue; }
  # shellcheck disable=SC2086 # the expression is words, as tcpdump takes them
  start ezf ip netns exec "$NS_A" "$ersatz" dump -nn -i a0 $expr || { fails=$((fails + 1)); continue; }
  ping_b
  in_ns "$NS_A" bash -c 'echo ersatz >/dev/udp/198.18.5.2/9' 2>/dev/null
  sleep 0.5
  finish ezf
  finish tdf
  # tcpdump ends its output with an empty line when interrupted.
  n_ez=$(grep -c . "$tmp/ezf.out")
  n_td=$(grep -c . "$tmp/tdf.out")
  check "filter '$expr': $count frames, as tcpdump" test "$n_ez" -eq "$count" -a "$n_td" -eq "$count"
  if [ "$expr" != udp ]; then
    check "filter '$expr': the same lines as tcpdump's" \
      test "$(grep . "$tmp/tdf.out" | cut -d' ' -f2- | sort)" = \
      "$(grep . "$tmp/ezf.out" | cut -d' ' -f2- | sort)"
  fi
done
ip netns exec "$NS_A" "$ersatz" dump -i a0 icmp and hots 1 >/dev/null 2>"$tmp/bad.err"
check "bad filter: exit 1" test $? -eq 1
check "bad filter: one line" test "$(wc -l <"$tmp/bad.err")" -eq 1

# ------------------------------------------------- default interface (-i)
ip -n "$NS_A" route add default via 198.18.5.2
flush_arp
timeout -s KILL 30 ip netns exec "$NS_A" "$ersatz" dump -i -c 2 >"$tmp/d.out" 2>"$tmp/d.err" &
w=$!
bg_pids+=("$w")
wait_for "$tmp/d.err" "listening on" && in_ns "$NS_A" ping -n -c 2 -i 0.2 -W 1 198.18.99.1 >/dev/null
wait "$w"
check "-i alone: captures on the default route's interface" grep -q "^listening on a0," "$tmp/d.err"
check "-i alone: sees the traffic" test "$(wc -l <"$tmp/d.out")" -eq 2

# ------------------------------------------------------------- privileges
if command -v capsh >/dev/null; then
  for backend in afpacket pcap; do
    capsh --drop=cap_net_raw -- -c "ip netns exec $NS_A $ersatz dump -i a0 --backend $backend" \
      >"$tmp/cap.out" 2>"$tmp/cap.err"
    rc=$?
    check "no CAP_NET_RAW ($backend): exit code 2" test "$rc" -eq 2
    check "no CAP_NET_RAW ($backend): exactly the one line" test "$(cat "$tmp/cap.err")" = \
      "ersatz: needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep ersatz"
  done
else
  echo "skip privileges: capsh (libcap2-bin) is not installed"
fi
in_ns "$NS_A" "$ersatz" dump -i ez-none0 >/dev/null 2>"$tmp/none.err"
check "missing interface: exit 1" test $? -eq 1
check "missing interface: one line naming it" \
  test "$(cat "$tmp/none.err")" = "ersatz: ez-none0: No such device"

# ------------------------------------------------------ without libpcap
# libpcap hidden in a mount namespace of this run's own (/dev/null over its
# file) stands in for a host without the package: ersatz still starts,
# reads files and captures through AF_PACKET; --backend pcap says what to
# install, in one line, and exits 2.
libpcap=$(ldconfig -p | awk '/libpcap\.so\.0\.8 .*x86-64/ && !p { p = $NF } END { print p }')
if [ -n "$libpcap" ] && command -v unshare >/dev/null; then
  hide=(unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$libpcap")
  "${hide[@]}" ip netns exec "$NS_A" "$ersatz" dump -i a0 --backend pcap >"$tmp/nopcap.out" 2>"$tmp/nopcap.err"
  rc=$?
  check "no libpcap: --backend pcap exits 2" test "$rc" -eq 2
  check "no libpcap: one line naming the package" test "$(cat "$tmp/nopcap.err")" = \
    "ersatz: libpcap is not installed (apt install libpcap0.8)"
  "${hide[@]}" "$ersatz" dump -r "$tmp/live.pcap" >"$tmp/nopcap.file" 2>/dev/null
  check "no libpcap: dump -r still works" cmp -s "$tmp/nopcap.file" "$tmp/file.ersatz"
  flush_arp
  timeout -s KILL 30 "${hide[@]}" ip netns exec "$NS_A" "$ersatz" dump -i a0 -c 2 >"$tmp/nopcap.live" 2>"$tmp/nopcap.live.err" &
  w=$!
  bg_pids+=("$w")
  wait_for "$tmp/nopcap.live.err" "listening on" && ping_b
  wait "$w"
  check "no libpcap: dump -i through AF_PACKET still captures" \
    test "$(wc -l <"$tmp/nopcap.live")" -eq 2
else
  echo "skip no-libpcap checks: libpcap.so.0.8 not in ld.so's cache, or no unshare"
fi

echo "link_dump: $fails failed"
exit $((fails > 0))
