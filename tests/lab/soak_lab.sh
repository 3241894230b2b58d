#!/usr/bin/env bash
# Lab: soak (issue 12, item 7). `ersatz ping -i 0.001` for SOAK_PROBES
# probes (default 5000, the CI version; the long run is 1000000), then
# `ersatz sweep` of the router's AnyIP /16 SOAK_SWEEPS times in a row
# (default 10). ping's resident size and open descriptors are sampled every
# SOAK_EVERY seconds and must stay flat; every sweep finds all 65,534
# targets, and the sweeps' peak resident sizes stay within 1 MiB of each
# other (their descriptor counts are reported). At the end no namespace of this lab
# is left behind (checked from a child shell after the lab is taken down).
# Needs root; skips otherwise. Only 198.18.0.0/15, only inside namespaces
# created here. Usage: soak_lab.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
probes=${SOAK_PROBES:-5000}
sweeps=${SOAK_SWEEPS:-10}
every=${SOAK_EVERY:-0.5}
tmp=$(mktemp -d)
# shellcheck source-path=SCRIPTDIR source=lab.sh
source "$here/lab.sh"
asan=0
lab_is_asan "$ersatz" && asan=1

# The lab runs in a child shell, so that its EXIT trap has run (and the
# namespaces are gone) before the check that none is left.
(
  lab_up
  echo "$LAB_ID" >"$tmp/lab_id"
  fails=0

  echo "== ping -q -i 0.001 -c $probes"
  ip netns exec "$LAB_CLIENT" "$ersatz" ping -q -i 0.001 -c "$probes" -W 1 "$LAB_ROUTER_IP" >"$tmp/ping.out" 2>&1 &
  pid=$!
  while [ -e "/proc/$pid/status" ]; do
    echo "$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null) $(ls "/proc/$pid/fd" 2>/dev/null | wc -l)"
    sleep "$every"
  done >"$tmp/ping.mem"
  wait "$pid"
  rc=$?
  line=$(grep 'packets transmitted' "$tmp/ping.out")
  echo "  $line"
  # The samples after the first two (start-up): resident size and descriptors.
  tail -n +3 "$tmp/ping.mem" | awk 'NF == 2 && $1 > 0 && $2 > 0' >"$tmp/ping.steady"
  n=$(wc -l <"$tmp/ping.steady")
  read -r rss_first _ < <(head -1 "$tmp/ping.steady")
  read -r rss_min rss_max fds_min fds_max < <(awk 'NR == 1 { a = b = $1; c = d = $2 } { if ($1 < a) a = $1; if ($1 > b) b = $1; if ($2 < c) c = $2; if ($2 > d) d = $2 } END { print a + 0, b + 0, c + 0, d + 0 }' "$tmp/ping.steady")
  echo "  ping memory: $n samples, VmRSS ${rss_first:-?} kB first, $rss_min..$rss_max kB; fds $fds_min..$fds_max"
  ok() { echo "ok   $1"; }
  bad() { echo "FAIL $1"; fails=$((fails + 1)); }
  if [ "$rc" -eq 0 ]; then ok "ping: exit 0"; else bad "ping: exit $rc"; fi
  if grep -q "^$probes packets transmitted, $probes received" "$tmp/ping.out"; then
    ok "ping: $probes of $probes"
  else
    bad "ping: $line"
  fi
  if [ "$n" -ge 2 ]; then
    if [ "$fds_min" -eq "$fds_max" ]; then
      ok "ping: open descriptors constant ($fds_min)"
    else
      bad "ping: descriptors $fds_min..$fds_max"
    fi
    if [ "$asan" = 1 ]; then
      echo "  (ASan build: resident size reported, not checked)"
    elif [ $((rss_max - rss_first)) -le 512 ]; then
      ok "ping: resident size flat (grew $((rss_max - rss_first)) kB <= 512)"
    else
      bad "ping: resident size grew $((rss_max - rss_first)) kB"
    fi
  fi

  echo "== sweep -g $LAB_ANYIP, $sweeps times"
  for i in $(seq 1 "$sweeps"); do
    ip netns exec "$LAB_CLIENT" /usr/bin/time -f "%M %e" -o "$tmp/sweep.$i.time" "$ersatz" sweep -q -s -r 1 -g "$LAB_ANYIP" \
      >/dev/null 2>"$tmp/sweep.$i.err" &
    spid=$!
    fds=0
    while [ -e "/proc/$spid" ]; do
      # /usr/bin/time's child is the sweep.
      c=$(pgrep -P "$spid" | head -1)
      [ -n "$c" ] && f=$(ls "/proc/$c/fd" 2>/dev/null | wc -l) && [ "$f" -gt "$fds" ] && fds=$f
      sleep 0.02
    done
    wait "$spid"
    alive=$(sed -n 's/^ *\([0-9]*\) alive$/\1/p' "$tmp/sweep.$i.err")
    read -r maxrss secs <"$tmp/sweep.$i.time"
    echo "  sweep $i: alive $alive, max RSS $maxrss kB, $secs s, at most $fds descriptors"
    echo "$maxrss $fds" >>"$tmp/sweeps"
    if [ "$alive" = 65534 ]; then ok "sweep $i: 65534 alive"; else bad "sweep $i: alive $alive"; fi
  done
  read -r smin smax < <(awk 'NR == 1 { a = b = $1 } { if ($1 < a) a = $1; if ($1 > b) b = $1 } END { print a, b }' "$tmp/sweeps")
  echo "  sweeps: max RSS $smin..$smax kB"
  if [ "$asan" = 1 ]; then
    echo "  (ASan build: resident size reported, not checked)"
  elif [ $((smax - smin)) -le 1024 ]; then
    # Each sweep is a new process; its peak moves with how many replies a
    # receive batch holds (about 0.5 MiB between runs on a loaded machine).
    # A leak across runs would show as a climb of many MiB.
    ok "sweeps: peak resident size the same in every run within 1 MiB ($smin..$smax kB)"
  else
    bad "sweeps: peak resident size $smin..$smax kB"
  fi
  exit "$fails"
)
fails=$?
id=$(cat "$tmp/lab_id" 2>/dev/null)
left=$(ip netns list | grep -c -- "-${id:-none}" || true)
check "no namespace of this lab left behind (ip netns list: $left)" test -n "$id" -a "$left" -eq 0
rm -rf "$tmp"
echo "$fails failed"
[ "$fails" -eq 0 ]
