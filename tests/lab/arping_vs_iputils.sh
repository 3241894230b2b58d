#!/usr/bin/env bash
# Lab: `ersatz arping` against iputils arping (20221126), side by side on
# the same lab targets. Outputs must agree line for line once reply times
# are normalised, exit codes must match, and the frames -U, -A, -D and a
# plain probe put on the wire, captured on the far side, must carry the same
# opcode, four addresses and Ethernet destination. Needs root; skips
# otherwise. Usage: arping_vs_iputils.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lab.sh"
iputils=$(command -v arping || true)
if [ -z "$iputils" ] || ! arping -V 2>/dev/null | grep -q iputils; then
  echo "SKIP: iputils arping is not installed (scripts/install-deps.sh)"
  exit 77
fi
lab_up
tmp=$(mktemp -d)
trap 'lab_down; rm -rf "$tmp"' EXIT

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

normalise() { sed -E -e 's/ [0-9]+\.[0-9]{3}ms$/ Tms/'; }

# compare NAME ARGS...: both arpings in the client namespace.
compare() {
  local name=$1
  shift
  # By name, as iputils' messages start with argv[0].
  lab_in client arping "$@" >"$tmp/iputils.out" 2>&1
  local want=$?
  lab_in client "$ersatz" arping "$@" >"$tmp/ersatz.out" 2>&1
  local got=$?
  normalise <"$tmp/iputils.out" >"$tmp/a"
  normalise <"$tmp/ersatz.out" >"$tmp/b"
  if [ "$want" -ne "$got" ]; then
    bad "$name: exit $got, iputils $want"
    cat "$tmp/ersatz.out"
  elif ! diff -u "$tmp/a" "$tmp/b" >"$tmp/diff"; then
    bad "$name: output differs from iputils"
    cat "$tmp/diff"
  else
    ok "$name (exit $got)"
  fi
}

compare "live address" -c 2 "$LAB_ROUTER_IP"
compare "dead address, -w" -w 1 "$LAB_NOBODY_IP"
compare "dead address, -c 3 -w 1" -c 3 -w 1 "$LAB_NOBODY_IP"
compare "-D, address in use" -D -c 2 "$LAB_ROUTER_IP"
compare "-D, address free" -D -c 2 "$LAB_NOBODY_IP"
compare "-f" -f "$LAB_ROUTER_IP"
compare "-q" -q -c 1 "$LAB_ROUTER_IP"
compare "-b, count reached before -w" -b -c 2 -w 3 "$LAB_ROUTER_IP"
compare "-s our address" -s "$LAB_CLIENT_IP" -c 1 "$LAB_ROUTER_IP"
compare "-s not ours" -s 198.18.0.9 -c 1 "$LAB_ROUTER_IP"
compare "-I c0, off-link target" -I c0 -c 1 "$LAB_PEER_IP"
compare "-A on our own address without -I" -A -c 1 "$LAB_CLIENT_IP"
compare "-I missing" -I nope0 -c 1 "$LAB_ROUTER_IP"
compare "-c 0" -c 0 "$LAB_ROUTER_IP"
compare "unknown host" -c 1 'bad_name!'

# Frames on the far side: tcpdump in the router, tshark reading the
# fields that matter.
capture() {
  local out=$1
  shift
  # ip netns exec execs tcpdump: $! is tcpdump itself.
  ip netns exec "$LAB_ROUTER" tcpdump -i r0 -U -n -w "$tmp/cap.pcap" \
    "ether src $LAB_CLIENT_MAC and arp" 2>/dev/null &
  local pid=$!
  sleep 0.7
  lab_in client "$@" >/dev/null 2>&1
  sleep 0.3
  kill -INT "$pid"
  wait "$pid"
  tshark -r "$tmp/cap.pcap" -T fields -e eth.dst -e arp.opcode -e arp.src.hw_mac \
    -e arp.src.proto_ipv4 -e arp.dst.hw_mac -e arp.dst.proto_ipv4 >"$out" 2>/dev/null
}
frames() {
  local name=$1
  shift
  capture "$tmp/fa" "$iputils" "$@"
  capture "$tmp/fb" "$ersatz" arping "$@"
  if [ ! -s "$tmp/fa" ]; then
    bad "$name: iputils' frames were not captured"
  elif ! diff -u "$tmp/fa" "$tmp/fb" >"$tmp/diff"; then
    bad "$name: frames differ from iputils'"
    cat "$tmp/diff"
  else
    ok "$name: $(wc -l <"$tmp/fa") frames as iputils builds them"
  fi
}
frames "-U" -U -I c0 -c 2 "$LAB_CLIENT_IP"
frames "-A" -A -I c0 -c 2 "$LAB_CLIENT_IP"
frames "-D" -D -c 1 "$LAB_NOBODY_IP"
frames "probe, then unicast" -c 2 "$LAB_ROUTER_IP"

# The true time: iputils adds 0.5 ms to every reply; ersatz's reply times
# on the lab's veth stay well under that.
lab_in client "$ersatz" arping -c 3 -i 0.2 "$LAB_ROUTER_IP" >"$tmp/times" 2>&1
if awk '/ms$/ { t = $NF; sub(/ms/, "", t); if (t + 0 >= 0.5) bad = 1; n++ } END { exit !(n == 3 && !bad) }' "$tmp/times"; then
  ok "-i 0.2: three replies, each under 0.5 ms"
else
  bad "-i 0.2 times"
  cat "$tmp/times"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
