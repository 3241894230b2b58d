#!/usr/bin/env bash
# How fast the lab's attacker can put frames on a link: hostile_inject
# (ersatz's own wire and link layers) against scapy's sendp, the other
# choice issue 12 names, on the same veth of a throwaway lab. Both send
# first fragments of echo requests from distinct sources (the exhaustion
# mix). Prints frames per second for each, and the ratio.
# Usage: bench/inject_rate.sh ERSATZ_BUILD_DIR [FRAMES]   (as root)
set -uo pipefail
build=$(readlink -f "${1:-build/release}")
frames=${2:-100000}
inject=$build/tests/hostile_inject
[ -x "$inject" ] || { echo "no $inject: build the hostile_inject target"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/lab/lab.sh
source "$here/../tests/lab/lab.sh"
lab_up

ours=$(ip netns exec "$LAB_ROUTER" "$inject" --iface r0 --victim-mac "$LAB_CLIENT_MAC" \
  --victim-ip "$LAB_CLIENT_IP" --gateway-ip "$LAB_ROUTER_IP" --mix frag-starts --count "$frames" --rate 0 |
  awk '/^sent/ { n = $2 } /^seconds/ { s = $2 } END { printf "%.0f", n / s }')
scapy_frames=$((frames / 10))
theirs=$(ip netns exec "$LAB_ROUTER" /usr/bin/python3 - "$scapy_frames" "$LAB_CLIENT_MAC" "$LAB_CLIENT_IP" <<'PY'
import sys, time
from scapy.all import Ether, IP, ICMP, Raw, sendp, conf
conf.verb = 0
n, mac, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = 0xC6124000
frames = [Ether(dst=mac, src="02:e5:66:66:66:66") /
          IP(src="%d.%d.%d.%d" % ((base + i) >> 24, ((base + i) >> 16) & 255, ((base + i) >> 8) & 255, (base + i) & 255),
             dst=dst, id=i & 0xffff, flags="MF", frag=0) / ICMP(id=i & 0xffff) / Raw(b"a" * 64)
          for i in range(n)]
t = time.monotonic()
sendp(frames, iface="r0")
print("%.0f" % (n / (time.monotonic() - t)))
PY
)
echo "hostile_inject: $ours frames/s ($frames frames)"
echo "scapy sendp:    $theirs frames/s ($scapy_frames frames, built before the clock starts)"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio: %.1fx\n", a / b }'
