#!/usr/bin/env bash
# Runs every test: builds the `dev` (warnings as errors) and `asan`
# (AddressSanitizer + UndefinedBehaviorSanitizer) presets and runs ctest
# under both (the asan test preset leaves out the tests labelled `anchors`,
# the minute-long line-by-line comparisons with iputils, fping and
# traceroute, and `soak`: see tests/CMakeLists.txt). The last line sums up
# both runs.
#
# The asan build runs at nice 19 while the dev tests run: those are mostly
# network labs, serial and waiting on timers, and leave most of two cores
# idle; a test process always comes first. Set ERSATZ_TEST_OVERLAP=0 to
# build asan only after the dev tests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/install-deps.sh || exit 1

jobs=$(nproc 2>/dev/null || echo 2)
overlap=${ERSATZ_TEST_OVERLAP:-1}
total_pass=0
total_fail=0
status=0
work=$(mktemp -d)
asan_pid=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  [ -n "$asan_pid" ] && kill "$asan_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

build() { # build PRESET [NICENESS]: configures and builds
  local preset=$1 niceness=${2:-0}
  cmake --preset "$preset" >/dev/null &&
    nice -n "$niceness" cmake --build --preset "$preset" -j "$jobs"
}

# test_preset PRESET: runs ctest, adds its counts to the totals.
test_preset() {
  local preset=$1 log rc summary failed all
  echo "== $preset: ctest"
  log=$work/$preset.ctest
  ctest --preset "$preset" -j "$jobs" --output-on-failure 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  # "100% tests passed, 0 tests failed out of 61"
  summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [ -n "$summary" ]; then
    failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
    all=$(echo "$summary" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
    total_pass=$((total_pass + all - failed))
    total_fail=$((total_fail + failed))
  else
    total_fail=$((total_fail + 1))
    status=1
  fi
}

build_failed() { # build_failed PRESET
  echo "== $1: build FAILED"
  status=1
  total_fail=$((total_fail + 1))
}

echo "== dev: configure and build"
dev_built=1
build dev || dev_built=0

if [ "$overlap" = 1 ] && [ "$dev_built" = 1 ]; then
  echo "== asan: configure and build (nice 19, beside the dev tests; output at the end)"
  build asan 19 >"$work/asan.build" 2>&1 &
  asan_pid=$!
fi

if [ "$dev_built" = 1 ]; then
  test_preset dev
else
  build_failed dev
fi

echo "== asan: configure and build"
asan_built=1
if [ -n "$asan_pid" ]; then
  wait "$asan_pid" || asan_built=0
  asan_pid=
  # The build's errors, if any, and its last lines.
  grep -E "error|FAILED" "$work/asan.build" | head -40
  tail -n 3 "$work/asan.build"
else
  build asan || asan_built=0
fi
if [ "$asan_built" = 1 ]; then
  test_preset asan
else
  [ -f "$work/asan.build" ] && tail -n 60 "$work/asan.build"
  build_failed asan
fi

echo "tests: $total_pass passed, $total_fail failed"
exit $status
