#!/usr/bin/env bash
# A multi-hop netns lab for traceroute and path-MTU tests. Source it, then
# call paths_up; it tears itself down on exit, even when a test fails.
#
#   client 198.18.10.1 -- .254 r1 198.18.11.1 -- .254 r2 198.18.12.1 -- .254 r3 198.18.13.254 -- peer 198.18.13.2
#                                                  (silent)              MTU 1280 on the r3--peer link
#
# - r2 is silent: nft drops the ICMP time-exceeded it would send, so a
#   traceroute shows `*` at hop 2 (it still forwards);
# - r3 holds an `unreachable` route, 198.18.20.0/24 (ICMP host unreachable,
#   traceroute's !H), a `prohibit` route, 198.18.21.0/24 (ICMP
#   communication administratively prohibited, !X) and a `throw` route,
#   198.18.22.0/24 (ICMP net unreachable, !N);
# - the last link, r3--peer, has an MTU of 1280; the peer also answers
#   as 198.18.13.3 and .4;
# - r1 answers echo requests sent to 198.18.10.255 (ping -b);
# - icmp_ratemask is 0 in every namespace, so the kernel's per-source ICMP
#   rate limit never applies and back-to-back runs of two tools see the
#   same answers. (icmp_ratelimit=0 would not do: it zeroes the per-source
#   tokens on every message, and the errors of unreachable and prohibit
#   routes (ip_error, net.ipv4.route.error_cost/error_burst, global
#   sysctls left alone) spend the same tokens: a burst of 5, then 1 a
#   second. Tests give those routes 5 s between runs: PATHS_ERROR_REFILL.)
# Only 198.18.0.0/15 (RFC 2544) is used, and only inside these namespaces.
# Namespace names carry the PID and a random suffix, unique per run.

PATHS_ID="${PATHS_ID:-$$-$RANDOM}"
PATHS_CLIENT="ez-pc-$PATHS_ID"
PATHS_R1="ez-p1-$PATHS_ID"
PATHS_R2="ez-p2-$PATHS_ID"
PATHS_R3="ez-p3-$PATHS_ID"
PATHS_PEER="ez-pp-$PATHS_ID"
PATHS_NAMESPACES=("$PATHS_CLIENT" "$PATHS_R1" "$PATHS_R2" "$PATHS_R3" "$PATHS_PEER")

PATHS_CLIENT_IP=198.18.10.1
PATHS_R1_IP=198.18.10.254
PATHS_R2_IP=198.18.11.254
PATHS_R3_IP=198.18.12.254
PATHS_R3_FAR_IP=198.18.13.254
PATHS_PEER_IP=198.18.13.2
# More addresses of the peer: the kernel keeps a learned path MTU per
# destination for 10 minutes, so tests that learn one each take their own.
PATHS_PEER_IP2=198.18.13.3
PATHS_PEER_IP3=198.18.13.4
PATHS_UNREACHABLE_IP=198.18.20.1
PATHS_PROHIBIT_IP=198.18.21.1
PATHS_THROW_IP=198.18.22.1
PATHS_LAST_MTU=1280
PATHS_ERROR_REFILL=5

paths_down() {
  local ns
  for ns in "${PATHS_NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
}

# Runs a command in a lab namespace: paths_in client|r1|r2|r3|peer CMD...
paths_in() {
  local which=$1
  shift
  case $which in
    client) ip netns exec "$PATHS_CLIENT" "$@" ;;
    r1) ip netns exec "$PATHS_R1" "$@" ;;
    r2) ip netns exec "$PATHS_R2" "$@" ;;
    r3) ip netns exec "$PATHS_R3" "$@" ;;
    peer) ip netns exec "$PATHS_PEER" "$@" ;;
    *) echo "paths_in: unknown namespace $which" >&2; return 2 ;;
  esac
}

# _paths_link NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth made inside the
# namespaces, so nothing touches the host.
_paths_link() {
  ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$4" addr add "$6/24" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

paths_up() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the lab needs root for network namespaces"
    exit 77
  fi
  if ! command -v nft >/dev/null; then
    echo "SKIP: nft is not installed (scripts/install-deps.sh)"
    exit 77
  fi
  trap paths_down EXIT
  local ns
  for ns in "${PATHS_NAMESPACES[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratemask=0
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 2>/dev/null || true
  done
  _paths_link "$PATHS_CLIENT" c0 "$PATHS_CLIENT_IP" "$PATHS_R1" a0 "$PATHS_R1_IP"
  _paths_link "$PATHS_R1" a1 198.18.11.1 "$PATHS_R2" b0 "$PATHS_R2_IP"
  _paths_link "$PATHS_R2" b1 198.18.12.1 "$PATHS_R3" d0 "$PATHS_R3_IP"
  _paths_link "$PATHS_R3" d1 "$PATHS_R3_FAR_IP" "$PATHS_PEER" p0 "$PATHS_PEER_IP"
  ip -n "$PATHS_R3" link set d1 mtu "$PATHS_LAST_MTU"
  ip -n "$PATHS_PEER" link set p0 mtu "$PATHS_LAST_MTU"
  ip -n "$PATHS_PEER" addr add "$PATHS_PEER_IP2/24" dev p0
  ip -n "$PATHS_PEER" addr add "$PATHS_PEER_IP3/24" dev p0

  for ns in "$PATHS_R1" "$PATHS_R2" "$PATHS_R3"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  done
  # r1 answers pings to its link's broadcast address (ping -b).
  ip netns exec "$PATHS_R1" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
  # Everything beyond a hop goes forward; the way back goes to the client.
  ip -n "$PATHS_CLIENT" route add default via "$PATHS_R1_IP"
  ip -n "$PATHS_R1" route add default via "$PATHS_R2_IP"
  ip -n "$PATHS_R2" route add default via "$PATHS_R3_IP"
  ip -n "$PATHS_R2" route add 198.18.10.0/24 via 198.18.11.1
  ip -n "$PATHS_R3" route add 198.18.10.0/23 via 198.18.12.1
  ip -n "$PATHS_PEER" route add default via "$PATHS_R3_FAR_IP"

  ip -n "$PATHS_R3" route add unreachable 198.18.20.0/24
  ip -n "$PATHS_R3" route add prohibit 198.18.21.0/24
  ip -n "$PATHS_R3" route add throw 198.18.22.0/24

  # r2 forwards but never says "time exceeded".
  ip netns exec "$PATHS_R2" nft -f - <<'EOF'
table ip silent {
  chain out {
    type filter hook output priority 0; policy accept;
    icmp type time-exceeded drop
  }
}
EOF
}
