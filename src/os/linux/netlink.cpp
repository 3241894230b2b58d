// Linux discovery: interfaces and IPv4 routes through rtnetlink, read with
// libnl-route-3 (RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE dumps), which is
// loaded at run time. Nothing here needs privileges: dumps are open to any
// process in the namespace, and so is ETHTOOL_GDRVINFO.
// <net/if.h> must come before <linux/if.h> (the uapi header steps aside
// for glibc's definitions then; include/uapi/linux/libc-compat.h).
#include <net/if.h>

#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <netlink/utils.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ersatz/base/shared_library.hpp"
#include "ersatz/os/discovery.hpp"

namespace ersatz::os {
namespace {

// --- libnl, loaded at run time -----------------------------------------------

/// libnl-route-3 is loaded the first time discovery runs, not when ersatz
/// starts: --version, dump -r and a capture on a named interface never need
/// it, and linking it would cost every run its loading and its constructors
/// (which register cache operations and read /etc/libnl/classid). The
/// headers still declare every entry point, so each pointer has the
/// function's own type. libnl-route-3 brings libnl-3, whose nl_* functions
/// dlsym finds through it.
#define ERSATZ_LIBNL_FUNCTIONS(X) \
  X(nl_geterror)                  \
  X(nl_socket_alloc)              \
  X(nl_socket_free)               \
  X(nl_connect)                   \
  X(nl_cache_free)                \
  X(nl_cache_get_first)           \
  X(nl_cache_get_next)            \
  X(nl_addr_get_family)           \
  X(nl_addr_get_len)              \
  X(nl_addr_get_binary_addr)      \
  X(nl_addr_get_prefixlen)        \
  X(nl_llproto2str)               \
  X(rtnl_link_alloc_cache)        \
  X(rtnl_addr_alloc_cache)        \
  X(rtnl_route_alloc_cache)       \
  X(rtnl_link_get_type)           \
  X(rtnl_link_get_arptype)        \
  X(rtnl_link_get_ifindex)        \
  X(rtnl_link_get_name)           \
  X(rtnl_link_get_addr)           \
  X(rtnl_link_get_mtu)            \
  X(rtnl_link_get_operstate)      \
  X(rtnl_link_get_flags)          \
  X(rtnl_link_get_ifalias)        \
  X(rtnl_addr_get_family)         \
  X(rtnl_addr_get_local)          \
  X(rtnl_addr_get_ifindex)        \
  X(rtnl_addr_get_prefixlen)      \
  X(rtnl_route_get_family)        \
  X(rtnl_route_get_table)         \
  X(rtnl_route_get_flags)         \
  X(rtnl_route_get_tos)           \
  X(rtnl_route_get_dst)           \
  X(rtnl_route_get_priority)      \
  X(rtnl_route_get_pref_src)      \
  X(rtnl_route_get_type)          \
  X(rtnl_route_get_nnexthops)     \
  X(rtnl_route_nexthop_n)         \
  X(rtnl_route_nh_get_flags)      \
  X(rtnl_route_nh_get_gateway)    \
  X(rtnl_route_nh_get_via)        \
  X(rtnl_route_nh_get_ifindex)

struct Libnl {
#define ERSATZ_LIBNL_MEMBER(f) decltype(&::f) f = nullptr;
  ERSATZ_LIBNL_FUNCTIONS(ERSATZ_LIBNL_MEMBER)
#undef ERSATZ_LIBNL_MEMBER
  SharedLibrary library;
};

/// The one line `ersatz interfaces`, `route` and `ping` print without it.
class LibnlCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "libnl"; }
  std::string message(int /*ev*/) const override {
    return "libnl-route-3 is not installed (apt install libnl-route-3-200)";
  }
};

const std::error_category& libnl_category() noexcept {
  static const LibnlCategory category;
  return category;
}

/// libnl-route-3, loaded once per process by SONAME (the version whose
/// headers ersatz is built with); nullptr, remembered, when it cannot be.
const Libnl* libnl_table() {
  static const Libnl* const loaded = []() -> const Libnl* {
    auto lib = SharedLibrary::open("libnl-route-3.so.200");
    if (!lib) return nullptr;
    auto nl = std::make_unique<Libnl>();
    bool ok = true;
#define ERSATZ_LIBNL_BIND(f) ok = lib->bind(#f, nl->f) && ok;
    ERSATZ_LIBNL_FUNCTIONS(ERSATZ_LIBNL_BIND)
#undef ERSATZ_LIBNL_BIND
    if (!ok) return nullptr;
    nl->library = std::move(*lib);
    // Kept for the life of the process: caches and their objects point
    // into the library.
    return nl.release();
  }();
  return loaded;
}

Result<void> load_libnl() {
  if (libnl_table() == nullptr) return tl::unexpected(std::error_code(1, libnl_category()));
  return {};
}

/// The table, once load_libnl() has succeeded: list_interfaces() and
/// list_routes() load it before anything below calls through it.
const Libnl& nl() noexcept { return *libnl_table(); }

// --- libnl errors as std::error_code ---------------------------------------

/// libnl reports failures as negative NLE_* codes (netlink/errno.h), its own
/// numbering rather than errno; they keep that identity here and map to
/// std::errc conditions where one fits, so callers can compare portably.
class NetlinkCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "netlink"; }
  std::string message(int ev) const override { return nl().nl_geterror(ev); }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (ev) {
      case NLE_INTR: return std::errc::interrupted;
      case NLE_BAD_SOCK: return std::errc::bad_file_descriptor;
      case NLE_AGAIN: return std::errc::resource_unavailable_try_again;
      case NLE_NOMEM: return std::errc::not_enough_memory;
      case NLE_EXIST: return std::errc::file_exists;
      case NLE_INVAL: return std::errc::invalid_argument;
      case NLE_RANGE: return std::errc::result_out_of_range;
      case NLE_MSGSIZE: return std::errc::message_size;
      case NLE_OPNOTSUPP: return std::errc::operation_not_supported;
      case NLE_AF_NOSUPPORT: return std::errc::address_family_not_supported;
      case NLE_BUSY: return std::errc::device_or_resource_busy;
      case NLE_NOACCESS: return std::errc::permission_denied;
      case NLE_PERM: return std::errc::operation_not_permitted;
      case NLE_NODEV: return std::errc::no_such_device;
      default: return {ev, *this};
    }
  }
};

const std::error_category& netlink_category() noexcept {
  static const NetlinkCategory category;
  return category;
}

tl::unexpected<std::error_code> fail_nl(int err) noexcept {
  return tl::unexpected<std::error_code>(std::error_code(err < 0 ? -err : err, netlink_category()));
}

// --- RAII for libnl objects --------------------------------------------------

struct SocketFree {
  void operator()(nl_sock* s) const noexcept { nl().nl_socket_free(s); }
};
struct CacheFree {
  void operator()(nl_cache* c) const noexcept { nl().nl_cache_free(c); }
};
using SocketPtr = std::unique_ptr<nl_sock, SocketFree>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

Result<SocketPtr> connect_route() {
  SocketPtr sk(nl().nl_socket_alloc());
  if (!sk) return fail_nl(NLE_NOMEM);
  if (const int err = nl().nl_connect(sk.get(), NETLINK_ROUTE); err < 0) return fail_nl(err);
  return sk;
}

/// Runs a dump into a fresh cache. The kernel flags a dump that raced with a
/// change to the table it walks (NLM_F_DUMP_INTR, reported by libnl as
/// NLE_DUMP_INTR); the answer is to ask again, a bounded number of times.
template <class Alloc>
Result<CachePtr> dump(Alloc&& alloc) {
  constexpr int attempts = 5;
  int err = 0;
  for (int i = 0; i < attempts; ++i) {
    nl_cache* raw = nullptr;
    err = alloc(&raw);
    CachePtr cache(raw);
    if (err == 0) return cache;
    if (err != -NLE_DUMP_INTR) break;
  }
  return fail_nl(err);
}

/// Walks a cache's objects as their concrete libnl type. Every libnl object
/// starts with the common nl_object header (NLHDR_COMMON), which is what
/// makes this cast libnl's own idiom.
template <class T, class F>
void for_each_object(nl_cache* cache, F&& f) {
  for (nl_object* o = nl().nl_cache_get_first(cache); o != nullptr; o = nl().nl_cache_get_next(o)) {
    f(reinterpret_cast<T*>(o));
  }
}

std::optional<wire::Ipv4Address> ipv4_of(const nl_addr* a) noexcept {
  if (a == nullptr || nl().nl_addr_get_family(a) != AF_INET) return std::nullopt;
  // A default route carries no RTA_DST; libnl then hands out a zero-length
  // AF_INET address with prefix length 0, which is 0.0.0.0.
  if (nl().nl_addr_get_len(a) == 0) return wire::Ipv4Address();
  if (nl().nl_addr_get_len(a) != wire::Ipv4Address::size) return std::nullopt;
  std::array<std::uint8_t, 4> o{};
  std::memcpy(o.data(), nl().nl_addr_get_binary_addr(a), o.size());
  return wire::Ipv4Address(o[0], o[1], o[2], o[3]);
}

// --- interfaces ----------------------------------------------------------------

OperState oper_state(std::uint8_t s) noexcept {
  // RFC 2863 ifOperStatus, as the kernel reports it in IFLA_OPERSTATE
  // (Documentation/networking/operstates.rst).
  switch (s) {
    case IF_OPER_NOTPRESENT: return OperState::not_present;
    case IF_OPER_DOWN: return OperState::down;
    case IF_OPER_LOWERLAYERDOWN: return OperState::lower_layer_down;
    case IF_OPER_TESTING: return OperState::testing;
    case IF_OPER_DORMANT: return OperState::dormant;
    case IF_OPER_UP: return OperState::up;
    default: return OperState::unknown;
  }
}

/// IFLA_INFO_KIND names virtual links ("veth", "dummy", "bridge", "tun");
/// physical NICs have none, so fall back on the ARPHRD_* link type, named
/// as iproute2 names it ("ether", "loopback", "none", ...).
std::string link_kind(rtnl_link* link) {
  if (const char* kind = nl().rtnl_link_get_type(link); kind != nullptr && *kind != '\0')
    return kind;
  std::array<char, 32> buf{};
  nl().nl_llproto2str(static_cast<int>(nl().rtnl_link_get_arptype(link)), buf.data(), buf.size());
  return buf.data();
}

/// The driver's name through the ethtool ioctl. ETHTOOL_GDRVINFO is one of
/// the "get" commands dev_ethtool() lets any user run (net/ethtool/ioctl.c),
/// and costs one ioctl. Devices without get_drvinfo or a parent driver (lo)
/// answer EOPNOTSUPP: no description then.
class DriverQuery {
 public:
  DriverQuery() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~DriverQuery() {
    if (fd_ >= 0) ::close(fd_);
  }
  DriverQuery(const DriverQuery&) = delete;
  DriverQuery& operator=(const DriverQuery&) = delete;

  std::string driver(const std::string& ifname) const {
    if (fd_ < 0 || ifname.size() >= IFNAMSIZ) return {};
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    ifr.ifr_data = reinterpret_cast<char*>(&info);  // the ioctl's ABI
    if (::ioctl(fd_, SIOCETHTOOL, &ifr) != 0) return {};
    return std::string(info.driver, ::strnlen(info.driver, sizeof info.driver));
  }

 private:
  int fd_;
};

}  // namespace

Result<std::vector<Interface>> list_interfaces() {
  if (auto loaded = load_libnl(); !loaded) return tl::unexpected(loaded.error());
  auto sk = connect_route();
  if (!sk) return tl::unexpected(sk.error());
  auto links =
      dump([&](nl_cache** c) { return nl().rtnl_link_alloc_cache(sk->get(), AF_UNSPEC, c); });
  if (!links) return tl::unexpected(links.error());
  auto addrs = dump([&](nl_cache** c) { return nl().rtnl_addr_alloc_cache(sk->get(), c); });
  if (!addrs) return tl::unexpected(addrs.error());

  const DriverQuery drivers;
  std::vector<Interface> out;
  for_each_object<rtnl_link>(links->get(), [&](rtnl_link* link) {
    Interface i;
    i.index = nl().rtnl_link_get_ifindex(link);
    if (const char* name = nl().rtnl_link_get_name(link)) i.name = name;
    i.kind = link_kind(link);
    // Only Ethernet-like links have a 6-byte hardware address; tunnels
    // (ARPHRD_NONE, ipip's 4 bytes) keep the zero MAC.
    if (const nl_addr* mac = nl().rtnl_link_get_addr(link);
        mac != nullptr && nl().nl_addr_get_len(mac) == wire::MacAddress::size) {
      i.mac = wire::MacAddress::from_bytes(
          ConstBytes(static_cast<const std::byte*>(nl().nl_addr_get_binary_addr(mac)),
                     wire::MacAddress::size));
    }
    i.mtu = nl().rtnl_link_get_mtu(link);
    i.oper_state = oper_state(nl().rtnl_link_get_operstate(link));
    i.flags = nl().rtnl_link_get_flags(link);
    i.admin_up = (i.flags & IFF_UP) != 0;
    i.loopback = (i.flags & IFF_LOOPBACK) != 0;
    // The alias is what an administrator chose to call the link (ip link
    // set NAME alias TEXT); it wins over the driver's name.
    if (const char* alias = nl().rtnl_link_get_ifalias(link); alias != nullptr && *alias != '\0') {
      i.description = alias;
    } else {
      i.description = drivers.driver(i.name);
    }
    // libpcap and AF_PACKET open a Linux link by its name.
    i.capture_device = i.name;
    out.push_back(std::move(i));
  });
  // A link dump comes in the kernel's hash (or xarray) order; index order is
  // what `ip link` users expect, and it is also the order in which
  // inet_select_addr() walks devices (lo first).
  std::sort(out.begin(), out.end(),
            [](const Interface& a, const Interface& b) { return a.index < b.index; });

  // Addresses stay in dump order per link: that is the kernel's ifa_list
  // order, primaries (by scope) before secondaries, which source selection
  // relies on (net/ipv4/devinet.c, __inet_insert_ifa()).
  for_each_object<rtnl_addr>(addrs->get(), [&](rtnl_addr* a) {
    if (nl().rtnl_addr_get_family(a) != AF_INET) return;
    // IFA_LOCAL is this host's address; IFA_ADDRESS is the peer's on a
    // point-to-point link.
    const auto local = ipv4_of(nl().rtnl_addr_get_local(a));
    if (!local) return;
    const int index = nl().rtnl_addr_get_ifindex(a);
    auto it = std::lower_bound(out.begin(), out.end(), index,
                               [](const Interface& i, int v) { return i.index < v; });
    if (it == out.end() || it->index != index) return;  // the link came after the link dump
    it->ipv4.push_back(InterfaceAddress{*local, nl().rtnl_addr_get_prefixlen(a)});
  });
  return out;
}

namespace {

RouteType route_type(std::uint8_t t) noexcept {
  switch (t) {
    case RTN_UNICAST: return RouteType::unicast;
    case RTN_LOCAL: return RouteType::local;
    case RTN_BROADCAST: return RouteType::broadcast;
    case RTN_UNREACHABLE: return RouteType::unreachable;
    case RTN_PROHIBIT: return RouteType::prohibit;
    case RTN_BLACKHOLE: return RouteType::blackhole;
    default: return RouteType::other;
  }
}

}  // namespace

Result<std::vector<Route>> list_routes() {
  if (auto loaded = load_libnl(); !loaded) return tl::unexpected(loaded.error());
  auto sk = connect_route();
  if (!sk) return tl::unexpected(sk.error());
  auto routes =
      dump([&](nl_cache** c) { return nl().rtnl_route_alloc_cache(sk->get(), AF_INET, 0, c); });
  if (!routes) return tl::unexpected(routes.error());

  std::vector<Route> out;
  for_each_object<rtnl_route>(routes->get(), [&](rtnl_route* nr) {
    if (nl().rtnl_route_get_family(nr) != AF_INET) return;
    if (nl().rtnl_route_get_table(nr) != RT_TABLE_MAIN) return;
    // Cached clones are not routes of the table (and IPv4 has dumped none
    // since the route cache went away in 3.6).
    if ((nl().rtnl_route_get_flags(nr) & RTM_F_CLONED) != 0) return;
    // fib_table_lookup() skips an alias with a TOS other than the flow's;
    // ersatz sends with TOS 0, so TOS-specific routes never match it.
    if (nl().rtnl_route_get_tos(nr) != 0) return;
    const auto dst = ipv4_of(nl().rtnl_route_get_dst(nr));
    if (!dst) return;

    Route r;
    r.destination = *dst;
    r.prefix_len = static_cast<int>(nl().nl_addr_get_prefixlen(nl().rtnl_route_get_dst(nr)));
    r.metric = nl().rtnl_route_get_priority(nr);
    r.preferred_source = ipv4_of(nl().rtnl_route_get_pref_src(nr));
    r.type = route_type(nl().rtnl_route_get_type(nr));

    const int n = nl().rtnl_route_get_nnexthops(nr);
    if (n == 0) {
      // unreachable, prohibit, blackhole: no device, no gateway.
      out.push_back(r);
      return;
    }
    // One nexthop per Route. A multipath route has several; the kernel
    // hashes each flow onto one (fib_select_multipath()), which a table
    // cannot express, so take the first live one. Dead ones (RTNH_F_DEAD:
    // their device went down) are skipped by fib_table_lookup() too.
    for (int k = 0; k < n; ++k) {
      rtnl_nexthop* nh = nl().rtnl_route_nexthop_n(nr, k);
      if (nh == nullptr || (nl().rtnl_route_nh_get_flags(nh) & RTNH_F_DEAD) != 0) continue;
      const nl_addr* gw = nl().rtnl_route_nh_get_gateway(nh);
      if (gw == nullptr) gw = nl().rtnl_route_nh_get_via(nh);  // RTA_VIA, same family
      if (gw != nullptr) {
        // An IPv6 next hop for IPv4 (RFC 5549, RTA_VIA) has no Ipv4Address.
        r.gateway = ipv4_of(gw);
        if (!r.gateway) continue;
      }
      r.out_index = nl().rtnl_route_nh_get_ifindex(nh);
      out.push_back(r);
      return;
    }
  });
  return out;
}

}  // namespace ersatz::os
