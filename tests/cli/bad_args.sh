#!/usr/bin/env bash
# Bad command lines, as a new user types them: every subcommand with values
# out of range, of the wrong type, missing and contradictory. Each gets the
# tool's error lines (one, or the anchor's own two or three) on stderr,
# nothing on stdout, and the anchor's exit code; never a crash (the asan
# preset runs this too: a sanitizer report would change both).
#
# Where the anchor is installed, the row marked so runs it with the same
# arguments and compares: iputils ping and traceroute (exit code and text),
# tcpdump (exit code and text, "tcpdump:" for "ersatz:"), fping (exit code:
# it prints its usage where sweep names the problem). Only arguments that
# stop the anchor before it sends anything are given to it: the host is a
# name glibc refuses without DNS (`bad_name!`), or there is none, or for
# tcpdump the error comes from its option parsing. Rows with a real
# address (198.18.0.1) stop before a device is opened and are not given to
# the anchor.
# Usage: bad_args.sh ERSATZ_BINARY
set -u
ersatz=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
rows=0
anchored=0
check() { # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# anchor_of TOOL: the installed tool ersatz's subcommand replaces.
anchor_of() {
  case $1 in
    ping) command -v ping ;;
    sweep) command -v fping ;;
    traceroute) command -v traceroute ;;
    dump) command -v tcpdump ;;
    arping) command -v arping ;;
  esac
}

# row A|- TOOL RC ARGS... -- EXPECTED_STDERR_LINES...
# A: compare with the anchor too (see above for which arguments may go).
row() {
  local mode=$1 tool=$2 want_rc=$3
  shift 3
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  rows=$((rows + 1))
  local what="$tool ${args[*]}"
  "$ersatz" "$tool" "${args[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  printf '%s\n' "$@" >"$tmp/want"
  check "$what: exit $want_rc (got $rc)" test "$rc" -eq "$want_rc"
  check "$what: stderr" diff -u "$tmp/want" "$tmp/err"
  check "$what: nothing on stdout" test ! -s "$tmp/out"
  [ "$mode" = A ] || return 0
  local anchor
  anchor=$(anchor_of "$tool") || true
  [ -n "$anchor" ] || return 0
  anchored=$((anchored + 1))
  # Under its usual name: iputils prefixes its errors with argv[0].
  timeout 5 bash -c 'exec -a "$1" "${@:2}"' _ "$(basename "$anchor")" "$anchor" "${args[@]}" \
    >"$tmp/aout" 2>"$tmp/aerr" </dev/null
  local arc=$?
  check "$what: exit $arc as $(basename "$anchor")" test "$rc" -eq "$arc"
  case $tool in
    ping | traceroute | arping)
      check "$what: the same lines as $(basename "$anchor")" diff -u "$tmp/aerr" "$tmp/err" ;;
    dump)
      sed 's/^tcpdump: /ersatz: /' "$tmp/aerr" >"$tmp/aerr2"
      check "$what: the same line as tcpdump" diff -u "$tmp/aerr2" "$tmp/err" ;;
  esac
}

# ---------------------------------------------------------------- ping (iputils 20221126)
# strtol_or_err(): exit 1.
row A ping 1 -c abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -c 0 'bad_name!' -- "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"
row A ping 1 -c -1 'bad_name!' -- "ping: invalid argument: '-1': out of range: 1 <= value <= 9223372036854775807"
row A ping 1 -c 1.5 'bad_name!' -- "ping: invalid argument: '1.5'"
row A ping 1 -c '' 'bad_name!' -- "ping: invalid argument: ''"
row A ping 1 -c 0x10 'bad_name!' -- "ping: invalid argument: '0x10'"
row A ping 1 -c 99999999999999999999 'bad_name!' -- "ping: invalid argument: '99999999999999999999': Numerical result out of range"
row A ping 1 -t 256 'bad_name!' -- "ping: invalid argument: '256': out of range: 0 <= value <= 255"
row A ping 1 -t -1 'bad_name!' -- "ping: invalid argument: '-1': out of range: 0 <= value <= 255"
row A ping 1 -t abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -w abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -w -1 'bad_name!' -- "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"
row A ping 1 -w 1.5 'bad_name!' -- "ping: invalid argument: '1.5'"
row A ping 1 -w 3000000000 'bad_name!' -- "ping: invalid argument: '3000000000': out of range: 0 <= value <= 2147483647"
row A ping 1 -s -1 'bad_name!' -- "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"
row A ping 1 -s abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -l 0 'bad_name!' -- "ping: invalid argument: '0': out of range: 1 <= value <= 65536"
row A ping 1 -l 65537 'bad_name!' -- "ping: invalid argument: '65537': out of range: 1 <= value <= 65536"
row A ping 1 -l abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -e abc 'bad_name!' -- "ping: invalid argument: 'abc'"
row A ping 1 -e 70000 'bad_name!' -- "ping: invalid argument: '70000': out of range: 0 <= value <= 65535"
# A missing value takes the host's place; no host at all.
row A ping 1 -c 'bad_name!' -- "ping: invalid argument: 'bad_name!'"
row A ping 1 -- "ping: usage error: Destination address required"
row A ping 1 -I 'bad_name!' -- "ping: usage error: Destination address required"
# ping_strtod(): garbage is only warned about, then ping goes on (here to
# the unknown host, exit 2).
row A ping 2 -i abc 'bad_name!' -- "ping: option argument contains garbage: abc" \
  "ping: this will become fatal error in the future" "ping: bad_name!: Name or service not known"
row A ping 2 -i 1x 'bad_name!' -- "ping: option argument contains garbage: x" \
  "ping: this will become fatal error in the future" "ping: bad_name!: Name or service not known"
row A ping 2 -W 1x 'bad_name!' -- "ping: option argument contains garbage: x" \
  "ping: this will become fatal error in the future" "ping: bad_name!: Name or service not known"
row A ping 2 -i nan 'bad_name!' -- "ping: bad timing interval: nan: Numerical result out of range"
row A ping 2 -i inf 'bad_name!' -- "ping: bad timing interval: inf: Numerical result out of range"
row - ping 2 -i 1e400 'bad_name!' -- "ping: bad timing interval: 1e400: Numerical result out of range"
row A ping 2 -W -1 'bad_name!' -- "ping: bad linger time: -1"
row A ping 2 -W -0.0001 'bad_name!' -- "ping: bad linger time: -0.0001"
row A ping 2 -W 0 'bad_name!' -- "ping: bad_name!: Name or service not known"
row A ping 2 -W 3000000 'bad_name!' -- "ping: bad linger time: 3000000"
# Words ping checks itself: exit 2.
row A ping 2 -Q 300 'bad_name!' -- "ping: the decimal value of TOS bits must be in range 0-255: 300"
row A ping 2 -Q abc 'bad_name!' -- "ping: bad TOS value: abc"
row A ping 2 -Q 1x 'bad_name!' -- "ping: bad TOS value: 1x"
row A ping 2 -M bogus 'bad_name!' -- "ping: invalid -M argument: bogus"
row A ping 2 -p zz 'bad_name!' -- "ping: patterns must be specified as hex digits: zz"
row A ping 2 -T bogus 'bad_name!' -- "ping: invalid timestamp type: bogus"
row A ping 2 -R -T tsonly 'bad_name!' -- "ping: only one of -T or -R may be used"
# Values that parse, refused once the host is known (no device opened).
row - ping 2 -s 65508 198.18.0.1 -- "ping: packet size 65508 is too large. Maximum is 65507"
row - ping 2 -i -1 198.18.0.1 -- "ping: bad timing interval: -1"
# Good values that reach the unknown host, as iputils.
row A ping 2 -t 0 -Q 0x10 -c ' 5' 'bad_name!' -- "ping: bad_name!: Name or service not known"
# Unknown flags and missing values: iputils adds its usage; one line here.
row - ping 2 -Z 'bad_name!' -- "ersatz: The following argument was not expected: -Z (try 'ersatz ping --help')"

# ---------------------------------------------------------------- sweep (fping 5.1: exit 1)
row A sweep 1 -c 0 'bad_name!' -- "sweep: -c: invalid count '0'"
row A sweep 1 -c x 'bad_name!' -- "sweep: -c: invalid count 'x'"
row A sweep 1 -C 0 'bad_name!' -- "sweep: -C: invalid count '0'"
row A sweep 1 -r x 'bad_name!' -- "sweep: -r: invalid retry count 'x'"
row A sweep 1 -t -1 'bad_name!' -- "sweep: -t: invalid value '-1'"
row A sweep 1 -t x 'bad_name!' -- "sweep: -t: invalid value 'x'"
row A sweep 1 -i x 'bad_name!' -- "sweep: -i: invalid value 'x'"
row A sweep 1 -p x 'bad_name!' -- "sweep: -p: invalid value 'x'"
row A sweep 1 -O x 'bad_name!' -- "sweep: -O: invalid tos 'x'"
row A sweep 1 -H x 'bad_name!' -- "sweep: -H: invalid ttl 'x'"
row A sweep 1 -b x 'bad_name!' -- "sweep: -b: invalid size 'x'"
row A sweep 1 -B x 'bad_name!' -- "sweep: -B: invalid value 'x'"
row A sweep 1 -B 9 'bad_name!' -- "sweep: backoff factor 9.0 not valid, must be between 1.0 and 5.0"
row A sweep 1 -b 70000 'bad_name!' -- "sweep: data size 70000 not valid, must be lower than 65488"
row A sweep 1 -H 300 'bad_name!' -- "sweep: ttl 300 out of range"
row A sweep 1 -a -u 'bad_name!' -- "sweep: specify only one of a, u"
row A sweep 1 -c 2 -l 'bad_name!' -- "sweep: specify only one of c, l"
row A sweep 1 -Z 'bad_name!' -- "ersatz: The following argument was not expected: -Z (try 'ersatz sweep --help')"
row - sweep 1 -c -- "ersatz: --count: 1 required TEXT missing (try 'ersatz sweep --help')"
row - sweep 1 --rate 0 198.18.0.1 -- "sweep: --rate: invalid rate '0'"
row - sweep 1 --senders x 198.18.0.1 -- "ersatz: --senders: 1..64 or auto (try 'ersatz sweep --help')"
row - sweep 1 --shard 0/4 198.18.0.1 -- "sweep: --shard needs --seed: every shard must walk the same order"

# ---------------------------------------------------------------- traceroute (2.1: exit 2)
row A traceroute 2 -m abc 'bad_name!' -- "Cannot handle \`-m' option with arg \`abc' (argc 2)"
row A traceroute 2 -m 1x 'bad_name!' -- "Cannot handle \`-m' option with arg \`1x' (argc 2)"
row A traceroute 2 -m '' 'bad_name!' -- "Cannot handle \`-m' option with arg \`' (argc 2)"
row A traceroute 2 -f abc 'bad_name!' -- "Cannot handle \`-f' option with arg \`abc' (argc 2)"
row A traceroute 2 -q abc 'bad_name!' -- "Cannot handle \`-q' option with arg \`abc' (argc 2)"
row A traceroute 2 -N abc 'bad_name!' -- "Cannot handle \`-N' option with arg \`abc' (argc 2)"
row A traceroute 2 -t abc 'bad_name!' -- "Cannot handle \`-t' option with arg \`abc' (argc 2)"
row A traceroute 2 -w abc 'bad_name!' -- "Cannot handle \`-w' option with arg \`abc' (argc 2)"
row A traceroute 2 -z 1x 'bad_name!' -- "Cannot handle \`-z' option with arg \`1x' (argc 2)"
row A traceroute 2 -n -q 1 -m x 'bad_name!' -- "Cannot handle \`-m' option with arg \`x' (argc 5)"
# Range checks come after the host, as traceroute's.
row A traceroute 2 -m 0 'bad_name!' -- "bad_name!: Name or service not known" \
  "Cannot handle \"host\" cmdline arg \`bad_name!' on position 1 (argc 3)"
row A traceroute 2 -m 0x10 'bad_name!' abc -- "bad_name!: Name or service not known" \
  "Cannot handle \"host\" cmdline arg \`bad_name!' on position 1 (argc 3)"
row - traceroute 2 198.18.0.1 abc -- "Cannot handle \"packetlen\" cmdline arg \`abc' on position 2 (argc 2)"
row - traceroute 2 -q 0 198.18.0.1 -- "no more than 10 probes per hop"
row - traceroute 2 -f 5 -m 4 198.18.0.1 -- "first hop out of range"
row - traceroute 2 -- "ersatz: host is required (try 'ersatz traceroute --help')"
row - traceroute 2 -m -- "ersatz: -m: 1 required TEXT missing (try 'ersatz traceroute --help')"

# ---------------------------------------------------------------- dump (tcpdump 4.99: exit 1)
# tcpdump reads every flag before it opens anything: with -r of a missing
# file it stops at the flag.
row A dump 1 -c abc -r /nonexistent/x.pcap -- "ersatz: invalid packet count abc"
row A dump 1 -c 0 -r /nonexistent/x.pcap -- "ersatz: invalid packet count 0"
row A dump 1 -c -1 -r /nonexistent/x.pcap -- "ersatz: invalid packet count -1"
row A dump 1 -s abc -r /nonexistent/x.pcap -- "ersatz: invalid snaplen abc (must be >= 0 and <= 262144)"
row A dump 1 -s -1 -r /nonexistent/x.pcap -- "ersatz: invalid snaplen -1 (must be >= 0 and <= 262144)"
row A dump 1 -s 300000 -r /nonexistent/x.pcap -- "ersatz: invalid snaplen 300000 (must be >= 0 and <= 262144)"
row A dump 1 -r /nonexistent/x.pcap -- "ersatz: /nonexistent/x.pcap: No such file or directory"
row - dump 2 -- "ersatz: dump: -r FILE or -i [IFACE] is required (try 'ersatz dump --help')"
row - dump 2 -r a.pcap -i lo -- "ersatz: --read excludes --interface (try 'ersatz dump --help')"
row - dump 2 --backend bogus -r x -- "ersatz: --backend: bogus not in {auto,afpacket,pcap,tap} (try 'ersatz dump --help')"

# ---------------------------------------------------------------- arping (iputils 20221126: exit 1, 2)
# -I names an interface that does not exist: were a value to pass, the tool
# would stop at the device, before sending anything.
row A arping 1 -c abc -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: 'abc'"
row A arping 1 -c 0 -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: '0': out of range: 1 <= value <= 2147483647"
row A arping 1 -c 99999999999 -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: '99999999999': out of range: 1 <= value <= 2147483647"
row A arping 1 -w abc -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: 'abc'"
row A arping 1 -w -1 -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"
row A arping 1 -i abc -I ez-nonexist0 198.18.0.1 -- "arping: invalid argument: 'abc'"
row A arping 2 -I ez-nonexist0 198.18.0.1 -- "arping: Device ez-nonexist0 not available."

# ---------------------------------------------------------------- serve (no anchor: exit 2)
row - serve 2 198.18.0.5/33 -I ez-nonexist0 -- "ersatz: serve: '198.18.0.5/33' is not ADDRESS/PREFIX"
row - serve 2 abc -I ez-nonexist0 -- "ersatz: serve: 'abc' is not ADDRESS/PREFIX"
row - serve 2 198.18.0.5/24 -I ez-nonexist0 --defend sometimes -- "ersatz: serve: --defend takes once, always or never, not 'sometimes'"
row - serve 2 198.18.0.5/24 -I ez-nonexist0 --mac zz -- "ersatz: serve: 'zz' is not a unicast MAC address"
row - serve 2 198.18.0.5/24 -I ez-nonexist0 --mac ff:ff:ff:ff:ff:ff -- "ersatz: serve: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address"
row - serve 2 198.18.0.5/24 -I ez-nonexist0 -- "ersatz: ez-nonexist0: no such interface"
row - serve 2 198.18.0.5/24 -- "ersatz: -I is required (try 'ersatz serve --help')"
row - serve 2 -I ez-nonexist0 -- "ersatz: address is required (try 'ersatz serve --help')"

# ---------------------------------------------------------------- route, interfaces, completion
row - route 2 'bad_name!' -- "ersatz: route: 'bad_name!': Name or service not known (try 'ersatz route --help')"
row - route 2 --source abc 198.18.0.1 -- "ersatz: --source: abc not in {auto,netlink,iphlpapi,wmi} (try 'ersatz route --help')"
row - route 2 198.18.0.1 198.18.0.2 -- "ersatz: The following argument was not expected: 198.18.0.2 (try 'ersatz route --help')"
row - interfaces 2 abc -- "ersatz: The following argument was not expected: abc (try 'ersatz interfaces --help')"
row - interfaces 2 --bogus -- "ersatz: The following argument was not expected: --bogus (try 'ersatz interfaces --help')"
row - completion 2 -- "ersatz: shell is required (try 'ersatz completion --help')"
row - completion 2 fish2 -- "ersatz: shell: fish2 not in {bash,zsh,fish} (try 'ersatz completion --help')"
row - completion 2 bash zsh -- "ersatz: The following argument was not expected: zsh (try 'ersatz completion --help')"

echo "$rows rows, $anchored compared with the installed anchor"
if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
