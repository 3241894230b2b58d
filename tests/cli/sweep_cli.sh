#!/usr/bin/env bash
# Command-line behaviour of `ersatz sweep` that needs no network: fping's
# exit codes for bad flags (1, where fping calls usage(1)) and unknown
# hosts (2), one line naming each problem. Nothing here opens a device.
# Usage: sweep_cli.sh ERSATZ_BINARY
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

# bad ARGS... EXPECTED_TEXT: exit 1, one line on stderr containing the text.
bad() {
  local want=${*: -1}
  local args=("${@:1:$#-1}")
  "$ersatz" sweep "${args[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  check "sweep ${args[*]}: exit 1" test $rc -eq 1
  check "sweep ${args[*]}: says '$want'" grep -qF -- "$want" "$tmp/err"
  check "sweep ${args[*]}: one line" test "$(wc -l <"$tmp/err")" -eq 1
  check "sweep ${args[*]}: nothing on stdout" test ! -s "$tmp/out"
}

bad -c 0 198.19.0.1 "-c: invalid count '0'"
bad -c x 198.19.0.1 "-c: invalid count 'x'"
bad -t -1 198.19.0.1 "-t: invalid value '-1'"
bad -B 9 198.19.0.1 "backoff factor 9.0 not valid, must be between 1.0 and 5.0"
bad -a -u 198.19.0.1 "specify only one of a, u"
bad -c 2 -l 198.19.0.1 "specify only one of c, l"
bad -b 70000 198.19.0.1 "data size 70000 not valid, must be lower than 65488"
bad -H 300 198.19.0.1 "ttl 300 out of range"
bad -g 198.19.0.0/33 "netmask must be between 1 and 32 (is: 33)"
bad -g 198.19.0.0 "is not a CIDR block"
bad -g 1.2.3.4 1.2.3.5 1.2.3.6 "-g takes one CIDR block or a start and an end address"
bad -g 198.19.0.9 198.19.0.1 "comes after"
bad --shard 4/4 --seed 1 198.19.0.1 "is not I/N"
bad --shard 0/4 198.19.0.1 "--shard needs --seed"
bad --rate 0 198.19.0.1 "--rate: invalid rate '0'"
bad -Z 198.19.0.1 "-Z"
bad -f /nonexistent/targets "/nonexistent/targets"

# Unknown hosts: glibc refuses these names without asking a resolver.
"$ersatz" sweep 'bad_name!' >"$tmp/out" 2>"$tmp/err"
check "only an unknown host: exit 2" test $? -eq 2
check "only an unknown host: fping's line" grep -qx 'bad_name!: Name or service not known' "$tmp/err"
"$ersatz" sweep -q 'bad_name!' 'also_bad!' >"$tmp/out" 2>"$tmp/err"
check "-q and unknown hosts: exit 2" test $? -eq 2
check "-q and unknown hosts: silent" test ! -s "$tmp/err"
echo 'bad_name!' | "$ersatz" sweep >"$tmp/out" 2>"$tmp/err"
check "targets from standard input: exit 2 for an unknown one" test $? -eq 2
check "targets from standard input: named" grep -q '^bad_name!: ' "$tmp/err"
"$ersatz" sweep </dev/null >"$tmp/out" 2>"$tmp/err"
check "no targets at all: exit 1, as fping" test $? -eq 1

"$ersatz" sweep --help >"$tmp/out" 2>&1
check "--help: exit 0" test $? -eq 0
for flag in -a -u -q -c -C -r -t -i -p -B -b -g -f -e -s --rate --shard --seed --json; do
  check "--help lists $flag" grep -qE -- "(^| |,)$flag([ ,]|$)" "$tmp/out"
done

echo "sweep_cli: $fails failed"
exit $((fails > 0))
