#!/usr/bin/env bash
# A reusable netns lab for ersatz's tests and demo. Source it, then call
# lab_up; it tears itself down on exit, even when a test fails.
#
#   client (198.18.0.1/24) --- router (198.18.0.254/24 | 198.18.1.254/24, MTU 1280) --- peer (198.18.1.2/24)
#
# - the router forwards (ip_forward=1) and owns an AnyIP range,
#   198.19.0.0/16 (ip route add local ... dev lo), so every address in it
#   answers ping;
# - `unreachable` 198.18.200.0/24 and `prohibit` 198.18.201.0/24 routes on
#   the router;
# - 198.18.0.77 is on the client's link and owned by nobody;
# - lab_nft ARGS runs nft in the router (loss, duplication).
# Only 198.18.0.0/15 (RFC 2544) is used, and only inside these namespaces.
# Namespace names carry the PID and a random suffix, unique per run.

LAB_ID="${LAB_ID:-$$-$RANDOM}"
LAB_CLIENT="ez-c-$LAB_ID"
LAB_ROUTER="ez-r-$LAB_ID"
LAB_PEER="ez-p-$LAB_ID"
LAB_CLIENT_IP=198.18.0.1
LAB_ROUTER_IP=198.18.0.254
LAB_ROUTER_FAR_IP=198.18.1.254
LAB_PEER_IP=198.18.1.2
LAB_NOBODY_IP=198.18.0.77
LAB_ANYIP=198.19.0.0/16
LAB_UNREACHABLE_IP=198.18.200.1
LAB_PROHIBIT_IP=198.18.201.1
LAB_CLIENT_MAC=02:e5:00:00:00:01
LAB_ROUTER_MAC=02:e5:00:00:00:fe

lab_down() {
  local ns
  for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_PEER"; do
    ip netns del "$ns" 2>/dev/null || true
  done
}

# Runs a command in a lab namespace: lab_in client|router|peer CMD...
lab_in() {
  local which=$1
  shift
  case $which in
    client) ip netns exec "$LAB_CLIENT" "$@" ;;
    router) ip netns exec "$LAB_ROUTER" "$@" ;;
    peer) ip netns exec "$LAB_PEER" "$@" ;;
    *) echo "lab_in: unknown namespace $which" >&2; return 2 ;;
  esac
}

lab_nft() { ip netns exec "$LAB_ROUTER" nft "$@"; }

# check DESCRIPTION CONDITION...: runs the condition, prints "ok" or "FAIL"
# with the description, and counts failures in $fails.
fails=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# lab_is_asan BINARY: true for an AddressSanitizer build, whose resident
# size (quarantine) and descriptors are not the program's own.
lab_is_asan() {
  readelf -d "$1" 2>/dev/null | grep -q 'libasan' || nm -C "$1" 2>/dev/null | grep -q '__asan_init'
}

lab_up() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the lab needs root for network namespaces"
    exit 77
  fi
  trap lab_down EXIT
  local ns
  for ns in "$LAB_CLIENT" "$LAB_ROUTER" "$LAB_PEER"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Keep IPv6 chatter out of captures.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  done
  # The veths are created inside the namespaces: nothing touches the host.
  ip -n "$LAB_CLIENT" link add c0 address "$LAB_CLIENT_MAC" type veth peer name r0 netns "$LAB_ROUTER" address "$LAB_ROUTER_MAC"
  ip -n "$LAB_ROUTER" link add r1 address 02:e5:00:00:01:fe type veth peer name p0 netns "$LAB_PEER" address 02:e5:00:00:01:02
  ip -n "$LAB_ROUTER" link set r1 mtu 1280
  ip -n "$LAB_PEER" link set p0 mtu 1280

  ip -n "$LAB_CLIENT" addr add "$LAB_CLIENT_IP/24" dev c0
  ip -n "$LAB_ROUTER" addr add "$LAB_ROUTER_IP/24" dev r0
  ip -n "$LAB_ROUTER" addr add "$LAB_ROUTER_FAR_IP/24" dev r1
  ip -n "$LAB_PEER" addr add "$LAB_PEER_IP/24" dev p0
  ip -n "$LAB_CLIENT" link set c0 up
  ip -n "$LAB_ROUTER" link set r0 up
  ip -n "$LAB_ROUTER" link set r1 up
  ip -n "$LAB_PEER" link set p0 up
  ip -n "$LAB_CLIENT" route add default via "$LAB_ROUTER_IP"
  ip -n "$LAB_PEER" route add default via "$LAB_ROUTER_FAR_IP"

  ip netns exec "$LAB_ROUTER" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$LAB_ROUTER" route add local "$LAB_ANYIP" dev lo
  ip -n "$LAB_ROUTER" route add unreachable 198.18.200.0/24
  ip -n "$LAB_ROUTER" route add prohibit 198.18.201.0/24
  # The client's replies to the AnyIP range and beyond go via the router.
  ip -n "$LAB_PEER" route add "$LAB_ANYIP" via "$LAB_ROUTER_FAR_IP" 2>/dev/null || true
}
