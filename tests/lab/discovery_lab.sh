#!/usr/bin/env bash
# Lab oracle for host discovery: builds two throw-away network namespaces and
# checks `ersatz interfaces` and `ersatz route` against iproute2 (`ip -j
# addr`, `ip -j route get`, `ip -j route show`) run in the same namespace.
# Discovery is read-only and no traffic is sent; every address is in
# 198.18.0.0/15 (RFC 2544 benchmark space) and every link is created inside
# a namespace of this script, which the EXIT trap deletes, failure or not.
#
# Lab A (no default route):
#   lo
#   d0   stub, up,   198.18.0.1/24 198.18.0.2/24 (secondary) 198.18.10.1/24,
#                    an alias with quotes and a backslash
#   d1   stub, DOWN, 198.18.20.1/24 (so no connected route)
#   d2   stub, up,   no address
#   va0  veth, up, mtu 1280, 198.18.1.1/24 198.18.11.1/24   (peer va1 up)
#   vb0  veth, up, 198.18.2.1/24               (peer vb1 up, a port of bridge br0)
#   vc0  veth, up, 198.18.3.1/24                             (peer vc1 up)
#   ve0  veth, up, 198.18.40.1/24, peer ve1 DOWN: no carrier, LOWERLAYERDOWN
#   t0   tun, no MAC, down
# A "stub" is a dummy link, or an ifb one where the kernel has no dummy
# driver (both are Ethernet-like links that go nowhere).
#
#   198.18.0.0/16     via 198.18.1.254  metric 100   (A: the wide one)
#   198.18.4.0/24     via 198.18.2.254  metric 50    (B)
#   198.18.4.0/24     via 198.18.3.254  metric 10    (C: same /24, wins)
#   198.18.4.77       via 198.18.2.254  metric 200   (host route: wins anyway)
#   198.18.5.0/24     dev d0                         (on-link, no src)
#   198.18.10.128/25  dev d0                         (on-link; src is NOT 198.18.10.1)
#   198.18.6.0/24     via 198.18.1.254  src 198.18.10.1
#   198.18.60.0/24    via 198.18.11.254              (src from the gateway's subnet)
#   198.18.70.0/24    dev d2                         (src borrowed from another link)
#   unreachable 198.18.200.0/24, prohibit 198.18.201.0/24, blackhole 198.18.202.0/24
#
# Lab B (default routes): vd0 veth 198.18.30.1/24, d0 stub 198.18.31.1/24,
#   default via 198.18.30.254 dev vd0 metric 5, default via 198.18.31.254
#   dev d0 metric 100; then the first is deleted, then an unreachable
#   default with metric 1 is added.
#
# Needs root, iproute2 and jq; exits 77 (skip) otherwise.
# Usage: discovery_lab.sh ERSATZ_BINARY
set -euo pipefail
ersatz=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
for tool in ip jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done

suffix="$$-${RANDOM}"
NS_A="ersatz-disc-a-${suffix}"
NS_B="ersatz-disc-b-${suffix}"
tmp=$(mktemp -d /tmp/ersatz-discovery.XXXXXX)
cleanup() {
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
same() {  # same FILE_EXPECTED FILE_ACTUAL: diff shown on failure
  diff -u "$1" "$2"
}

# --- lab A -------------------------------------------------------------------
ip netns add "$NS_A"
A() { ip -n "$NS_A" "$@"; }
A link set lo up
stub_kind=dummy
A link add d0 type dummy 2>/dev/null || stub_kind=ifb
[ "$stub_kind" = dummy ] || A link add d0 type ifb
A link add d1 type "$stub_kind"
A link add d2 type "$stub_kind"
echo "stub links are $stub_kind links"
A link add va0 type veth peer name va1
A link add vb0 type veth peer name vb1
A link add vc0 type veth peer name vc1
A link add ve0 type veth peer name ve1
A link add br0 type bridge
A link set vb1 master br0
A tuntap add mode tun name t0
A link set d0 alias 'lab "zero" \ uplink'
A link set va0 mtu 1280
A link set va1 mtu 1280
for l in d0 d2 va0 va1 vb0 vb1 br0 vc0 vc1 ve0; do A link set "$l" up; done
A addr add 198.18.0.1/24 dev d0
A addr add 198.18.0.2/24 dev d0
A addr add 198.18.10.1/24 dev d0
A addr add 198.18.20.1/24 dev d1
A addr add 198.18.1.1/24 dev va0
A addr add 198.18.11.1/24 dev va0
A addr add 198.18.2.1/24 dev vb0
A addr add 198.18.3.1/24 dev vc0
A addr add 198.18.40.1/24 dev ve0
A route add 198.18.0.0/16 via 198.18.1.254 dev va0 metric 100
A route add 198.18.4.0/24 via 198.18.2.254 dev vb0 metric 50
A route add 198.18.4.0/24 via 198.18.3.254 dev vc0 metric 10
A route add 198.18.4.77/32 via 198.18.2.254 dev vb0 metric 200
A route add 198.18.5.0/24 dev d0
A route add 198.18.10.128/25 dev d0
A route add 198.18.6.0/24 via 198.18.1.254 dev va0 src 198.18.10.1
A route add 198.18.60.0/24 via 198.18.11.254 dev va0
A route add 198.18.70.0/24 dev d2
A route add unreachable 198.18.200.0/24
A route add prohibit 198.18.201.0/24
A route add blackhole 198.18.202.0/24

in_ns() {  # in_ns NS COMMAND...
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# Interfaces: ersatz's JSON against `ip -j -d addr`, field by field.
# iproute2 adds M-DOWN to the flags of a link whose lower link (a veth's
# peer) is down; that is its own decoration, not an IFF_* flag.
ip_interfaces() {  # ip_interfaces NS: ip's view, in the shape ersatz's JSON has
  in_ns "$1" ip -j -d addr show | jq -S '[.[] | {
      index: .ifindex, name: .ifname, mtu: .mtu, oper_state: .operstate,
      mac: (.address // "00:00:00:00:00:00"), flags: (.flags - ["M-DOWN"]),
      kind: (.linkinfo.info_kind // .link_type),
      ipv4: [.addr_info[] | select(.family == "inet") | {address: .local, prefix_len: .prefixlen}],
      capture_device: .ifname }]'
}
compare_interfaces() {  # compare_interfaces NS LABEL
  local ns=$1 label=$2 try
  # A link's state may still be settling (a bridge takes its carrier from a
  # port a moment after both are up): ersatz's view is compared with ip's
  # only when ip saw the same before and after it, at most 10 tries.
  for try in 1 2 3 4 5 6 7 8 9 10; do
    ip_interfaces "$ns" >"$tmp/ip-$label.json"
    in_ns "$ns" "$ersatz" interfaces --json >"$tmp/ersatz-$label.raw" || echo "ersatz interfaces --json failed"
    ip_interfaces "$ns" >"$tmp/ip-$label.after"
    cmp -s "$tmp/ip-$label.json" "$tmp/ip-$label.after" && break
    echo "  $label: the links changed while they were read (try $try); again"
    sleep 0.2
  done
  jq -S '[.[] | {index, name, mtu, oper_state, mac, flags, kind, ipv4, capture_device}]' \
    "$tmp/ersatz-$label.raw" >"$tmp/ersatz-$label.json" || true
  check "$label: interfaces --json matches ip -j -d addr (index, name, kind, MAC, MTU, state, flags, IPv4, capture device)" \
    same "$tmp/ip-$label.json" "$tmp/ersatz-$label.json"
}
compare_interfaces "$NS_A" A

jqa() { jq -r "$1" "$tmp/ersatz-A.raw"; }
check "A: the alias is the description, escaped in JSON" \
  test "$(jqa '.[] | select(.name == "d0") | .description')" = 'lab "zero" \ uplink'
check "A: a veth without alias is described by its driver" \
  test "$(jqa '.[] | select(.name == "vb0") | .description')" = veth
check "A: a stub ($stub_kind) link without alias is described by its driver" \
  test "$(jqa '.[] | select(.name == "d1") | .description')" = "$stub_kind"
check "A: kinds from IFLA_INFO_KIND, else the link type" \
  test "$(jqa '[.[] | select(.name | test("^(lo|d0|va0|br0|t0)$")) | .kind] | join(" ")')" \
  = "loopback $stub_kind veth bridge tun"
check "A: a tun link has no MAC" \
  test "$(jqa '.[] | select(.name == "t0") | .mac')" = 00:00:00:00:00:00
check "A: d1 is administratively down" \
  test "$(jqa '.[] | select(.name == "d1") | "\(.admin_up) \(.oper_state)"')" = "false DOWN"
check "A: ve0 has no carrier" \
  test "$(jqa '.[] | select(.name == "ve0") | "\(.oper_state) \(.flags[0])"')" = "LOWERLAYERDOWN NO-CARRIER"
check "A: d0 lists its three addresses in the kernel's order" \
  test "$(jqa '[.[] | select(.name == "d0") | .ipv4[] | "\(.address)/\(.prefix_len)"] | join(" ")')" \
  = "198.18.0.1/24 198.18.10.1/24 198.18.0.2/24"
check "A: no default route, so no interface is the default" \
  test "$(jqa '[.[] | select(.default)] | length')" = 0
in_ns "$NS_A" "$ersatz" interfaces >"$tmp/A-interfaces.txt" || true
check "A: text listing, a header and one row per interface, none starred" \
  test "$(grep -c '^ ' "$tmp/A-interfaces.txt")" -eq "$(($(jqa 'length') + 1))"

# Routes: for each destination, ersatz against `ip -j route get` (out
# device, gateway, source) and against the table itself (the matched
# route's prefix, gateway, device and metric exist as one route).
compare_route() {  # compare_route NS LABEL DEST
  local ns=$1 label=$2 dest=$3 out ipj
  out="$tmp/route-$label-$dest.json"
  if ! in_ns "$ns" "$ersatz" route "$dest" --json >"$out" 2>"$tmp/err"; then
    echo "FAIL $label: ersatz route $dest failed: $(cat "$tmp/err")"
    fails=$((fails + 1))
    return
  fi
  ipj=$(in_ns "$ns" ip -j route get "$dest")
  local want got
  want=$(jq -r '.[0] | "dev=\(.dev) gw=\(.gateway // "on-link") src=\(.prefsrc)"' <<<"$ipj")
  got=$(jq -r '"dev=\(.interface.name) gw=\(.route.gateway // "on-link") src=\(.source)"' "$out")
  check "$label: route $dest: $got" test "$want" = "$got"
  # The matched route, as `ip route show` lists it (it omits metric 0 and
  # the /32 of host routes, and calls 0.0.0.0/0 default).
  local prefix metric gw dev
  read -r prefix metric gw dev < <(jq -r '[.route.prefix, .route.metric,
      (.route.gateway // "-"), .interface.name] | @tsv' "$out")
  local found
  found=$(in_ns "$ns" ip -j route show table main | jq --arg p "$prefix" --argjson m "$metric" \
    --arg g "$gw" --arg d "$dev" '[.[] | select(
        (if .dst == "default" then "0.0.0.0/0" elif (.dst | contains("/")) then .dst
         else .dst + "/32" end) == $p
        and (.metric // 0) == $m and (.gateway // "-") == $g and .dev == $d)] | length')
  check "$label: route $dest: matched $prefix via $gw dev $dev metric $metric is in the table" \
    test "$found" = 1
  # The chain carries on to the interface as `ip link` knows it.
  local link
  link=$(in_ns "$ns" ip -j link show dev "$dev" | jq -r '.[0] | "\(.ifindex) \(.address)"')
  check "$label: route $dest: index, MAC and capture device of $dev" \
    test "$link $dev" = "$(jq -r '"\(.interface.index) \(.interface.mac) \(.interface.capture_device)"' "$out")"
  # The human form starts with `ip route get`'s own line (less uid and cache).
  local first ipfirst
  first=$(in_ns "$ns" "$ersatz" route "$dest" | head -n 1) || true
  ipfirst=$(in_ns "$ns" ip route get "$dest" | head -n 1 | sed -e 's/ uid [0-9]*//' -e 's/ *$//')
  check "$label: route $dest: first line reads like ip route get" test "$first" = "$ipfirst"
}

for dest in 198.18.4.7 198.18.4.77 198.18.9.9 198.18.0.9 198.18.1.77 198.18.11.5 \
  198.18.5.5 198.18.10.200 198.18.6.6 198.18.60.1 198.18.70.1 198.18.40.5 198.18.20.5; do
  compare_route "$NS_A" A "$dest"
done

route_field() {  # route_field LABEL DEST JQ
  jq -r "$3" "$tmp/route-$1-$2.json"
}
check "A: 198.18.4.7: the /24 with metric 10 beats metric 50 and the /16" \
  test "$(route_field A 198.18.4.7 '"\(.route.prefix) \(.route.metric) \(.interface.name)"')" \
  = "198.18.4.0/24 10 vc0"
check "A: 198.18.4.77: the /32 wins despite metric 200" \
  test "$(route_field A 198.18.4.77 '"\(.route.prefix) \(.route.metric)"')" = "198.18.4.77/32 200"
check "A: 198.18.9.9: only the /16 holds it" \
  test "$(route_field A 198.18.9.9 '"\(.route.prefix) \(.route.metric)"')" = "198.18.0.0/16 100"
check "A: 198.18.10.200: on-link, next hop is the destination" \
  test "$(route_field A 198.18.10.200 '"\(.route.on_link) \(.next_hop) \(.source)"')" \
  = "true 198.18.10.200 198.18.0.1"
check "A: 198.18.6.6: the route's preferred source" \
  test "$(route_field A 198.18.6.6 '"\(.route.preferred_source) \(.source)"')" \
  = "198.18.10.1 198.18.10.1"
check "A: 198.18.0.9 is not this host's address, 198.18.0.1 is" \
  test "$(route_field A 198.18.0.9 .own_address)" = false
check "A: own address flagged" \
  test "$(in_ns "$NS_A" "$ersatz" route 198.18.0.1 --json | jq -r .own_address)" = true

expect_fail() {  # expect_fail NS LABEL DEST|"" MESSAGE_REGEX IP_ERROR_REGEX
  local ns=$1 label=$2 dest=$3 msg=$4 iperr=$5 rc=0
  in_ns "$ns" "$ersatz" route ${dest:+"$dest"} >"$tmp/out" 2>"$tmp/err" || rc=$?
  check "$label: route ${dest:-(no DEST)}: exit 1" test "$rc" = 1
  check "$label: route ${dest:-(no DEST)}: one line: $(cat "$tmp/err")" \
    test "$(wc -l <"$tmp/err")" = 1 -a ! -s "$tmp/out"
  check "$label: route ${dest:-(no DEST)}: says /$msg/" grep -Eq "$msg" "$tmp/err"
  if [ -n "$dest" ]; then
    check "$label: ip route get $dest fails too, with /$iperr/" \
      bash -c "! ip netns exec '$ns' ip route get '$dest' 2>&1 | grep -Eq '^$dest' && \
               ip netns exec '$ns' ip route get '$dest' 2>&1 | grep -Eq '$iperr'"
  fi
}
expect_fail "$NS_A" A "" "^ersatz: no default route in the main table$" ""
expect_fail "$NS_A" A 198.19.1.1 "^ersatz: 198.19.1.1: no route .*Network is unreachable" \
  "Network is unreachable"
expect_fail "$NS_A" A 198.18.200.1 \
  "^ersatz: 198.18.200.1: unreachable route 198.18.200.0/24 matched \(No route to host\)$" \
  "No route to host"
expect_fail "$NS_A" A 198.18.201.1 \
  "^ersatz: 198.18.201.1: prohibit route 198.18.201.0/24 matched \(Permission denied\)$" \
  "Permission denied"
expect_fail "$NS_A" A 198.18.202.1 "^ersatz: 198.18.202.1: blackhole route 198.18.202.0/24 matched" \
  "Invalid argument"

for bad in 300.1.2.3 198.18.1 "198.18.1.1.1" "-x"; do
  rc=0
  in_ns "$NS_A" "$ersatz" route -- "$bad" >/dev/null 2>"$tmp/err" || rc=$?
  check "A: route '$bad': usage error, exit 2" test "$rc" = 2
done

# --- lab B -------------------------------------------------------------------
ip netns add "$NS_B"
B() { ip -n "$NS_B" "$@"; }
B link set lo up
B link add vd0 type veth peer name vd1
B link add d0 type "$stub_kind"
for l in vd0 vd1 d0; do B link set "$l" up; done
B addr add 198.18.30.1/24 dev vd0
B addr add 198.18.31.1/24 dev d0
B route add default via 198.18.30.254 dev vd0 metric 5
B route add default via 198.18.31.254 dev d0 metric 100

compare_interfaces "$NS_B" B
check "B: exactly one default interface, vd0" \
  test "$(jq -r '[.[] | select(.default) | .name] | join(",")' "$tmp/ersatz-B.raw")" = vd0
in_ns "$NS_B" "$ersatz" interfaces >"$tmp/B-interfaces.txt" || true
check "B: the text listing stars vd0 alone" \
  test "$(grep '^\*' "$tmp/B-interfaces.txt" | awk '{print $3}')" = vd0
compare_route "$NS_B" B 198.18.99.9
compare_route "$NS_B" B 198.18.31.7

rc=0
in_ns "$NS_B" "$ersatz" route --json >"$tmp/default.json" || rc=$?
check "B: route (no DEST): exit 0" test "$rc" = 0
check "B: route (no DEST): the metric-5 default via vd0" \
  test "$(jq -r '"\(.default) \(.route.prefix) \(.route.gateway) \(.route.metric) \(.interface.name) \(.source)"' "$tmp/default.json")" \
  = "true 0.0.0.0/0 198.18.30.254 5 vd0 198.18.30.1"
check "B: route (no DEST), text: a 'default via' line" \
  test "$(in_ns "$NS_B" "$ersatz" route | head -n 1)" = "default via 198.18.30.254 dev vd0 src 198.18.30.1"

B route del default via 198.18.30.254 dev vd0 metric 5
check "B: with the metric-5 default gone, d0 is the default" \
  test "$(in_ns "$NS_B" "$ersatz" interfaces --json | jq -r '[.[] | select(.default) | .name] | join(",")')" = d0
compare_route "$NS_B" B 198.18.99.8

B route add unreachable default metric 1
expect_fail "$NS_B" B "" "^ersatz: default: unreachable route 0.0.0.0/0 matched \(No route to host\)$" ""
expect_fail "$NS_B" B 198.18.99.7 "^ersatz: 198.18.99.7: unreachable route 0.0.0.0/0 matched" \
  "No route to host"
check "B: an unreachable default marks no interface" \
  test "$(in_ns "$NS_B" "$ersatz" interfaces --json | jq -r '[.[] | select(.default)] | length')" = 0

# Without libnl (its file hidden by /dev/null in a mount namespace of this
# run's own): discovery says what to install, in one line; what does not
# need discovery still runs, since libnl is loaded only when it is used.
libnl=$(ldconfig -p | awk '/libnl-route-3\.so\.200 .*x86-64/ && !p { p = $NF } END { print p }')
if [ -n "$libnl" ] && command -v unshare >/dev/null; then
  hide=(unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$libnl")
  rc=0
  "${hide[@]}" ip netns exec "$NS_B" "$ersatz" interfaces >/dev/null 2>"$tmp/nolibnl.err" || rc=$?
  check "no libnl: interfaces exits 1" test "$rc" = 1
  check "no libnl: one line naming the package" test "$(cat "$tmp/nolibnl.err")" = \
    "ersatz: reading interfaces: libnl-route-3 is not installed (apt install libnl-route-3-200)"
  check "no libnl: --version still runs" \
    test "$("${hide[@]}" "$ersatz" --version)" = "$("$ersatz" --version)"
else
  echo "skip no-libnl checks: libnl-route-3.so.200 not in ld.so's cache, or no unshare"
fi

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all discovery lab checks passed"
