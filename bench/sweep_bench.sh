#!/usr/bin/env bash
# sweep benchmark: ersatz sweep against zmap and fping on a whole /16, in
# one netns lab, in one run. A figure, not a test: it never fails on a time.
#
#   bench/sweep_bench.sh [ERSATZ] [RUNS]
#
# ERSATZ defaults to build/release/ersatz (built if missing), RUNS to 3.
# The target is 198.19.0.0/16, the AnyIP range the lab's router answers for
# (tests/lab/lab.sh): every address replies, so "found" should be all of
# them. From the client namespace, in alternation, RUNS times each:
#
#   zmap -c 1     zmap 2.1 icmp_echoscan, 1 s cooldown after the last probe
#   zmap -c 0     the same without a cooldown (it misses the late replies)
#   fping         fping -i 0 -r 0 -g 198.19.0.0/16 -a -q
#   ersatz        ersatz sweep -g 198.19.0.0/16 -a
#   ersatz /24    ersatz sweep -g 198.19.0.0/24 -a (for its RSS only)
#
# Each process is timed with the monotonic clock around it (wall) and GNU
# time (maximum RSS). found = distinct addresses of the /16 printed on
# stdout. zmap probes all 65536 addresses of its allowlist, fping and
# ersatz the 65534 hosts of the /16 (-g leaves out .0.0 and .255.255), so
# zmap's count is also given for those 65534. The ersatz rows print n/a
# while the binary has no `sweep`.
#
# Safety: zmap sends from the client namespace (-i c0, whose only other
# link is lo) to the router's MAC, with its own empty blocklist (the
# system's /etc/zmap/blacklist.conf excludes 198.18.0.0/15) and an
# allowlist of exactly 198.19.0.0/16; before the first scan a dry run with
# the same options must show only such frames. Namespaces are created here
# and deleted on exit.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ersatz=${1:-$here/build/release/ersatz}
runs=${2:-3}
prefix=198.19.0.0/16
small=198.19.0.0/24
hosts=65534
zmap_rate=${ERSATZ_BENCH_ZMAP_RATE:-1000000}

die() { echo "sweep_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for tool in zmap fping /usr/bin/time; do
  command -v "$tool" >/dev/null || die "needs $tool (scripts/install-deps.sh)"
done
if [ ! -x "$ersatz" ]; then
  cmake --preset release -S "$here" >/dev/null || die "cannot configure the release preset"
  cmake --build "$here/build/release" --target ersatz_cli -j"$(nproc)" >/dev/null || die "cannot build ersatz"
fi
ersatz=$(readlink -f "$ersatz")

# shellcheck source-path=SCRIPTDIR source=../tests/lab/lab.sh
. "$here/tests/lab/lab.sh"
lab_up >/dev/null
out=$(mktemp -d)
# ERSATZ_BENCH_KEEP=DIR keeps every output (NAME.RUN.{out,err,rss,found}).
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ -n "${ERSATZ_BENCH_KEEP:-}" ]; then mkdir -p "$ERSATZ_BENCH_KEEP" && cp -r "$out"/. "$ERSATZ_BENCH_KEEP"/; fi
  lab_down
  rm -rf "$out"
}
trap cleanup EXIT

# sweep exists when `ersatz sweep --help` succeeds and talks about sweep
# (before it exists, CLI11 answers `sweep --help` with the top-level help).
have_sweep=0
if help=$("$ersatz" sweep --help 2>&1) && grep -q 'sweep' <<<"$help"; then
  have_sweep=1
fi

: >"$out/blocklist"
echo "$prefix" >"$out/allowlist"
zmap_args=(-M icmp_echoscan -i c0 -S "$LAB_CLIENT_IP" -G "$LAB_ROUTER_MAC"
  -b "$out/blocklist" -w "$out/allowlist" -r "$zmap_rate" --disable-syslog -q -v 1)

# The client has no way out of the lab but c0, and zmap sends only what it
# should: 2000 frames of a dry run, every one from the client to the router
# for an address of the /16.
links=$(lab_in client ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' ')
[ "$links" = "c0 lo " ] || die "the client namespace has links '$links', want 'c0 lo'"
lab_in client zmap "${zmap_args[@]}" -d -n 2000 >"$out/dryrun" 2>"$out/dryrun.err" || die "zmap dry run failed: $(tail -n 3 "$out/dryrun.err")"
bad_frames=$(awk -v src="$LAB_CLIENT_IP" -v smac="$LAB_CLIENT_MAC" -v dmac="$LAB_ROUTER_MAC" '
  /^ip / { n++; if ($0 !~ "saddr: " src " " || $0 !~ /daddr: 198\.19\.[0-9]+\.[0-9]+ /) bad++ }
  /^eth / { if ($0 !~ "shost: " smac " " || $0 !~ "dhost: " dmac " ") bad++ }
  END { if (n != 2000) bad++; print bad + 0 }' "$out/dryrun")
[ "$bad_frames" -eq 0 ] || die "zmap's dry run shows frames that do not belong to the lab ($out/dryrun)"

now_ns() { date +%s%N; }

# measure NAME CMD...: runs CMD in the client; prints "wall_ms rss_kib found found_hosts exit".
measure() {
  local name=$1 t0 t1 rc
  shift
  t0=$(now_ns)
  lab_in client /usr/bin/time -f '%M' -o "$out/$name.rss" "$@" </dev/null >"$out/$name.out" 2>"$out/$name.err"
  rc=$?
  t1=$(now_ns)
  grep -E '^198\.19\.[0-9]+\.[0-9]+$' "$out/$name.out" | sort -u >"$out/$name.found"
  local found found_hosts
  found=$(wc -l <"$out/$name.found")
  found_hosts=$(grep -cvE '^198\.19\.(0\.0|255\.255)$' "$out/$name.found")
  echo "$(((t1 - t0) / 1000000)) $(tail -n 1 "$out/$name.rss") $found $found_hosts $rc"
}

# median VALUES...
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'; }

tools=(zmap_c1 zmap_c0 fping)
[ "$have_sweep" -eq 0 ] || tools+=(ersatz ersatz_24)
run_tool() {
  case $1 in
    zmap_c1) measure "$1.$2" zmap "${zmap_args[@]}" -c 1 ;;
    zmap_c0) measure "$1.$2" zmap "${zmap_args[@]}" -c 0 ;;
    fping) measure "$1.$2" fping -i 0 -r 0 -g "$prefix" -a -q ;;
    ersatz) measure "$1.$2" "$ersatz" sweep -g "$prefix" -a ;;
    ersatz_24) measure "$1.$2" "$ersatz" sweep -g "$small" -a ;;
  esac
}

# Warm up: neighbour entries, page cache, the router's AnyIP route.
lab_in client fping -q -g "$small" >/dev/null 2>&1
[ "$have_sweep" -eq 0 ] || lab_in client "$ersatz" sweep -q -g "$small" >/dev/null 2>&1

echo "sweep_bench: $prefix from the client namespace, $runs runs each, alternating; zmap at -r $zmap_rate"
printf '%-4s %-10s %9s %10s %7s %12s %5s\n' run tool "wall ms" "maxrss KiB" found "of $hosts" exit
for run in $(seq 1 "$runs"); do
  for t in "${tools[@]}"; do
    read -r ms rss found found_hosts rc < <(run_tool "$t" "$run")
    echo "$ms $rss $found $found_hosts $rc" >"$out/$t.$run.row"
    printf '%-4s %-10s %9s %10s %7s %12s %5s\n' "$run" "$t" "$ms" "$rss" "$found" "$found_hosts" "$rc"
  done
  [ "$have_sweep" -eq 1 ] || printf '%-4s %-10s %9s %10s %7s %12s %5s\n' "$run" ersatz n/a n/a n/a n/a n/a
done

# col TOOL N: column N of TOOL's rows, one per run.
col() { local r; for r in $(seq 1 "$runs"); do cut -d' ' -f"$2" "$out/$1.$r.row"; done; }
med_col() { local v; mapfile -t v < <(col "$1" "$2"); median "${v[@]}"; }
declare -A wall rss found
echo
printf '%-10s %15s %17s %20s\n' tool "wall ms (med)" "maxrss KiB (med)" "found of $hosts"
for t in zmap_c1 zmap_c0 fping ersatz ersatz_24; do
  if [[ " ${tools[*]} " == *" $t "* ]]; then
    wall[$t]=$(med_col "$t" 1)
    rss[$t]=$(med_col "$t" 2)
    found[$t]="$(col "$t" 4 | sort -n | head -n 1)..$(col "$t" 4 | sort -n | tail -n 1)"
  else
    wall[$t]=n/a rss[$t]=n/a found[$t]=n/a
  fi
  printf '%-10s %15s %17s %20s\n' "$t" "${wall[$t]}" "${rss[$t]}" "${found[$t]}"
done

echo
if [ "$have_sweep" -eq 1 ]; then
  awk -v e="${wall[ersatz]}" -v z="${wall[zmap_c1]}" -v f="${wall[fping]}" 'BEGIN {
    printf "ersatz / zmap -c 1 wall time: %.2f (goal <= 0.5)\n", e / z
    printf "ersatz / fping wall time:     %.2f (goal <= 0.5)\n", e / f }'
  echo "ersatz found: ${found[ersatz]} of $hosts (goal: all $hosts)"
  echo "ersatz max RSS, /16 minus /24: $((rss[ersatz] - rss[ersatz_24])) KiB"
else
  echo "ersatz / zmap -c 1 wall time: n/a ($ersatz has no sweep yet)"
  echo "ersatz / fping wall time:     n/a"
  echo "ersatz found: n/a; ersatz max RSS, /16 minus /24: n/a"
fi
exit 0
