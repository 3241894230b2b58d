#!/usr/bin/env bash
# The demo: ersatz's main job in a throwaway network-namespace lab.
#
#   client 198.18.0.1 --- router 198.18.0.254 | 198.18.1.254 --- peer 198.18.1.2
#
# Inside the client namespace it lists the interfaces and routes ersatz
# discovers, then pings on-link and through the router with ersatz's own
# Ethernet, ARP, IPv4 and ICMP (the kernel only hands over raw frames),
# sweeps as fping does (and a whole /16 at once), traces the route as
# traceroute does, and finally decodes a capture as tcpdump would. Everything stays inside
# 198.18.0.0/15 and the lab is torn down on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ersatz_cli
ersatz=$(pwd)/build/release/ersatz

source tests/lab/lab.sh
lab_up

run() {
  printf '\n\033[1m$ %s\033[0m\n' "$*"
  "$@"
}
in_client() { run ip netns exec "$LAB_CLIENT" "$@"; }

in_client "$ersatz" interfaces
in_client "$ersatz" route
in_client "$ersatz" route "$LAB_PEER_IP"
in_client "$ersatz" ping -c 3 "$LAB_ROUTER_IP"
in_client "$ersatz" ping -c 3 "$LAB_PEER_IP"
in_client "$ersatz" ping -c 1 -t 1 "$LAB_PEER_IP" || true
# traceroute's lines: the router, then the peer; then !H for an address
# the router has an `unreachable` route to. Before the sweeps: the router
# sends its ICMP errors to one source from a bucket of 6, refilled one a
# second (time exceeded and a route's errors alike), and the sweep's
# errors would empty it.
in_client "$ersatz" traceroute -n "$LAB_PEER_IP"
in_client "$ersatz" traceroute -n -q 1 -m 3 "$LAB_UNREACHABLE_IP" || true
# fping's lines for a mix of live, routed-unreachable and silent targets,
# then a whole /16 behind the router (AnyIP) with the statistics.
in_client "$ersatz" sweep -e -r 1 "$LAB_ROUTER_IP" "$LAB_PEER_IP" 198.19.0.5 "$LAB_UNREACHABLE_IP" \
  "$LAB_NOBODY_IP" || true
in_client "$ersatz" sweep -q -s -g 198.19.0.0/16
run "$ersatz" dump -c 12 -r tests/data/sample.pcap
