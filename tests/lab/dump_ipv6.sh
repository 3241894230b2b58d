#!/usr/bin/env bash
# Lab: the kernel's own IPv6 chatter, decoded by `ersatz dump -i` as
# `tcpdump -nn -i` prints it.
#
#   ns A: a0 (IPv6 off, then on) <--veth--> ns B: b0 (IPv6 off)
#
# tcpdump and ersatz capture a0 side by side; then IPv6 is switched on for
# a0, and the kernel sends what a host sends when an interface gets IPv6:
# MLDv2 reports for its solicited-node group (behind a hop-by-hop router
# alert), duplicate address detection (a neighbor solicitation from ::),
# and router solicitations. Both lines must be identical (they are
# compared after the timestamp: frames the kernel sends are stamped per
# socket, microseconds apart), with and without -e, and each of the three
# kinds must be there; then with a filter (icmp6) run in the kernel.
#
# Only link-local addresses, only inside the namespaces made here, which are
# deleted on exit. Needs root; skips (77) otherwise.
# Usage: dump_ipv6.sh ERSATZ
set -u
ersatz=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
for tool in ip tcpdump timeout pgrep sysctl; do
  command -v "$tool" >/dev/null || { echo "SKIP: missing $tool"; exit 77; }
done
export TZ=UTC

suffix="$$-$RANDOM"
NS_A="ez-six-a-$suffix"
NS_B="ez-six-b-$suffix"
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

# start NAME CMD...: CMD in the background under a watchdog; its PID in
# pid_NAME once it printed "listening on".
start() {
  local name=$1
  shift
  : >"$tmp/$name.out"
  : >"$tmp/$name.err"
  timeout -s KILL 60 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local w=$!
  bg_pids+=("$w")
  printf -v "watch_$name" %s "$w"
  wait_for "$tmp/$name.err" "listening on" || return 1
  printf -v "pid_$name" %s "$(pgrep -P "$w")"
}
finish() {
  local name=$1 w p
  w=$(eval echo "\$watch_$name")
  p=$(eval echo "\$pid_$name")
  kill -INT "$p" 2>/dev/null
  wait "$w"
}

# ------------------------------------------------------------------ lab
for ns in "$NS_A" "$NS_B"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
# B stays quiet (IPv6 off), so that only a0's chatter is captured, all of
# it after both captures have started.
in_ns "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
in_ns "$NS_B" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS_A" link add a0 address 02:e5:00:00:06:0a type veth peer name b0 netns "$NS_B" \
  address 02:e5:00:00:06:0b
# a0 starts without IPv6, so that its chatter begins after the captures do.
in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.router_solicitation_interval=1
in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.router_solicitation_delay=0
ip -n "$NS_A" link set a0 up
ip -n "$NS_B" link set b0 up

for flags in "" "-e"; do
  what="dump -i ${flags:-(no flags)}"
  start td ip netns exec "$NS_A" tcpdump -nn -l $flags -i a0 || { fails=$((fails + 1)); continue; }
  start ez ip netns exec "$NS_A" "$ersatz" dump -i a0 $flags || { fails=$((fails + 1)); continue; }
  in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.disable_ipv6=0
  # DAD takes a second; router solicitations follow, one a second.
  sleep 3.5
  finish td
  finish ez
  in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
  sleep 0.3
  echo "--- tcpdump ($what)"
  cat "$tmp/td.out"
  check "$what: the kernel's MLDv2 report" grep -q "multicast listener report v2" "$tmp/td.out"
  check "$what: duplicate address detection" grep -q ":: > ff02::1:ff.*neighbor solicitation" "$tmp/td.out"
  check "$what: a router solicitation" grep -q "router solicitation" "$tmp/td.out"
  # Outgoing frames the kernel had not stamped get a stamp per socket, a
  # few microseconds apart, so lines are compared after the time.
  strip() { grep -v '^$' "$1" | cut -d' ' -f2-; }
  if diff -u <(strip "$tmp/td.out") <(strip "$tmp/ez.out"); then
    echo "ok   $what: $(wc -l <"$tmp/td.out") lines as tcpdump -nn prints them"
  else
    echo "FAIL $what differs from tcpdump"
    fails=$((fails + 1))
  fi
done

# A filter, live: libpcap's `icmp6` is next header 58 right after the
# fixed header, so it takes DAD and the router solicitations but not the
# MLDv2 reports behind their hop-by-hop header; the kernel runs it for both.
what="dump -i icmp6"
start td ip netns exec "$NS_A" tcpdump -nn -l -i a0 icmp6 || fails=$((fails + 1))
start ez ip netns exec "$NS_A" "$ersatz" dump -i a0 icmp6 || fails=$((fails + 1))
in_ns "$NS_A" sysctl -qw net.ipv6.conf.a0.disable_ipv6=0
sleep 3.5
finish td
finish ez
check "$what: DAD and router solicitations pass" grep -q "router solicitation" "$tmp/ez.out"
check "$what: MLDv2 reports do not" bash -c "! grep -q 'multicast listener' '$tmp/ez.out'"
strip() { grep -v '^$' "$1" | cut -d' ' -f2-; }
if diff -u <(strip "$tmp/td.out") <(strip "$tmp/ez.out"); then
  echo "ok   $what: the same $(grep -c . "$tmp/td.out") frames as tcpdump"
else
  echo "FAIL $what differs from tcpdump"
  fails=$((fails + 1))
fi

echo "dump_ipv6: $fails failed"
[ "$fails" -eq 0 ]
