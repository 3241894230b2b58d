#!/usr/bin/env bash
# Lab oracle: capture fresh traffic from the Linux kernel in a throwaway
# netns lab (ARP, ping on-link and routed, TTL expiry, unreachable and
# prohibit routes, frag-needed, fragments, record route, 802.1Q), then
# check that `ersatz dump -r` prints what `tcpdump -nn -r` prints, with and
# without -e. Needs root (network namespaces); skips otherwise.
# Usage: kernel_vs_tcpdump.sh ERSATZ_BINARY
set -euo pipefail
ersatz=$1
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC
"$here/capture_sample.sh" "$tmp/live.pcap" >"$tmp/capture.log" 2>&1 || {
  cat "$tmp/capture.log"
  exit 1
}
frames=$(tcpdump -nn -r "$tmp/live.pcap" 2>/dev/null | wc -l)
echo "captured $frames frames"
[ "$frames" -ge 25 ] || { echo "FAIL: too few frames captured"; exit 1; }
status=0
for flags in "" "-e"; do
  tcpdump -nn $flags -r "$tmp/live.pcap" >"$tmp/tcpdump.txt" 2>/dev/null
  "$ersatz" dump $flags -r "$tmp/live.pcap" >"$tmp/ersatz.txt" 2>/dev/null
  if diff -u "$tmp/tcpdump.txt" "$tmp/ersatz.txt"; then
    echo "ok   dump ${flags:-(no flags)} matches tcpdump -nn ${flags} on $frames live frames"
  else
    echo "FAIL dump ${flags} differs from tcpdump"
    status=1
  fi
done
exit $status
