#!/usr/bin/env bash
# bench/mixed_bench.sh: the figures for mixed IPv4/IPv6/TCP/UDP traffic.
#
#   bench/mixed_bench.sh
#
# 1. builds the release preset (ersatz and decode_bench);
# 2. writes bench/make_mixed_pcap.py's capture (300 000 frames, 226 MB) into
#    build/bench-data/ (reused when there);
# 3. decode_bench's mixed rows: full validation (every length, option
#    framing and checksum, IPv6 extension headers walked) against libtins;
# 4. hyperfine: `ersatz dump -r`, `tcpdump -nn -r`, `ersatz dump --json -r`,
#    TZ=UTC, output to /dev/null.
# Figures, not a test: exits 0 whatever the numbers. Knobs:
#   ERSATZ_BENCH_FRAMES (300000), ERSATZ_BENCH_RUNS (7).
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 0
FRAMES=${ERSATZ_BENCH_FRAMES:-300000}
RUNS=${ERSATZ_BENCH_RUNS:-7}
give_up() { printf 'bench/mixed_bench.sh: %s; no figures this time\n' "$*" >&2; exit 0; }

cmake --preset release >/dev/null || give_up "cmake --preset release failed"
cmake --build --preset release --target ersatz_cli decode_bench || give_up "the build failed"
mkdir -p build/bench-data build/release/bench-results
PCAP=build/bench-data/mixed-$FRAMES.pcap
[[ -s $PCAP ]] || /usr/bin/python3 bench/make_mixed_pcap.py "$PCAP" --frames "$FRAMES" ||
  give_up "make_mixed_pcap.py failed"

build/release/bench/decode_bench --benchmark_filter=mixed --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true \
  --benchmark_out=build/release/bench-results/mixed_decode.json "$PCAP"

command -v hyperfine >/dev/null || give_up "hyperfine missing"
TZ=UTC hyperfine -N -w 1 -r "$RUNS" --output=null \
  --export-json build/release/bench-results/mixed_dump.json \
  "build/release/ersatz dump -r $PCAP" "tcpdump -nn -r $PCAP" \
  "build/release/ersatz dump --json -r $PCAP"
/usr/bin/python3 - <<'PY'
import json
d = json.load(open("build/release/bench-results/mixed_dump.json"))["results"]
e, t = d[0], d[1]
print("dump -r / tcpdump -nn -r, wall (median): %.2fx; CPU: %.2fx" % (
    e["median"] / t["median"], (e["user"] + e["system"]) / (t["user"] + t["system"])))
PY
exit 0
