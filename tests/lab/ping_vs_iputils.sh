#!/usr/bin/env bash
# Lab: `ersatz ping` against iputils ping, side by side on the same lab
# targets. Outputs must agree line for line once times are normalised, and
# exit codes must match. Needs root (network namespaces); skips otherwise.
# Usage: ping_vs_iputils.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lab.sh"
lab_up
tmp=$(mktemp -d)
trap 'lab_down; rm -rf "$tmp"' EXIT

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# Times differ from run to run; everything else must not. -f's dots are
# compared as a terminal shows them: iputils writes ".", then "\b \b" (or
# "\bE") per answer; ersatz writes only what is left once they cancel.
normalise() {
  perl -ne 'my $o = "";
    while (/\G(\x08 \x08|\x08E|.|\n)/gs) {
      if ($1 eq "\x08 \x08") { chop $o } elsif ($1 eq "\x08E") { chop $o; $o .= "E" } else { $o .= $1 }
    }
    print $o' |
  sed -E -e 's/time=[0-9.]+ ms/time=T ms/' \
    -e 's/time [0-9]+ms/time Tms/' \
    -e 's#rtt min/avg/max/mdev = [0-9./]+ ms#rtt min/avg/max/mdev = T ms#' \
    -e 's#ipg/ewma [0-9./]+ ms#ipg/ewma T ms#' \
    -e 's/^\[[0-9.]+\] /[T] /'
}

# The router rate-limits the ICMP errors it sends (icmp_ratelimit, 1 s per
# destination), so runs that expect an error start with a full allowance.
settle=0

# compare NAME ARGS...: runs both pings in the client namespace.
compare() {
  local name=$1
  shift
  [ "$settle" -eq 0 ] || sleep 1.1
  lab_in client ping "$@" >"$tmp/iputils.out" 2>&1
  local want=$?
  [ "$settle" -eq 0 ] || sleep 1.1
  lab_in client "$ersatz" ping "$@" >"$tmp/ersatz.out" 2>&1
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

compare "on-link reply" -c 3 -i 0.2 "$LAB_ROUTER_IP"
compare "through the router (ttl 63)" -c 2 -i 0.2 "$LAB_PEER_IP"
compare "AnyIP range" -c 2 -i 0.2 198.19.7.7
settle=1
compare "-t 1: time to live exceeded" -c 1 -t 1 "$LAB_PEER_IP"
compare "unreachable route" -c 1 "$LAB_UNREACHABLE_IP"
compare "prohibit route" -c 1 "$LAB_PROHIBIT_IP"
compare "-s 1400 -M do across the MTU-1280 link" -c 1 -s 1400 -M do "$LAB_PEER_IP"
settle=0
compare "on-link host that does not exist" -c 5 -i 0.5 "$LAB_NOBODY_IP"
compare "-s 1500 -M do: local error" -c 2 -i 0.2 -s 1500 -M do "$LAB_ROUTER_IP"
compare "-s 3000: fragments both ways" -c 2 -i 0.2 -s 3000 "$LAB_PEER_IP"
compare "-s 8: no room for a time" -c 1 -s 8 "$LAB_ROUTER_IP"
compare "-p pattern" -c 1 -p ff00 "$LAB_ROUTER_IP"
compare "-q" -c 3 -i 0.2 -q "$LAB_ROUTER_IP"
compare "-D timestamps" -c 2 -i 0.2 -D "$LAB_ROUTER_IP"
compare "-w 1 deadline" -w 1 -i 0.3 "$LAB_ROUTER_IP"
compare "-f -c 1000" -f -c 1000 "$LAB_ROUTER_IP"
compare "-f -q -c 1000: no dots" -f -q -c 1000 "$LAB_ROUTER_IP"

# Through libpcap, whose send returns after the kernel has stamped the reply
# on a veth: each round trip still counts from before the send, as iputils'
# does (they all read 0.000 when it counted from after).
lab_in client "$ersatz" ping --backend pcap -c 3 -i 0.2 "$LAB_PEER_IP" >"$tmp/pcap.out" 2>&1
rc=$?
times=$(sed -nE 's/.* time=([0-9.]+) ms$/\1/p' "$tmp/pcap.out")
if [ $rc -eq 0 ] && [ "$(grep -c . <<<"$times")" -eq 3 ] && ! grep -qx '0\.000' <<<"$times"; then
  ok "--backend pcap: 3 replies, every round trip above 0 ($(echo $times))"
else
  bad "--backend pcap: exit $rc, times: $(echo $times)"
  cat "$tmp/pcap.out"
fi

# 20% random loss of echo requests in the router: the loss ersatz reports
# must equal what a capture at the peer counts.
lab_nft add table inet lab
lab_nft add chain inet lab filter_fwd '{ type filter hook forward priority 0; }'
lab_nft add rule inet lab filter_fwd icmp type echo-request numgen random mod 5 == 0 drop
lab_in peer timeout 30 tcpdump -nn -i p0 -w "$tmp/peer.pcap" icmp 2>/dev/null &
dump=$!
sleep 1
lab_in client "$ersatz" ping -c 100 -i 0.01 -W 1 -q "$LAB_PEER_IP" >"$tmp/loss.out" 2>&1
sleep 0.5
kill -INT "$dump" 2>/dev/null
wait "$dump" 2>/dev/null
arrived=$(tcpdump -nn -r "$tmp/peer.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null | wc -l)
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' "$tmp/loss.out")
if [ -n "$received" ] && [ "$received" -eq "$arrived" ] && [ "$arrived" -lt 100 ] && [ "$arrived" -gt 50 ]; then
  ok "20% loss: ersatz counts $received replies, the peer saw $arrived requests"
else
  bad "20% loss: ersatz received=${received:-?}, peer saw $arrived requests"
  cat "$tmp/loss.out"
fi
lab_nft delete table inet lab

echo "ping_vs_iputils: $fails failed"
exit $((fails > 0))
