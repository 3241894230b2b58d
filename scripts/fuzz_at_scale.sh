#!/usr/bin/env bash
# Runs every libFuzzer target for a long, bounded run and prints one
# markdown table row per target (issue 12, item 4: >= 10M executions each).
# Too long for CI; the figures go in fuzz/README.md ("Runs at scale").
#
#   cmake --preset fuzz && cmake --build --preset fuzz --target fuzzers
#   scripts/fuzz_at_scale.sh                    # every target, 10M runs each
#   JOBS=2 scripts/fuzz_at_scale.sh fuzz_tcp fuzz_udp
#   RUNS=100000 scripts/fuzz_at_scale.sh        # a quick look at exec/s
#
# Each target runs over a scratch corpus directory first (libFuzzer writes
# what it finds into the first directory, so fuzz/corpus is not touched),
# then fuzz/corpus/<t> and fuzz/regressions/<t>. Bounded by -runs and, when
# MAX_TIME is set, by -max_total_time, so every run ends and prints its
# final statistics. Crash, leak, timeout and OOM inputs go to the results
# directory; each one is a finding to minimize and keep in
# fuzz/regressions/<t>/ (fuzz/README.md).
#
# Environment:
#   RUNS       executions per target (default 10000000)
#   JOBS       targets run in parallel (default 1)
#   MAX_TIME   seconds per target at most (default: no cap)
#   DEADLINE   a time (anything `date -d` reads) by which every run must
#              have ended: each target, as it starts, gets at most its share
#              of the time left (left x JOBS / targets not yet started)
#   OUT        results directory (default build/fuzz-scale/<UTC date-time>)
#   BIN        where the fuzzers are (default build/fuzz/fuzz)
#   KEEP_SCRATCH=1  keep the scratch corpora (e.g. to -merge=1 some back)
#   FUZZ_FLAGS extra libFuzzer flags, for every target (e.g.
#              -use_value_profile=1: more features, fewer executions a second)
# Arguments: the targets to run (default: every one in fuzz/CMakeLists.txt).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

runs=${RUNS:-10000000}
jobs=${JOBS:-1}
max_time=${MAX_TIME:-}
bin=${BIN:-build/fuzz/fuzz}
out=${OUT:-build/fuzz-scale/$(date -u +%Y%m%dT%H%M%SZ)}
extra=${FUZZ_FLAGS:-}

# The targets, as fuzz/CMakeLists.txt lists them (one per line in
# set(ERSATZ_FUZZ_TARGETS ...)).
all_targets() {
  sed -n '/^set(ERSATZ_FUZZ_TARGETS/,/)/p' fuzz/CMakeLists.txt |
    grep -oE 'fuzz_[A-Za-z0-9_]+'
}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(all_targets)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz_at_scale: no targets found in fuzz/CMakeLists.txt" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  if [ ! -x "$bin/$t" ]; then
    echo "fuzz_at_scale: $bin/$t missing: cmake --build --preset fuzz --target fuzzers" >&2
    exit 1
  fi
done

mkdir -p "$out"
scratch_root=$(mktemp -d "${TMPDIR:-/tmp}/ersatz-fuzz-scale.XXXXXX")
cleanup() {
  local pids
  pids=$(jobs -rp)
  # shellcheck disable=SC2086 # one pid per word
  [ -n "$pids" ] && kill $pids 2>/dev/null && wait
  if [ "${KEEP_SCRATCH:-0}" = 1 ]; then
    echo "fuzz_at_scale: scratch corpora kept in $scratch_root" >&2
  else
    rm -rf "$scratch_root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Last match of a "name: N" statistic in a log, or "?".
stat() { grep -oE "$1: [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+$' || echo '?'; }

run_one() {
  local t=$1
  local max_time=$2
  local log=$out/$t.log
  local scratch=$scratch_root/$t
  mkdir -p "$scratch"
  local -a flags=(-runs="$runs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1
    -artifact_prefix="$out/$t-")
  [ -n "$max_time" ] && flags+=(-max_total_time="$max_time")
  local start end rc
  start=$(date +%s.%N)
  # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
  nice -n 10 "$bin/$t" "$scratch" "fuzz/corpus/$t" "fuzz/regressions/$t" "${flags[@]}" $extra \
    >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  local execs secs rate cov ft found
  execs=$(stat 'stat::number_of_executed_units' "$log")
  # Coverage: the last "cov: N ft: M" status line libFuzzer printed.
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo '?')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo '?')
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  rate=$(awk -v n="$execs" -v s="$secs" 'BEGIN { if (n ~ /^[0-9]+$/ && s > 0) printf "%.0f", n / s; else print "?" }')
  # Crashes, leaks, timeouts and out-of-memory inputs are findings; a slow
  # unit is only reported (libFuzzer times units by the wall clock, so a
  # fuzzer starved by other work writes some: rerun each alone).
  found=$(find "$out" -maxdepth 1 -type f \( -name "$t-crash-*" -o -name "$t-leak-*" \
    -o -name "$t-timeout-*" -o -name "$t-oom-*" \) | wc -l)
  local slow
  slow=$(find "$out" -maxdepth 1 -type f -name "$t-slow-unit-*" | wc -l)
  [ "$slow" -gt 0 ] && echo "fuzz_at_scale: $t: $slow slow units in $out (rerun each alone)" >&2
  # shellcheck disable=SC2016 # the backquotes are markdown
  printf '| `%s` | %s | %s | %s | %s | %s | %s |\n' "$t" "$execs" "$secs" "$rate" "$cov" "$ft" \
    "$found" >"$out/$t.row"
  echo "fuzz_at_scale: $t: exit $rc, $execs executions in ${secs}s, cov $cov, ft $ft, $found found" >&2
  [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$scratch"
  return 0
}

deadline=
if [ -n "${DEADLINE:-}" ]; then
  deadline=$(date -d "$DEADLINE" +%s) || exit 1
fi
echo "fuzz_at_scale: ${#targets[@]} targets, $runs runs each${max_time:+, at most ${max_time}s}${deadline:+, all done by $(date -u -d "@$deadline" +%H:%M:%SZ)}, $jobs at a time; logs in $out" >&2
left_to_start=${#targets[@]}
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  cap=$max_time
  if [ -n "$deadline" ]; then
    share=$(((deadline - $(date +%s)) * jobs / left_to_start))
    left=$((deadline - $(date +%s)))
    [ "$share" -gt "$left" ] && share=$left
    if [ "$share" -lt 1 ]; then
      echo "fuzz_at_scale: $t: not run, the deadline has passed" >&2
      left_to_start=$((left_to_start - 1))
      continue
    fi
    if [ -z "$cap" ] || [ "$share" -lt "$cap" ]; then cap=$share; fi
  fi
  left_to_start=$((left_to_start - 1))
  run_one "$t" "$cap" &
done
wait

{
  echo "| target | executions | wall s | exec/s | cov (edges) | ft (features) | crashes found |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in "${targets[@]}"; do cat "$out/$t.row" 2>/dev/null || echo "| \`$t\` | ? | | | | | |"; done
} | tee "$out/table.md"
