#!/usr/bin/env bash
# Lab: least privilege (issue 12, item 5), for every tool that opens a raw
# device: ping, sweep, traceroute, arping, dump (live) and serve.
#  (a) a copy of the binary with `setcap cap_net_raw+ep`, run by uid 65534
#      (nobody, no groups) in the lab's client namespace, works;
#  (b) a copy without the capability, run the same way, exits 2 with the
#      one line naming the missing capability;
#  (c) once the device is open, CapEff in /proc/self/status is 0, read by
#      the process itself (ERSATZ_REPORT_CAPS=1 makes open_link print its
#      CapEff line), for the unprivileged copy with the file capability and
#      for root with every capability.
# Needs root (network namespaces, setcap); skips otherwise. Only
# 198.18.0.0/15, only inside namespaces created here and deleted on exit.
# Usage: privileges_lab.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
for tool in setcap setpriv; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
# shellcheck source-path=SCRIPTDIR source=lab.sh
source "$here/lab.sh"
lab_up
tmp=$(mktemp -d)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  lab_down
  rm -rf "$tmp"
}
trap cleanup EXIT
# uid 65534 must reach the copies.
chmod 755 "$tmp"
cp "$ersatz" "$tmp/ersatz-cap"
cp "$ersatz" "$tmp/ersatz-plain"
chmod 755 "$tmp/ersatz-cap" "$tmp/ersatz-plain"
if ! setcap cap_net_raw+ep "$tmp/ersatz-cap" 2>"$tmp/setcap.err"; then
  echo "SKIP: setcap failed here (a file system without xattrs?): $(cat "$tmp/setcap.err")"
  exit 77
fi


# as_nobody BINARY ARGS...: run in the client namespace as uid/gid 65534.
as_nobody() {
  lab_in client setpriv --reuid=65534 --regid=65534 --clear-groups \
    env ERSATZ_REPORT_CAPS=1 "$@" >"$tmp/out" 2>"$tmp/err"
}
zero_caps='CapEff:	0000000000000000'

declare -A runs=(
  [ping]="ping -c 2 -i 0.2 -W 2 $LAB_ROUTER_IP"
  [sweep]="sweep 198.19.0.1 198.19.0.2 198.19.0.3"
  [traceroute]="traceroute -n -q 1 -w 2 $LAB_PEER_IP"
  [arping]="arping -c 2 -w 3 $LAB_ROUTER_IP"
  [dump]="dump -n -c 2 -i c0 icmp"
)
declare -A proof=(
  [ping]="2 packets transmitted, 2 received"
  [sweep]="198.19.0.3 is alive"
  [traceroute]=" $LAB_PEER_IP "
  [arping]="Received 2 response(s)"
  [dump]="ICMP echo request"
)
# dump needs something to see: the router pings the client meanwhile.
traffic() {
  [ "$1" = dump ] || return 0
  lab_in router ping -c 8 -i 0.25 "$LAB_CLIENT_IP" >/dev/null 2>&1 &
}

for tool in ping sweep traceroute arping dump; do
  # shellcheck disable=SC2086  # the words of the command line
  set -- ${runs[$tool]}
  traffic "$tool"
  as_nobody "$tmp/ersatz-cap" "$@"
  rc=$?
  check "$tool, setcap copy as uid 65534: exit 0 (got $rc)" test $rc -eq 0
  check "$tool, setcap copy as uid 65534: works ('${proof[$tool]}')" grep -qF -- "${proof[$tool]}" "$tmp/out"
  check "$tool, setcap copy as uid 65534: CapEff 0 once open" grep -qxF "$zero_caps" "$tmp/err"
  [ "$fails" -eq 0 ] || { cat "$tmp/out" "$tmp/err"; }

  as_nobody "$tmp/ersatz-plain" "$@"
  rc=$?
  check "$tool, no capability: exit 2 (got $rc)" test $rc -eq 2
  printf '%s\n' "ersatz: needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep ersatz" >"$tmp/want"
  check "$tool, no capability: the one line" diff -u "$tmp/want" "$tmp/err"
  check "$tool, no capability: nothing on stdout" test ! -s "$tmp/out"

  traffic "$tool"
  lab_in client env ERSATZ_REPORT_CAPS=1 "$ersatz" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  check "$tool as root: exit 0 (got $rc)" test $rc -eq 0
  check "$tool as root: CapEff 0 once open" grep -qxF "$zero_caps" "$tmp/err"
  wait
done

# serve runs until told to stop: it must open the device (and drop to
# CapEff 0) as uid 65534 with the file capability, claim its address, and
# exit 0 on SIGTERM; without the capability it exits 2 at once.
# (ip netns exec, setpriv and env each exec the next: $! is serve itself.)
ip netns exec "$LAB_CLIENT" setpriv --reuid=65534 --regid=65534 --clear-groups \
  env ERSATZ_REPORT_CAPS=1 "$tmp/ersatz-cap" serve 198.18.0.60/24 -I c0 >"$tmp/out" 2>"$tmp/err" &
serve_pid=$!
for _ in $(seq 1 120); do
  grep -q '^serving ' "$tmp/out" && break
  sleep 0.1
done
kill -TERM "$serve_pid" 2>/dev/null
wait "$serve_pid"
rc=$?
check "serve, setcap copy as uid 65534: serving" grep -q '^serving 198.18.0.60' "$tmp/out"
check "serve, setcap copy as uid 65534: exit 0 on SIGTERM (got $rc)" test $rc -eq 0
check "serve, setcap copy as uid 65534: CapEff 0 once open" grep -qxF "$zero_caps" "$tmp/err"
as_nobody "$tmp/ersatz-plain" serve 198.18.0.60/24 -I c0
rc=$?
check "serve, no capability: exit 2 (got $rc)" test $rc -eq 2
check "serve, no capability: the one line" diff -u "$tmp/want" "$tmp/err"

# The report is only there when asked for.
lab_in client "$tmp/ersatz-cap" ping -c 1 -W 2 "$LAB_ROUTER_IP" >"$tmp/out" 2>"$tmp/err"
check "without ERSATZ_REPORT_CAPS: no CapEff line" test "$(grep -c CapEff "$tmp/err")" -eq 0

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
