#!/usr/bin/env bash
# capture_sample.sh OUT.pcap
#
# Builds a throw-away lab out of network namespaces and captures real
# kernel-generated frames into a single classic pcap file (microsecond
# timestamps, DLT_EN10MB). Used to (re)generate tests/data/sample.pcap.
#
# Topology (all addresses in 198.18.0.0/15, benchmark space, RFC 2544):
#
#   client                          router                          peer
#   c0 198.18.0.1/24  <---veth--->  r0 198.18.0.254/24
#                                   rp 198.18.1.254/24 <--veth--->  p0 198.18.1.2/24
#                                      (MTU 1280 on both ends of this link)
#   c1                <---veth--->  r1                              (802.1Q VID 42)
#   198.18.42.1/24                  198.18.42.254/24
#
#   router: ip_forward=1, unreachable 198.18.200.0/24, prohibit 198.18.201.0/24
#
# VLAN 42 on the c1<->r1 link is done one of two ways, picked at run time:
#   * "8021q": kernel VLAN subinterfaces c1.42 / r1.42 carry the addresses
#     (needs CONFIG_VLAN_8021Q);
#   * "tc-bpf": for kernels built without 8021q. The addresses sit on c1 / r1
#     and tiny tc (clsact, direct-action) eBPF programs call the kernel's
#     bpf_skb_vlan_push() on egress and bpf_skb_vlan_pop() on ingress (needs
#     clang with the bpf target, and tc from iproute2).
# Either way the kernel inserts the 802.1Q tag; on veth it is carried as
# offload metadata and libpcap writes it back into the captured bytes.
#
# Capture phase A: tcpdump on client c0 (untagged traffic).
# Capture phase B: tcpdump on client c1 (the tagged link).
# The two phases are sequential, so concatenating the files is a time-ordered
# merge.
#
# Nothing is sent outside the namespaces this script creates; every namespace
# is deleted on exit (trap), including on failure.
#
# Requires root, iproute2, iputils-ping, tcpdump (+ clang for the tc-bpf VLAN
# fallback).

set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT.pcap" >&2
    exit 2
fi
OUT=$1

for tool in ip ping tcpdump; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "must run as root" >&2; exit 1; }

SUFFIX="$$-${RANDOM}"
NS_C="ersatz-client-${SUFFIX}"
NS_R="ersatz-router-${SUFFIX}"
NS_P="ersatz-peer-${SUFFIX}"
WORK=$(mktemp -d /tmp/ersatz-capture.XXXXXX)
TCPDUMP_PID=""

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$TCPDUMP_PID" ]] && kill -0 "$TCPDUMP_PID" 2>/dev/null; then
        kill -INT "$TCPDUMP_PID" 2>/dev/null
        wait "$TCPDUMP_PID" 2>/dev/null
    fi
    # Deleting a namespace destroys its veths, qdiscs and tc programs too.
    for ns in "$NS_C" "$NS_R" "$NS_P"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------- namespaces
for ns in "$NS_C" "$NS_R" "$NS_P"; do
    ip netns add "$ns"
    # No IPv6: keeps router solicitations / MLD / DAD noise out of the capture.
    # Must be set before interfaces appear in the namespace.
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    ip -n "$ns" link set lo up
done

# Fixed, locally administered MACs so golden bytes are stable across runs.
MAC_C0=02:e5:00:00:00:01   MAC_R0=02:e5:00:00:00:fe
MAC_RP=02:e5:00:01:00:fe   MAC_P0=02:e5:00:01:00:02
MAC_C1=02:e5:00:2a:00:01   MAC_R1=02:e5:00:2a:00:fe

# veth pairs are created directly inside the namespaces: nothing ever
# appears in the host namespace.
ip -n "$NS_C" link add c0 address "$MAC_C0" type veth peer name r0 netns "$NS_R" address "$MAC_R0"
ip -n "$NS_R" link add rp address "$MAC_RP" type veth peer name p0 netns "$NS_P" address "$MAC_P0"
ip -n "$NS_C" link add c1 address "$MAC_C1" type veth peer name r1 netns "$NS_R" address "$MAC_R1"

ip -n "$NS_R" link set rp mtu 1280
ip -n "$NS_P" link set p0 mtu 1280

# ------------------------------------------------------------------ VLAN 42
VID=42
if ip -n "$NS_C" link add link c1 name c1.42 type vlan id "$VID" 2>/dev/null; then
    VLAN_MODE=8021q
    ip -n "$NS_R" link add link r1 name r1.42 type vlan id "$VID"
    VLAN_C=c1.42 VLAN_R=r1.42
elif CLANG=$(command -v clang || command -v clang-14) && command -v tc >/dev/null; then
    VLAN_MODE=tc-bpf
    VLAN_C=c1 VLAN_R=r1
    cat > "$WORK/vlan.c" <<'BPF_SRC'
/* tc direct-action classifiers: push/pop one 802.1Q tag (VID from -DVID). */
#define SEC(n) __attribute__((section(n), used))
struct __sk_buff {  /* leading fields of the UAPI struct, same offsets */
    unsigned int len, pkt_type, mark, queue_mapping, protocol,
                 vlan_present, vlan_tci, vlan_proto;
};
static long (*bpf_skb_vlan_push)(void *skb, unsigned short proto,
                                 unsigned short tci) = (void *)18;
static long (*bpf_skb_vlan_pop)(void *skb) = (void *)19;
#ifdef POP
SEC("tc") int vlan_pop(struct __sk_buff *skb)
{
    if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == VID)
        bpf_skb_vlan_pop(skb);
    return 0; /* TC_ACT_OK */
}
#else
SEC("tc") int vlan_push(struct __sk_buff *skb)
{
    bpf_skb_vlan_push(skb, __builtin_bswap16(0x8100), VID);
    return 0; /* TC_ACT_OK */
}
#endif
char _license[] SEC("license") = "GPL";
BPF_SRC
    "$CLANG" -O2 -target bpf -DVID="$VID"       -c "$WORK/vlan.c" -o "$WORK/push.o"
    "$CLANG" -O2 -target bpf -DVID="$VID" -DPOP -c "$WORK/vlan.c" -o "$WORK/pop.o"
    for pair in "$NS_C:c1" "$NS_R:r1"; do
        ns=${pair%%:*}
        dev=${pair#*:}
        tc -n "$ns" qdisc add dev "$dev" clsact
        tc -n "$ns" filter add dev "$dev" egress  bpf da obj "$WORK/push.o" sec tc
        tc -n "$ns" filter add dev "$dev" ingress bpf da obj "$WORK/pop.o"  sec tc
    done
else
    echo "kernel has no 8021q and clang/tc are missing for the tc-bpf fallback" >&2
    exit 1
fi
echo "vlan mode: $VLAN_MODE" >&2

ip -n "$NS_C" addr add 198.18.0.1/24    dev c0
ip -n "$NS_C" addr add 198.18.42.1/24   dev "$VLAN_C"
ip -n "$NS_R" addr add 198.18.0.254/24  dev r0
ip -n "$NS_R" addr add 198.18.1.254/24  dev rp
ip -n "$NS_R" addr add 198.18.42.254/24 dev "$VLAN_R"
ip -n "$NS_P" addr add 198.18.1.2/24    dev p0

for dev in c0 c1 "$VLAN_C"; do ip -n "$NS_C" link set "$dev" up; done
for dev in r0 rp r1 "$VLAN_R"; do ip -n "$NS_R" link set "$dev" up; done
ip -n "$NS_P" link set p0 up

ip -n "$NS_C" route add default via 198.18.0.254 dev c0
ip -n "$NS_P" route add default via 198.18.1.254 dev p0

nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1
# ICMP rate limiting is deliberately left at the kernel defaults. Do NOT set
# net.ipv4.icmp_ratelimit=0: icmp_send()'s limiter then clamps the per-peer
# token bucket to 0, and ip_error() (which emits the errors for unreachable /
# prohibit routes) shares that bucket with a cost of 1 s, so the next
# route-error ICMP within a second would be silently suppressed. With the
# defaults the fresh peer starts with a full bucket, enough for the few errors
# below.
ip -n "$NS_R" route add unreachable 198.18.200.0/24
ip -n "$NS_R" route add prohibit 198.18.201.0/24

# Let links settle, then start from empty neighbour tables so ARP shows up.
sleep 1
for ns in "$NS_C" "$NS_R" "$NS_P"; do ip -n "$ns" neigh flush all; done

# ------------------------------------------------------------------ capture
start_capture() { # ns dev file
    local ns=$1 dev=$2 file=$3 i
    : > "$WORK/tcpdump.err"
    # -Z root: keep write access to our temp dir (Debian drops to 'tcpdump').
    ip netns exec "$ns" tcpdump -U -n -i "$dev" -s 262144 -Z root -w "$file" \
        2> "$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    for i in $(seq 1 50); do
        grep -q "listening on" "$WORK/tcpdump.err" && return 0
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/tcpdump.err" >&2
    echo "tcpdump did not start on $ns/$dev" >&2
    return 1
}

stop_capture() {
    sleep 1                         # let the last replies arrive and be written
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    TCPDUMP_PID=""
    cat "$WORK/tcpdump.err" >&2
}

cping() { nsx "$NS_C" ping -n -W 1 "$@"; }

# Phase A: untagged traffic on c0.
start_capture "$NS_C" c0 "$WORK/a.pcap"
cping -c 2 198.18.0.254                          # ARP req/reply + 2x echo
cping -c 1 198.18.1.2                            # forwarded, reply TTL 63
cping -c 1 -t 1 198.18.1.2              || true  # ICMP time exceeded
cping -c 1 198.18.200.1                 || true  # 'unreachable' route
cping -c 1 198.18.201.1                 || true  # 'prohibit' route
# Fragmented request (client MTU 1500) and fragmented reply (peer MTU 1280).
# Done before the -M do probe so no cached PMTU shrinks the request fragments.
cping -c 1 -s 3000 198.18.1.2
cping -c 1 -s 1400 -M do 198.18.1.2     || true  # frag needed, mtu 1280
cping -c 1 -R 198.18.0.254                       # IP record route option
cping -c 1 198.18.0.77                  || true  # nobody home: ARP unanswered
sleep 3                                          # remaining ARP retries
stop_capture

# Phase B: 802.1Q traffic on c1.
start_capture "$NS_C" c1 "$WORK/b.pcap"
cping -c 1 198.18.42.254                         # tagged ARP + tagged echo
stop_capture

# ---------------------------------------------------------------- merge
# Both files come from the same tcpdump with the same snaplen/linktype, so the
# 24-byte global headers are identical and concatenation is a valid merge.
if ! cmp -s -n 24 "$WORK/a.pcap" "$WORK/b.pcap"; then
    echo "pcap headers differ; refusing to concatenate" >&2
    exit 1
fi
{ cat "$WORK/a.pcap"; tail -c +25 "$WORK/b.pcap"; } > "$WORK/out.pcap"

# ---------------------------------------------------------------- check
# Every frame class the tests rely on must be present; fail loudly otherwise.
missing=0
check() { # name min-count filter
    local name=$1 min=$2 filter=$3 n
    n=$(tcpdump -nn -r "$WORK/out.pcap" "$filter" 2>/dev/null | wc -l)
    printf '  %-28s %2d\n' "$name" "$n" >&2
    if (( n < min )); then
        echo "MISSING: $name (filter: $filter)" >&2
        missing=1
    fi
}
echo "frame classes:" >&2
check "arp request (broadcast)"   4 'arp[6:2] = 1 and ether broadcast'
check "arp reply"                 1 'arp[6:2] = 2'
check "icmp echo request"         6 'icmp[icmptype] = icmp-echo'
check "icmp echo reply"           5 'icmp[icmptype] = icmp-echoreply'
check "reply ttl 63 (forwarded)"  2 'icmp[icmptype] = icmp-echoreply and ip[8] = 63'
check "time exceeded"             1 'icmp[icmptype] = icmp-timxceed'
check "unreach host (route)"      1 'icmp[icmptype] = icmp-unreach and icmp[icmpcode] = 1'
check "unreach admin prohibited"  1 'icmp[icmptype] = icmp-unreach and icmp[icmpcode] = 13'
check "unreach frag needed"       1 'icmp[icmptype] = icmp-unreach and icmp[icmpcode] = 4'
check "first fragment"            2 'ip[6] & 0x20 != 0 and ip[6:2] & 0x1fff = 0'
check "non-first fragment"        4 'ip[6:2] & 0x1fff != 0'
check "ip options (record route)" 2 'ip[0] & 0x0f > 5 and (ip[20] = 7 or ip[21] = 7)'
check "802.1Q vid 42 arp"         2 'vlan 42 and arp'
check "802.1Q vid 42 icmp"        2 'vlan 42 and icmp'
total=$(tcpdump -nn -r "$WORK/out.pcap" 2>/dev/null | wc -l)
echo "  total frames: $total" >&2
(( missing == 0 )) || exit 1

mv "$WORK/out.pcap" "$OUT"
echo "wrote $OUT" >&2
