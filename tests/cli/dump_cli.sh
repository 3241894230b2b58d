#!/usr/bin/env bash
# Command-line behaviour of `ersatz dump -r`: output, exit codes, messages.
# Usage: dump_cli.sh ERSATZ_BINARY DATA_DIR
set -u
ersatz=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC
fails=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

"$ersatz" dump -r "$data/sample.pcap" >"$tmp/out" 2>"$tmp/err"
check "exit 0 on a good file" test $? -eq 0
check "one line per frame, as tcpdump -nn" cmp -s "$tmp/out" "$data/sample.tcpdump.txt"
check "tcpdump's 'reading from file' line on stderr" grep -q "^reading from file .*link-type EN10MB" "$tmp/err"
check "closing count on stderr" grep -qx "33 packets" "$tmp/err"

"$ersatz" dump -nn -e -r "$data/sample.pcap" >"$tmp/out" 2>/dev/null
check "-nn -e matches tcpdump -nn -e" cmp -s "$tmp/out" "$data/sample.tcpdump-e.txt"

"$ersatz" dump -c 3 -r "$data/sample.pcap" >"$tmp/out" 2>"$tmp/err"
check "-c 3 prints 3 lines" test "$(wc -l <"$tmp/out")" -eq 3
check "-c 3 counts 3" grep -qx "3 packets" "$tmp/err"

"$ersatz" dump -q -r "$data/sample.pcap" >"$tmp/out" 2>"$tmp/err"
check "-q prints no frame lines" test ! -s "$tmp/out"
check "-q prints the closing count" grep -qx "33 packets" "$tmp/err"

"$ersatz" dump -r - <"$data/sample.pcap" >"$tmp/out" 2>/dev/null
check "-r - reads standard input" cmp -s "$tmp/out" "$data/sample.tcpdump.txt"

"$ersatz" dump --json -r "$data/sample.pcap" >"$tmp/out" 2>/dev/null
check "--json: one object per frame" test "$(wc -l <"$tmp/out")" -eq 33
check "--json: every line is valid JSON" /usr/bin/python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert o["frame.number"] == n, n
    assert isinstance(o["frame.time_epoch"], float)
' "$tmp/out"

"$ersatz" dump -r "$tmp/missing.pcap" >/dev/null 2>"$tmp/err"
check "missing file exits 1" test $? -eq 1
check "missing file: one line naming it" test "$(wc -l <"$tmp/err")" -eq 1 -a -n "$(grep "missing.pcap: No such file" "$tmp/err")"

head -c 1000 "$data/sample.pcap" >"$tmp/cut.pcap"
"$ersatz" dump -r "$tmp/cut.pcap" >"$tmp/out" 2>"$tmp/err"
check "truncated file exits 1" test $? -eq 1
check "truncated file: names file and offset" grep -q "cut.pcap: record is truncated at byte offset [0-9]" "$tmp/err"
check "truncated file: frames before the damage still print" test -s "$tmp/out"

printf 'this is not a capture file at all' >"$tmp/junk.pcap"
"$ersatz" dump -r "$tmp/junk.pcap" >/dev/null 2>"$tmp/err"
check "not a pcap exits 1" test $? -eq 1
check "not a pcap: says so" grep -q "junk.pcap: not a pcap file" "$tmp/err"

# A LINUX_SLL (113) capture: reported clearly, not misread as Ethernet.
/usr/bin/python3 -c '
import struct, sys
sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 113))' >"$tmp/sll.pcap"
"$ersatz" dump -r "$tmp/sll.pcap" >/dev/null 2>"$tmp/err"
check "other link type exits 1" test $? -eq 1
check "other link type is named" grep -q "link type 113 (LINUX_SLL) is not supported" "$tmp/err"

"$ersatz" dump --no-such-flag -r "$data/sample.pcap" >/dev/null 2>"$tmp/err"
check "unknown flag exits 2" test $? -eq 2
check "usage error is one line" test "$(wc -l <"$tmp/err")" -eq 1
"$ersatz" dump >/dev/null 2>&1
check "missing -r exits 2" test $? -eq 2
"$ersatz" dump -c 0 -r "$data/sample.pcap" >/dev/null 2>&1
check "-c 0 exits 1, as tcpdump's \"invalid packet count\"" test $? -eq 1
"$ersatz" >/dev/null 2>&1
check "no subcommand exits 2" test $? -eq 2
"$ersatz" dump --help >"$tmp/out" 2>&1
check "--help exits 0 and documents -e" grep -q -- "-e " "$tmp/out"

echo "dump_cli: $fails failed"
exit $((fails > 0))
