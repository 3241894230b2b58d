#!/usr/bin/env bash
# Lab: `ersatz sweep` against fping 5.1, side by side with the same
# arguments in the lab's client namespace. By design sweep paces itself and
# may send a different number of retries, so it may print a different
# NUMBER of ICMP error lines than fping: stdout and stderr are each
# compared as sets of lines (sort -u) once times are normalised, and the
# exit codes must be equal. Bad command lines are compared by exit code and
# by what stderr mentions (fping's usage text need not be copied).
# Then four `sweep --shard I/4` run at once on a /24: disjoint, and
# together they cover it, for two seeds.
#
# Every scenario also checks a few lines fping itself must print on this
# lab, so that a broken lab cannot make the comparison vacuous. Until the
# binary has a `sweep` subcommand only fping's half runs, and the script
# exits 77 (skip) if that half passes.
#
# Needs root (network namespaces); skips otherwise. Only 198.18.0.0/15,
# only inside namespaces created here and deleted on exit.
# Usage: sweep_vs_fping.sh ERSATZ_BINARY
#   SWEEP_LAB_KEEP=DIR  copy every raw output (NAME.{fping,ersatz}.{out,err,rc}) to DIR
set -uo pipefail
ersatz=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
command -v fping >/dev/null || { echo "SKIP: fping is not installed"; exit 77; }
# shellcheck source-path=SCRIPTDIR source=lab.sh
source "$here/lab.sh"
lab_up
tmp=$(mktemp -d)
bg_pids=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${SWEEP_LAB_KEEP:-}" ]; then
    mkdir -p "$SWEEP_LAB_KEEP" && cp -r "$tmp"/. "$SWEEP_LAB_KEEP"/
  fi
  lab_down
  rm -rf "$tmp"
}
trap cleanup EXIT

# The router's ICMP errors for its unreachable and prohibit routes pass two
# rate limiters that share one token bucket per destination (here always
# the client): ip_error's (net.ipv4.route.error_cost, 1 s a token, at most
# 5; global, not per namespace, so left alone) and icmp_send's
# (net.ipv4.icmp_ratelimit, 1 s, per namespace). With both, an error costs
# 2 s of tokens. icmp_ratelimit is switched off in this lab's router; what
# is left is one token a second, and a run that needs an error for K
# routed targets waits until K tokens have come back since the last run
# that could have spent them ($settle = K).
lab_in router sysctl -qw net.ipv4.icmp_ratelimit=0
settle=0
last_spender_ns=0
wait_for_tokens() {
  [ "$settle" -gt 0 ] || return 0
  local left_ms
  left_ms=$(((last_spender_ns + settle * 1000000000 + 100000000 - $(date +%s%N)) / 1000000))
  [ "$left_ms" -le 0 ] || sleep "$(printf '%d.%03d' $((left_ms / 1000)) $((left_ms % 1000)))"
}
spent_tokens() {
  if [ "$settle" -gt 0 ] || [[ " $* " == *" $LAB_UNREACHABLE_IP "* ]] || [[ " $* " == *" $LAB_PROHIBIT_IP "* ]]; then
    last_spender_ns=$(date +%s%N)
  fi
}

# sweep exists when `ersatz sweep --help` succeeds and talks about sweep
# (before it exists, CLI11 answers `sweep --help` with the top-level help).
have_sweep=0
if help=$("$ersatz" sweep --help 2>&1) && grep -q 'sweep' <<<"$help"; then
  have_sweep=1
fi

fails=0
passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# Times differ from run to run, and so do the counters of the -s block
# that depend on how many probes and ICMP errors there were; everything
# else must not.
normalise() {
  sed -E \
    -e 's/^\[[0-9]+\.[0-9]+\] /[T] /' \
    -e 's/ is alive \([-0-9.e+]+ ms\)$/ is alive (T ms)/' \
    -e 's/^([^ ]+) \([-0-9.e+]+ ms\)$/\1 (T ms)/' \
    -e 's/, [-0-9.e+]+ ms \([-0-9.e+]+ avg, /, T ms (T avg, /' \
    -e 's/ timed out \([-0-9.e+]+ avg, / timed out (T avg, /' \
    -e 's#min/avg/max = [-0-9.e+]+/[-0-9.e+]+/[-0-9.e+]+#min/avg/max = T#' \
    -e 's/ duplicate for \[([0-9]+)\], ([0-9]+) bytes, [-0-9.e+]+ ms/ duplicate for [\1], \2 bytes, T ms/' \
    -e 's/^ +[-0-9.e+]+ ms \((min|avg|max) round trip time\)$/ T ms (\1 round trip time)/' \
    -e 's/^ +[0-9.]+ sec \(elapsed real time\)$/ T sec (elapsed real time)/' \
    -e 's/^ +[0-9]+ (timeouts \(waiting for response\)|ICMP Echos sent|other ICMP received)$/ N \1/' |
    perl -pe 'if (/^\S+ +:(?: (?:[0-9][-0-9.e+]*|-))+$/) { s/ [0-9][-0-9.e+]*/ T/g }' |
    LC_ALL=C sort -u
}

# key NAME: NAME as a file name.
key() { printf '%s' "$1" | tr -c 'A-Za-z0-9' '_'; }

# Every run starts from the same kernel state in the client: no path MTU
# learnt (fping's raw socket depends on it) and no ARP resolution of the
# on-link nobody under way (one still running from an earlier run would
# answer this run's probes early, with that run's ICMP errors).
fresh_client() {
  lab_in client ip route flush cache
  lab_in client ip neigh del "$LAB_NOBODY_IP" dev c0 2>/dev/null || true
}

# run TOOL NAME ARGS...: TOOL is fping or ersatz; stdin comes from $stdin.
stdin=/dev/null
run() {
  local tool=$1 name=$2
  shift 2
  local base
  base="$tmp/$(key "$name").$tool"
  fresh_client
  wait_for_tokens
  if [ "$tool" = fping ]; then
    lab_in client timeout 60 fping "$@" <"$stdin" >"$base.out" 2>"$base.err"
  else
    lab_in client timeout 60 "$ersatz" sweep "$@" <"$stdin" >"$base.out" 2>"$base.err"
  fi
  echo $? >"$base.rc"
  spent_tokens "$@"
  normalise <"$base.out" >"$base.nout"
  normalise <"$base.err" >"$base.nerr"
}

# compare NAME ARGS...: fping then ersatz sweep with the same arguments.
compare() {
  local name=$1
  shift
  run fping "$name" "$@"
  [ "$have_sweep" -eq 1 ] || return 0
  run ersatz "$name" "$@"
  local f e want got what=""
  f="$tmp/$(key "$name").fping"
  e="$tmp/$(key "$name").ersatz"
  want=$(cat "$f.rc")
  got=$(cat "$e.rc")
  [ "$want" = "$got" ] || what="exit $got, fping $want; "
  diff -u "$f.nout" "$e.nout" >"$e.dout" || what="${what}stdout lines differ; "
  diff -u "$f.nerr" "$e.nerr" >"$e.derr" || what="${what}stderr lines differ; "
  if [ -z "$what" ]; then
    ok "$name (exit $got)"
  else
    bad "$name: ${what%; } (fping args: $*)"
    sed 's/^/    /' "$e.dout" "$e.derr"
  fi
}

# fping_says NAME out|err|rc TEXT: a line fping must print on this lab
# (after normalisation), or its exit code.
fping_says() {
  local name=$1 stream=$2 text=$3 f
  f="$tmp/$(key "$name").fping"
  if [ "$stream" = rc ]; then
    if [ "$(cat "$f.rc")" = "$text" ]; then ok "$name: fping exits $text"; else bad "$name: fping exits $(cat "$f.rc"), want $text"; fi
  elif grep -qxF -- "$text" "$f.n$stream"; then
    ok "$name: fping $stream has '$text'"
  else
    bad "$name: fping $stream lacks '$text'"
    sed 's/^/    /' "$f.n$stream"
  fi
}

alive=("$LAB_ROUTER_IP" "$LAB_PEER_IP" 198.19.0.9)
mixed=("${alive[@]}" "$LAB_UNREACHABLE_IP" "$LAB_PROHIBIT_IP" "$LAB_NOBODY_IP")
e_unreach="ICMP Host Unreachable from $LAB_ROUTER_IP for ICMP Echo sent to $LAB_UNREACHABLE_IP"
e_prohibit="ICMP Unreachable (Communication Administratively Prohibited) from $LAB_ROUTER_IP for ICMP Echo sent to $LAB_PROHIBIT_IP"
# The client's own kernel answers for the on-link host nobody owns once
# ARP gives up (3 probes, 1 s apart): from the client's address, one per
# queued probe, about 3 s after the first. fping's default retries (500 ms
# timeout, x1.5 backoff, 3 retries) last 4.1 s, so it prints them.
e_nobody="ICMP Host Unreachable from $LAB_CLIENT_IP for ICMP Echo sent to $LAB_NOBODY_IP"

[ "$have_sweep" -eq 1 ] || echo "note: $ersatz has no sweep subcommand yet: running fping's half only"

settle=2
compare mixed "${mixed[@]}"
fping_says mixed rc 1
fping_says mixed out "$LAB_PEER_IP is alive"
fping_says mixed out "$LAB_NOBODY_IP is unreachable"
fping_says mixed err "$e_unreach"
fping_says mixed err "$e_prohibit"
fping_says mixed err "$e_nobody"

compare "-a -t 200 -r 1" -a -t 200 -r 1 "${mixed[@]}"
fping_says "-a -t 200 -r 1" out "198.19.0.9"
fping_says "-a -t 200 -r 1" err "$e_prohibit"

compare "-u -r 0" -u -r 0 "${mixed[@]}"
fping_says "-u -r 0" out "$LAB_UNREACHABLE_IP"

settle=0
compare "-q -t 100 -r 1" -q -t 100 -r 1 "${mixed[@]}"
fping_says "-q -t 100 -r 1" rc 1

settle=1
compare "-e -r 0" -e -r 0 "${alive[@]}" "$LAB_UNREACHABLE_IP"
fping_says "-e -r 0" out "$LAB_ROUTER_IP is alive (T ms)"

settle=2
compare "-s" -s "${mixed[@]}"
fping_says "-s" err "       6 targets"
fping_says "-s" err "       3 ICMP Echo Replies received"
fping_says "-s" err " T ms (avg round trip time)"

compare "-c 3 -p 200" -c 3 -p 200 "${mixed[@]}"
fping_says "-c 3 -p 200" out "198.19.0.9   : [2], 64 bytes, T ms (T avg, 0% loss)"
fping_says "-c 3 -p 200" out "$LAB_NOBODY_IP  : [1], timed out (NaN avg, 100% loss)"
fping_says "-c 3 -p 200" err "$LAB_PEER_IP   : xmt/rcv/%loss = 3/3/0%, min/avg/max = T"

compare "-C 3 -p 200" -C 3 -p 200 "${mixed[@]}"
fping_says "-C 3 -p 200" err "$LAB_PROHIBIT_IP : - - -"
fping_says "-C 3 -p 200" err "$LAB_ROUTER_IP : T T T"

# fping's raw socket sends with DF (the kernel's default, IP_PMTUDISC_WANT):
# the router answers the first probe to the peer with "fragmentation
# needed", the client's kernel learns MTU 1280 and fragments the next one
# itself.
settle=0
# -t 100 -p 300: probe [0]'s timeout comes well before probe [1] leaves.
# With -p 200 alone both fall due at the same instant, and on a loaded
# machine fping sometimes handles [1]'s reply before [0]'s timeout.
compare "-c 2 -b 1400 through the MTU-1280 link" -c 2 -t 100 -p 300 -b 1400 "$LAB_ROUTER_IP" "$LAB_PEER_IP"
fping_says "-c 2 -b 1400 through the MTU-1280 link" out "$LAB_PEER_IP   : [0], timed out (NaN avg, 100% loss)"
fping_says "-c 2 -b 1400 through the MTU-1280 link" out "$LAB_PEER_IP   : [1], 1408 bytes, T ms (T avg, 50% loss)"
fping_says "-c 2 -b 1400 through the MTU-1280 link" err "ICMP Unreachable (Fragmentation Needed) from $LAB_ROUTER_IP for ICMP Echo sent to $LAB_PEER_IP"

compare "-g CIDR" -g 198.19.5.0/29
fping_says "-g CIDR" out "198.19.5.6 is alive"
fping_says "-g CIDR" rc 0

compare "-g START END" -g 198.19.5.1 198.19.5.9
fping_says "-g START END" out "198.19.5.9 is alive"

cat >"$tmp/targets" <<EOF
# lab targets
$LAB_ROUTER_IP

   198.19.0.3
198.19.0.4 everything after the first word is ignored
#198.19.0.5
   # an indented comment
	$LAB_UNREACHABLE_IP
EOF
settle=1
compare "-f FILE" -r 0 -f "$tmp/targets"
fping_says "-f FILE" out "198.19.0.4 is alive"
fping_says "-f FILE" out "$LAB_UNREACHABLE_IP is unreachable"

settle=0
printf '%s\n' "$LAB_PEER_IP" 198.19.0.7 >"$tmp/stdin"
stdin="$tmp/stdin"
compare "targets on stdin" -e
stdin=/dev/null
fping_says "targets on stdin" out "198.19.0.7 is alive (T ms)"

# `bad_name!` is not a valid host name: glibc refuses it without asking a
# resolver, so nothing leaves the lab.
compare "unknown host" "$LAB_ROUTER_IP" 'bad_name!'
fping_says "unknown host" err 'bad_name!: Name or service not known'
fping_says "unknown host" rc 2
compare "only an unknown host" 'bad_name!'
fping_says "only an unknown host" rc 2
compare "-q and an unknown host" -q "$LAB_ROUTER_IP" 'bad_name!'

# bad_args NAME PATTERN ARGS...: exit codes equal, nothing on stdout, and
# both stderrs non-empty and matching PATTERN (grep -E). The /33 case
# uses a lab prefix: were it accepted, nothing would leave the lab.
bad_args() {
  local name=$1 pattern=$2
  shift 2
  run fping "$name" "$@"
  local f e
  f="$tmp/$(key "$name").fping"
  e="$tmp/$(key "$name").ersatz"
  if [ "$(cat "$f.rc")" != 1 ] || [ -s "$f.out" ] || ! grep -qE -- "$pattern" "$f.err"; then
    bad "$name: fping exits $(cat "$f.rc"), stderr does not match /$pattern/ or stdout not empty"
    return
  fi
  [ "$have_sweep" -eq 1 ] || { ok "$name: fping exits 1 and says /$pattern/"; return; }
  run ersatz "$name" "$@"
  local what=""
  [ "$(cat "$e.rc")" = 1 ] || what="exit $(cat "$e.rc"), fping 1; "
  [ ! -s "$e.out" ] || what="${what}stdout not empty; "
  [ -s "$e.err" ] || what="${what}stderr empty; "
  grep -qE -- "$pattern" "$e.err" || what="${what}stderr does not match /$pattern/; "
  if [ -z "$what" ]; then
    ok "$name (exit 1, stderr: $(head -n1 "$e.err"))"
  else
    bad "$name: ${what%; }"
    sed 's/^/    /' "$e.out" "$e.err" | head -n 5
  fi
}
bad_args "bad -c 0" '-c|count' -c 0 "$LAB_ROUTER_IP"
bad_args "bad -c x" '-c|count' -c x "$LAB_ROUTER_IP"
bad_args "bad -t -1" '-t|timeout' -t -1 "$LAB_ROUTER_IP"
bad_args "bad -B 9" 'backoff|-B' -B 9 "$LAB_ROUTER_IP"
bad_args "bad -a -u" '(-a|\ba\b).*(-u|\bu\b)' -a -u "$LAB_ROUTER_IP"
bad_args "bad -c 2 -l" '-l|\bl\b' -c 2 -l "$LAB_ROUTER_IP"
bad_args "bad -g with 3 args" '-g|generate' -g 198.19.5.1 198.19.5.2 198.19.5.3
bad_args "bad -g /33" '33' -g 198.19.0.0/33
bad_args "bad -Z" 'Z' -Z "$LAB_ROUTER_IP"
bad_args "bad -b 70000" '70000' -b 70000 "$LAB_ROUTER_IP"

if [ "$have_sweep" -eq 1 ]; then
  # shards NAME SEED N: N sweeps at once, --shard I/N --seed SEED, over a /24.
  shards() {
    local name=$1 seed=$2 n=$3 i pids=() rc bad_rc="" k
    k="$tmp/$(key "$name")"
    for ((i = 0; i < n; i++)); do
      lab_in client timeout 60 "$ersatz" sweep --shard "$i/$n" --seed "$seed" -a -g 198.19.3.0/24 \
        </dev/null >"$k.$i.out" 2>"$k.$i.err" &
      pids+=("$!")
      bg_pids+=("$!")
    done
    for ((i = 0; i < n; i++)); do
      wait "${pids[$i]}"
      rc=$?
      [ "$rc" -eq 0 ] || bad_rc="$bad_rc shard $i exits $rc;"
    done
    local total counts="" empty=0
    total=$(cat "$k".*.out | wc -l)
    cat "$k".*.out | LC_ALL=C sort -u >"$k.union"
    seq 1 254 | sed 's/^/198.19.3./' | LC_ALL=C sort >"$k.want"
    for ((i = 0; i < n; i++)); do
      [ -s "$k.$i.out" ] || empty=$((empty + 1))
      counts="$counts $(wc -l <"$k.$i.out")"
    done
    if [ -n "$bad_rc" ]; then
      bad "$name:$bad_rc"
      cat "$k".*.err | head -n 5
    elif ! cmp -s "$k.union" "$k.want"; then
      bad "$name: the union is $(wc -l <"$k.union") lines, not 198.19.3.1-254"
      diff "$k.want" "$k.union" | head -n 5
    elif [ "$total" -ne 254 ]; then
      bad "$name: $total alive lines for 254 addresses: the shards overlap"
    elif [ "$empty" -ne 0 ]; then
      bad "$name: $empty of $n shards found nothing"
    else
      ok "$name: $n disjoint shards ($counts ), together 198.19.3.1-254"
    fi
  }
  shards "4 shards, seed 7" 7 4
  shards "4 shards, seed 8" 8 4
  if cmp -s "$tmp/$(key "4 shards, seed 7").0.out" "$tmp/$(key "4 shards, seed 8").0.out"; then
    echo "note: shard 0/4 holds the same addresses for seeds 7 and 8"
  fi
fi

echo "sweep_vs_fping: $passes passed, $fails failed"
[ "$fails" -eq 0 ] || exit 1
if [ "$have_sweep" -eq 0 ]; then
  echo "SKIP: $ersatz has no sweep subcommand: only fping's half was checked"
  exit 77
fi
exit 0
