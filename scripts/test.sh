#!/usr/bin/env bash
# Runs every test: builds the `dev` (warnings as errors) and `asan`
# (AddressSanitizer + UndefinedBehaviorSanitizer) presets and runs ctest
# under both (the asan test preset leaves out the tests labelled `anchors`,
# the minute-long line-by-line comparisons with iputils, fping and
# traceroute: see tests/CMakeLists.txt). The last line sums up both runs.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1

jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
status=0
for preset in dev asan; do
  echo "== $preset: configure and build"
  if ! cmake --preset "$preset" >/dev/null || ! cmake --build --preset "$preset" -j "$jobs"; then
    echo "== $preset: build FAILED"
    status=1
    total_fail=$((total_fail + 1))
    continue
  fi
  echo "== $preset: ctest"
  log=$(mktemp)
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
  rm -f "$log"
done
echo "tests: $total_pass passed, $total_fail failed"
exit $status
