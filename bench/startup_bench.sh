#!/usr/bin/env bash
# Start-up benchmark: how long a short run of ersatz takes, against the
# tools it stands beside, in one hyperfine run. A figure, not a test: it
# exits 0 whatever the numbers are.
#
#   bench/startup_bench.sh [ERSATZ]
#
# ERSATZ defaults to build/release/ersatz (the release preset is built when
# it is missing). Timed, each as its own process with no shell in between
# (hyperfine -N), output to /dev/null, TZ=UTC for all:
#   ersatz --version
#   ersatz dump -r tests/data/sample.pcap   (33 frames: a short run)
#   ping -V                                 (iputils: the goal)
#   traceroute -V
#   tcpdump -nn -r tests/data/sample.pcap   (what dump -r stands in for)
# and, for each binary, the shared libraries the loader maps at start
# (ldd). Knobs: ERSATZ_BENCH_RUNS (1000), ERSATZ_BENCH_WARMUP (100).
# Raw hyperfine JSON goes to build/release/bench-results/startup.json.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ERSATZ=${1:-$ROOT/build/release/ersatz}
RUNS=${ERSATZ_BENCH_RUNS:-1000}
WARMUP=${ERSATZ_BENCH_WARMUP:-100}
SAMPLE=$ROOT/tests/data/sample.pcap
RESULTS=$ROOT/build/release/bench-results
PY=/usr/bin/python3

give_up() {
  printf 'startup_bench: %s; no figures this time\n' "$*" >&2
  exit 0
}

if [[ ! -x $ERSATZ ]]; then
  echo "== building the release preset's ersatz"
  (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target ersatz_cli) ||
    give_up "the release build failed"
fi
command -v hyperfine >/dev/null || give_up "hyperfine is not installed (apt install hyperfine)"
mkdir -p "$RESULTS"
export TZ=UTC

names=()
cmds=()
add() {  # add NAME COMMAND: only when the command's program exists
  if command -v "${2%% *}" >/dev/null; then
    names+=("$1")
    cmds+=("$2")
  else
    echo "(${2%% *} is not installed: no '$1' row)"
  fi
}
add "ersatz --version" "$ERSATZ --version"
add "ersatz dump -r sample.pcap" "$ERSATZ dump -r $SAMPLE"
add "ping -V" "ping -V"
add "traceroute -V" "traceroute -V"
add "tcpdump -nn -r sample.pcap" "tcpdump -nn -r $SAMPLE"

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== hyperfine -N, warmup $WARMUP, runs $RUNS"
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
  --export-json "$RESULTS/startup.json" "${args[@]}" >/dev/null 2>&1 ||
  give_up "hyperfine failed"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

libs=()
for c in "${cmds[@]}"; do
  bin=$(command -v "${c%% *}")
  # Every object the loader maps at start: the libraries, ld.so itself,
  # not the kernel's vDSO.
  libs+=("$(ldd "$bin" 2>/dev/null | grep -vc 'linux-vdso')")
done

"$PY" - "$RESULTS/startup.json" "$LOAD_BEFORE" "$LOAD_AFTER" "${libs[@]}" <<'EOF'
import json, sys
path, load_before, load_after, *libs = sys.argv[1:]
results = json.load(open(path))["results"]
ms = lambda s: f"{s * 1000:.2f}"
anchor = next((r for r in results if r["command"] == "ping -V"), None)
print(f"load average (1, 5, 15 min) before / after: {load_before} / {load_after}")
print(f"{'command':30} {'median ms':>10} {'mean ms':>8} {'min ms':>7} {'user+sys':>9} "
      f"{'vs ping -V':>10} {'libs':>5}")
for r, n in zip(results, libs):
    ratio = f"{r['median'] / anchor['median']:.2f}x" if anchor else "-"
    print(f"{r['command']:30} {ms(r['median']):>10} {ms(r['mean']):>8} {ms(r['min']):>7} "
          f"{ms(r['user'] + r['system']):>9} {ratio:>10} {n:>5}")
EOF
echo "(machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r))"
