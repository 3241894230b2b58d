#!/usr/bin/env bash
# Command-line behaviour of `ersatz traceroute` and ping's new flags that
# needs no network: traceroute 2.1's messages and exit codes for values out
# of range and unknown hosts, iputils' for -T, -R with -T, -l and -e.
# Every check fails before a device is opened (the target is never sent to).
# Usage: traceroute_cli.sh ERSATZ_BINARY
set -u
ersatz=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# refused TOOL EXIT ARGS... -- EXPECTED_STDERR: exact stderr, nothing on stdout.
refused() {
  local tool=$1 want_rc=$2
  shift 2
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  "$ersatz" "$tool" "${args[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  printf '%s\n' "$@" >"$tmp/want"
  check "$tool ${args[*]}: exit $want_rc" test $rc -eq "$want_rc"
  check "$tool ${args[*]}: stderr" diff -u "$tmp/want" "$tmp/err"
  check "$tool ${args[*]}: nothing on stdout" test ! -s "$tmp/out"
}

refused traceroute 2 -n 'bad_name!' -- "bad_name!: Name or service not known" \
  "Cannot handle \"host\" cmdline arg \`bad_name!' on position 1 (argc 2)"
refused traceroute 2 -q 11 198.18.0.1 -- "no more than 10 probes per hop"
refused traceroute 2 -q 0 198.18.0.1 -- "no more than 10 probes per hop"
refused traceroute 2 -f 31 198.18.0.1 -- "first hop out of range"
refused traceroute 2 -f 0 198.18.0.1 -- "first hop out of range"
refused traceroute 2 -m 300 -f 1 198.18.0.1 -- "max hops cannot be more than 255"
refused traceroute 2 -w -1 198.18.0.1 -- "bad wait specifications \`-1,0,0' used"
refused traceroute 2 198.18.0.1 70000 -- "too big packetlen 70000 specified"
refused traceroute 2 -z -1 198.18.0.1 -- "bad sendtime \`-1' specified"
refused ping 2 -T foo 198.18.0.1 -- "ping: invalid timestamp type: foo"
refused ping 2 -R -T tsonly 198.18.0.1 -- "ping: only one of -T or -R may be used"
refused ping 1 -l 0 198.18.0.1 -- "ping: invalid argument: '0': out of range: 1 <= value <= 65536"
refused ping 1 -e 70000 198.18.0.1 -- "ping: invalid argument: '70000': out of range: 0 <= value <= 65535"

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
