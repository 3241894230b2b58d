#!/usr/bin/env bash
# The demo: builds the release binary and decodes a capture of real kernel
# traffic (ARP, ping on-link and through a router, TTL expiry,
# unreachables, fragmentation, IP options, an 802.1Q VLAN).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ersatz_cli
ersatz=build/release/ersatz
sample=tests/data/sample.pcap

run() {
  printf '\n$ %s\n' "$*"
  "$@"
}
run "$ersatz" dump -r "$sample"
run "$ersatz" dump -e -c 4 -r "$sample"
printf '\n$ %s\n' "$ersatz dump --json -r $sample | sed -n 10p"
"$ersatz" dump --json -r "$sample" 2>/dev/null | sed -n 10p
