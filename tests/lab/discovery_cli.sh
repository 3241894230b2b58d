#!/usr/bin/env bash
# Command-line behaviour of `ersatz interfaces` and `ersatz route` on the
# host itself: arguments, exit codes and output shape. Read-only (it lists
# interfaces and routes) and unprivileged; what the host has varies, so the
# values are checked in tests/lab/discovery_lab.sh instead.
# Usage: discovery_cli.sh ERSATZ_BINARY
set -u
ersatz=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
json_ok() { /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"; }

"$ersatz" interfaces >"$tmp/out" 2>"$tmp/err"
check "interfaces: exit 0" test $? -eq 0
check "interfaces: a header row" grep -Eq '^ +INDEX +NAME +KIND +STATE +MTU +MAC +ADDRESSES +CAPTURE +DESCRIPTION$' "$tmp/out"
check "interfaces: lo is listed" grep -Eq '^[ *] +[0-9]+ +lo +loopback ' "$tmp/out"
check "interfaces: at most one '*'" test "$(grep -c '^\*' "$tmp/out")" -le 1
check "interfaces: nothing on stderr" test ! -s "$tmp/err"

"$ersatz" interfaces --json >"$tmp/out"
check "interfaces --json: exit 0" test $? -eq 0
check "interfaces --json: valid JSON" json_ok "$tmp/out"
check "interfaces --json: stable keys" /usr/bin/python3 -c '
import json, sys
keys = ["index", "name", "default", "kind", "mac", "mtu", "oper_state", "admin_up",
        "loopback", "flags", "ipv4", "description", "capture_device"]
ifs = json.load(open(sys.argv[1]))
assert ifs and all(list(i) == keys for i in ifs), [list(i) for i in ifs]
assert any(i["name"] == "lo" and i["loopback"] for i in ifs)
' "$tmp/out"

rc=0
"$ersatz" route >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ]; then
  check "route (no DEST): 'default ...' first line" grep -Eq '^default (via [0-9.]+ )?dev [^ ]+ src [0-9.]+$' "$tmp/out"
  "$ersatz" route --json >"$tmp/out"
  check "route --json: valid JSON" json_ok "$tmp/out"
  check "route --json: stable keys" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["destination", "default", "route", "next_hop", "interface", "source", "own_address"], list(d)
assert list(d["route"]) == ["prefix", "destination", "prefix_len", "type", "gateway", "on_link", "metric", "preferred_source"]
assert list(d["interface"]) == ["index", "name", "kind", "mac", "mtu", "oper_state", "description", "capture_device"]
assert d["default"] and d["route"]["prefix_len"] == 0
' "$tmp/out"
else
  check "route (no DEST) without a default route: exit 1, one line" \
    test "$rc" -eq 1 -a "$(wc -l <"$tmp/err")" -eq 1
fi

usage() {  # usage ARGS...: exit 2 and one line naming the problem
  local rc=0
  "$ersatz" route "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  check "route $*: exit 2" test "$rc" -eq 2
  check "route $*: one line on stderr, nothing on stdout" \
    test "$(wc -l <"$tmp/err")" -eq 1 -a ! -s "$tmp/out"
}
usage 300.1.2.3
usage 198.18.1
usage 1.2.3.4.5
usage ""
usage nosuch.invalid  # RFC 6761: .invalid never resolves
usage 198.18.0.1 198.18.0.2
usage --bogus

exit $((fails != 0))
