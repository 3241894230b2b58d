#!/usr/bin/env bash
# Lab: faults on the wire (issue 12, item 3, the short CI version). The
# router's nftables drops 10% and 30% of the echo replies it sends the
# client (numgen random), or duplicates 30% of them (dup); ping's counts and
# sweep's found and unreachable counts must equal the truth, counted by nft
# counters:
#  - router, input hook: echo requests from the client (ping's transmitted);
#  - client, input hook: echo replies that reached the client's link (the
#    kernel sees every frame ersatz's raw socket sees), and the set of their
#    sources (sweep's alive targets).
# (The router's own counters on its output hook are not the truth for
# duplicates: dup's copy runs through that hook again.)
# And at 10% loss sweep's retries find every one of 254 AnyIP targets.
# Figures go to docs/robustness.md. Needs root; skips otherwise. Only
# 198.18.0.0/15, only inside namespaces created here and deleted on exit.
# Usage: faults_lab.sh ERSATZ_BINARY
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
command -v nft >/dev/null || { echo "SKIP: nft is not installed"; exit 77; }
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


# faults loss|dup PERCENT: (re)install the router's fault and the counters.
faults() {
  local kind=$1 pct=$2 action
  if [ "$kind" = loss ]; then
    action="counter name \"faulted\" drop"
  else
    action="counter name \"faulted\" dup to $LAB_CLIENT_IP device \"r0\""
  fi
  lab_nft delete table ip ezf 2>/dev/null
  lab_in client nft delete table ip ezc 2>/dev/null
  lab_nft -f - <<NFT || return 1
table ip ezf {
  counter requests {}
  counter faulted {}
  set probed { type ipv4_addr; size 65536; flags dynamic; counter; }
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr $LAB_CLIENT_IP icmp type echo-request counter name "requests" add @probed { ip daddr counter }
  }
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr $LAB_CLIENT_IP icmp type echo-reply numgen random mod 100 < $pct $action
  }
}
NFT
  lab_in client nft -f - <<NFT
table ip ezc {
  counter arrived {}
  set alive { type ipv4_addr; flags dynamic; size 65536; }
  chain in {
    type filter hook input priority 0; policy accept;
    icmp type echo-reply counter name "arrived" add @alive { ip saddr }
  }
}
NFT
}
packets() { # packets router|client COUNTER
  local ns=$1 table=ezf
  [ "$ns" = client ] && table=ezc
  lab_in "$ns" nft list counter ip "$table" "$2" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
probes_of() { # probes_of ADDRESS: echo requests the router saw for it
  lab_nft list set ip ezf probed | grep -oE "$1 counter packets [0-9]+" | awk '{print $4}'
}
probed_targets() {
  lab_nft list set ip ezf probed | grep -oE '198\.19\.[0-9]+\.[0-9]+ counter' | sort -u | wc -l
}
alive_truth() {
  lab_in client nft list set ip ezc alive | grep -oE '198\.19\.[0-9]+\.[0-9]+' | sort -u | wc -l
}

# ping_run LABEL: 300 probes to the router; compares with the counters.
ping_run() {
  local label=$1
  lab_in client "$ersatz" ping -q -c 300 -i 0.005 -W 1 "$LAB_ROUTER_IP" >"$tmp/ping.out" 2>&1
  local line tx rx dup requests arrived
  line=$(grep 'packets transmitted' "$tmp/ping.out")
  tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$line")
  rx=$(sed -n 's/.*transmitted, \([0-9]*\) received.*/\1/p' <<<"$line")
  dup=$(sed -n 's/.*+\([0-9]*\) duplicates.*/\1/p' <<<"$line")
  dup=${dup:-0}
  requests=$(packets router requests)
  arrived=$(packets client arrived)
  echo "ping $label: $line | nft: requests $requests, replies arrived $arrived, faulted $(packets router faulted)"
  check "ping $label: transmitted $tx = requests counted $requests" test "$tx" = "$requests"
  # ping exits as soon as its 300th reply is in, as iputils does; when the
  # router duplicates replies, the copy of that last reply may arrive after
  # the exit. It is the only frame that can: allow it, and no other.
  local late=0
  [ "$label" = "30% duplicated" ] && late=1
  check "ping $label: received $rx + duplicates $dup = replies arrived $arrived (less at most $late after the exit)" \
    test "$((arrived - rx - dup))" -ge 0 -a "$((arrived - rx - dup))" -le "$late"
  ping_tx=$tx ping_rx=$rx ping_dup=$dup
}

# sweep_run LABEL: the AnyIP /24 with fping's 3 retries; compares with the
# set of sources that reached the client.
sweep_run() {
  local label=$1
  lab_in client "$ersatz" sweep -q -s -r 3 -g 198.19.0.0/24 >"$tmp/sweep.out" 2>"$tmp/sweep.err"
  local alive unreachable truth
  alive=$(sed -n 's/^ *\([0-9]*\) alive$/\1/p' "$tmp/sweep.err")
  unreachable=$(sed -n 's/^ *\([0-9]*\) unreachable$/\1/p' "$tmp/sweep.err")
  truth=$(alive_truth)
  echo "sweep $label: alive $alive, unreachable $unreachable | nft: distinct sources $truth, replies arrived $(packets client arrived), faulted $(packets router faulted)"
  check "sweep $label: alive $alive = distinct sources counted $truth" test "$alive" = "$truth"
  check "sweep $label: unreachable $unreachable = 254 - $truth" test "$unreachable" = "$((254 - truth))"
  sweep_alive=$alive
}

for pct in 10 30; do
  faults loss "$pct" || { echo "FAIL nft rules"; exit 1; }
  ping_run "${pct}% loss"
  check "ping ${pct}% loss: no duplicates" test "$ping_dup" -eq 0
  check "ping ${pct}% loss: some lost" test "$ping_rx" -lt "$ping_tx"
  faults loss "$pct"
  sweep_run "${pct}% loss"
  # A target is missed only when all 4 of its replies are dropped (at 10%:
  # p = 1e-4 each, 2.5% for one of 254 in a run; at 30%, about 2 a run):
  # then the router must have seen it probed 4 times (fping's 3 retries).
  missed=0
  for t in $(comm -13 <(lab_in client nft list set ip ezc alive | grep -oE '198\.19\.[0-9]+\.[0-9]+' | sort -u) \
    <(for i in $(seq 1 254); do echo "198.19.0.$i"; done | sort)); do
    missed=$((missed + 1))
    n=$(probes_of "$t")
    check "sweep ${pct}% loss: missed $t only after 4 probes (got ${n:-0})" test "${n:-0}" -eq 4
  done
  check "sweep ${pct}% loss: misses listed = unreachable" test "$missed" = "$((254 - sweep_alive))"
  check "sweep ${pct}% loss: every target probed" test "$(probed_targets)" -eq 254
  [ "$pct" = 10 ] && echo "sweep 10% loss: coverage $sweep_alive/254"
done

faults dup 30
ping_run "30% duplicated"
check "ping 30% duplicated: every probe answered" test "$ping_rx" -eq "$ping_tx"
check "ping 30% duplicated: duplicates seen" test "$ping_dup" -gt 0
faults dup 30
sweep_run "30% duplicated"
check "sweep 30% duplicated: 254 alive, none counted twice" test "$sweep_alive" = 254

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
