#!/usr/bin/env bash
# Lab: `ersatz serve` as a host on the lab's client link, answering for
# addresses the kernel does not have. From the router's namespace the
# kernel's ping (plain, -s 3000, -R, -f) and arping reach it, a UDP
# datagram gets protocol unreachable, a broadcast ping is ignored; an
# address in use is refused during probing; conflicts sent by scapy are
# defended (once, always) or yielded to (never, or a second one within
# 10 s); SIGINT prints the counters and exits 0. Needs root; skips
# otherwise. Usage: serve_lab.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lab.sh"
lab_up
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
  lab_down
  rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

SERVED=198.18.0.50
OTHER_MAC_SERVED=198.18.0.51
ONCE=198.18.0.52
NEVER=198.18.0.53
ALWAYS=198.18.0.54
FAKE_MAC=02:e5:00:00:00:99
RIVAL_MAC=02:e5:00:00:00:aa

# serve NAME ARGS...: starts `ersatz serve` in the client namespace (ip
# netns exec execs it, so $! is serve itself).
declare -A pid_of
serve() {
  local name=$1
  shift
  ip netns exec "$LAB_CLIENT" "$ersatz" serve "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid_of[$name]=$!
  pids+=($!)
}
# Waits for serve's `serving` line (RFC 5227 probing takes up to 7 s).
wait_serving() {
  local name=$1 i
  for i in $(seq 1 100); do
    grep -q -e '^serving ' -e '"event":"serving"' "$tmp/$name.out" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# Stops serve NAME with SIGINT; its exit code.
stop() {
  local pid=${pid_of[$1]}
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
}

# All the claims at once, so that their probing overlaps.
serve plain "$SERVED/24" -I c0
serve mac "$OTHER_MAC_SERVED/24" -I c0 --mac "$FAKE_MAC"
serve once "$ONCE/24" -I c0 --json
serve never "$NEVER/24" -I c0 --defend never
serve always "$ALWAYS/24" -I c0 --defend always --json
serve in_use "$LAB_ROUTER_IP/24" -I c0

# Refused: the address of another host (found by probing), and the
# kernel's own.
wait "${pid_of[in_use]}"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/in_use.err")" -eq 1 ] && [ ! -s "$tmp/in_use.out" ] &&
  grep -q "$LAB_ROUTER_IP.*$LAB_ROUTER_MAC" "$tmp/in_use.err"; then
  ok "address in use: one line naming it and the other MAC, exit 1"
else
  bad "address in use: exit $rc"
  cat "$tmp/in_use.out" "$tmp/in_use.err"
fi
ip netns exec "$LAB_CLIENT" "$ersatz" serve "$LAB_CLIENT_IP/24" -I c0 >"$tmp/own.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && ok "the kernel's own address: exit 1" || bad "the kernel's own address: exit $rc"

for n in plain mac once never always; do
  wait_serving "$n" || bad "$n: no serving line"
done
if grep -q "^serving $SERVED/24 on c0 as $LAB_CLIENT_MAC\$" "$tmp/plain.out"; then
  ok "serving line: $(cat "$tmp/plain.out")"
else
  bad "serving line"
  cat "$tmp/plain.out" "$tmp/plain.err"
fi

# The kernel's ping, from the router.
check_ping() {
  local name=$1
  shift
  if lab_in router ping "$@" >"$tmp/ping.out" 2>&1 && grep -q ' 0% packet loss' "$tmp/ping.out"; then
    ok "$name: $(grep -o '[0-9]* received' "$tmp/ping.out")"
  else
    bad "$name"
    cat "$tmp/ping.out"
  fi
}
check_ping "ping" -c 3 -i 0.2 "$SERVED"
check_ping "ping -s 3000 (fragments both ways)" -c 3 -i 0.2 -s 3000 "$SERVED"
check_ping "ping -s 65507" -c 1 -s 65507 "$SERVED"
check_ping "ping -f -c 2000" -f -q -c 2000 "$SERVED"
check_ping "ping --mac address" -c 2 -i 0.2 "$OTHER_MAC_SERVED"

# Under a flood from many sources (each needing ARP, each owed an error),
# serve answers what it can and its memory stays put: resident size after
# a second such flood is within 1 MiB of what it was after the first.
many_sources() {
  lab_in router /usr/bin/python3 - "$SERVED" "$LAB_CLIENT_MAC" >/dev/null 2>&1 <<'PY'
import sys
from scapy.all import Ether, ICMP, IP, UDP, Raw, sendp
dst, mac = sys.argv[1], sys.argv[2]
frames = []
for i in range(1500):
    src = "198.18.%d.%d" % (2 + i // 250, 1 + i % 250)
    frames.append(Ether(dst=mac) / IP(src=src, dst=dst) / ICMP(id=i, seq=1) / Raw(b"x" * 56))
    frames.append(Ether(dst=mac) / IP(src=src, dst=dst, id=i, flags=1) / UDP(dport=9) / Raw(b"y" * 1000))
sendp(frames, iface="r0", verbose=False)
PY
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/${pid_of[plain]}/status"; }
many_sources
rss1=$(rss)
many_sources
lab_in router ping -f -q -c 2000 "$SERVED" >/dev/null 2>&1
rss2=$(rss)
if [ -n "$rss1" ] && [ $((rss2 - rss1)) -le 1024 ]; then
  ok "flood from 1500 sources: resident size $rss1 kB, then $rss2 kB"
else
  bad "flood from 1500 sources: resident size $rss1 kB, then $rss2 kB"
fi

# ping -R: the route recorded is the kernel's own answer's, addresses aside.
lab_in router ping -R -c 1 "$SERVED" 2>&1 | grep -A4 '^RR:' | sed "s/$SERVED/X/" >"$tmp/rr.ersatz"
lab_in router ping -R -c 1 "$LAB_CLIENT_IP" 2>&1 | grep -A4 '^RR:' | sed "s/$LAB_CLIENT_IP/X/" >"$tmp/rr.kernel"
if [ -s "$tmp/rr.kernel" ] && diff -u "$tmp/rr.kernel" "$tmp/rr.ersatz" >"$tmp/diff"; then
  ok "ping -R: record route as the kernel returns it"
else
  bad "ping -R"
  cat "$tmp/diff"
fi

# arping, iputils' and ersatz's.
if lab_in router arping -c 2 -I r0 "$SERVED" >"$tmp/arping.out" 2>&1 &&
  grep -q "reply from $SERVED \[${LAB_CLIENT_MAC^^}\]" "$tmp/arping.out"; then
  ok "iputils arping"
else
  bad "iputils arping"
  cat "$tmp/arping.out"
fi
if lab_in router "$ersatz" arping -c 2 -i 0.2 -I r0 "$OTHER_MAC_SERVED" >"$tmp/arping.out" 2>&1 &&
  grep -q "reply from $OTHER_MAC_SERVED \[${FAKE_MAC^^}\]" "$tmp/arping.out"; then
  ok "ersatz arping, --mac"
else
  bad "ersatz arping, --mac"
  cat "$tmp/arping.out"
fi

# UDP: protocol unreachable, which Linux reports as ENOPROTOOPT.
lab_in router /usr/bin/python3 - "$SERVED" >"$tmp/udp.out" 2>&1 <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, 11, 1)  # IP_RECVERR
s.settimeout(3)
s.connect((sys.argv[1], 9999))
s.send(b"hello")
try:
    s.recv(100)
    print("no error")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
PY
if grep -qx ENOPROTOOPT "$tmp/udp.out"; then
  ok "UDP datagram: protocol unreachable"
else
  bad "UDP: $(cat "$tmp/udp.out")"
fi

# A broadcast ping gets no answer from serve (nor the client's kernel).
lab_in router ping -b -c 2 -i 0.2 -W 1 198.18.0.255 >/dev/null 2>&1

# Conflicts, sent by scapy from the router with a MAC nobody has, all from
# one process (scapy takes seconds to start on a loaded machine, and the
# second conflict for $ONCE must come within DEFEND_INTERVAL of the first).
ip netns exec "$LAB_ROUTER" tcpdump -i r0 -U -n -w "$tmp/defence.pcap" "arp and ether src $LAB_CLIENT_MAC" 2>/dev/null &
tcpdump_pid=$!
sleep 0.7
lab_in router /usr/bin/python3 - "$RIVAL_MAC" "$ONCE" "$ALWAYS" "$NEVER" >"$tmp/scapy.out" 2>&1 <<'PY'
import sys, time
from scapy.all import ARP, Ether, sendp
mac, once, always, never = sys.argv[1:5]
def claim(ip):
    sendp(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=ip, pdst=ip),
          iface="r0", verbose=False)
claim(once)
claim(always)
time.sleep(0.5)
claim(always)
claim(never)
time.sleep(1)
claim(once)
time.sleep(0.5)
PY
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid"
# wait_exit NAME: serve NAME's exit code, once it has exited (at most 10 s).
wait_exit() {
  local pid=${pid_of[$1]} i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -INT "$pid"
  wait "$pid"
}
defences=$(tcpdump -r "$tmp/defence.pcap" -n 2>/dev/null | grep -c "Request who-has $ONCE tell $ONCE")
if [ "$defences" -eq 1 ] && grep -q "\"event\":\"defended\",\"address\":\"$ONCE\",\"mac\":\"$RIVAL_MAC\"" "$tmp/once.out"; then
  ok "--defend once: the first conflict gets one announcement"
else
  bad "--defend once: $defences announcements"
  cat "$tmp/once.out" "$tmp/scapy.out"
fi
wait_exit once
rc=$?
if [ "$rc" -eq 1 ] && grep -q "\"event\":\"yielded\",\"address\":\"$ONCE\",\"mac\":\"$RIVAL_MAC\"" "$tmp/once.out"; then
  ok "--defend once: a second conflict within 10 s ends it, exit 1"
else
  bad "--defend once, second conflict: exit $rc"
  cat "$tmp/once.out"
fi
wait_exit never
rc=$?
if [ "$rc" -eq 1 ] && grep -q "$NEVER taken by $RIVAL_MAC" "$tmp/never.err"; then
  ok "--defend never: yields at once, exit 1"
else
  bad "--defend never: exit $rc"
  cat "$tmp/never.err"
fi
stop always
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"event":"defended"' "$tmp/always.out" &&
  grep -q '"event":"ignored"' "$tmp/always.out" && grep -q '"event":"stopped"' "$tmp/always.out"; then
  ok "--defend always: defended, then at most once per 10 s; SIGINT exit 0"
else
  bad "--defend always: exit $rc"
  cat "$tmp/always.out"
fi

# SIGINT: the counters, exit 0.
kill -TERM "${pid_of[mac]}"
wait "${pid_of[mac]}"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^answered: ' "$tmp/mac.out"; then
  ok "SIGTERM: counters, exit 0"
else
  bad "SIGTERM: exit $rc"
fi
stop plain
rc=$?
if [ "$rc" -eq 0 ] && grep -qE '^answered: [1-9][0-9]* arp, [0-9]{4,} echo, 1 protocol unreachable$' "$tmp/plain.out" &&
  grep -q 'icmp-echo-broadcast 2' "$tmp/plain.out"; then
  ok "SIGINT: counters, exit 0"
else
  bad "SIGINT: exit $rc"
fi
cat "$tmp/plain.out"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
