// Discovery through the IP Helper API: GetAdaptersAddresses for the
// adapters, GetIpForwardTable2 for the IPv4 routes. Neither needs
// administrator rights.

// Windows headers in blocks of their own, so that include sorting keeps
// their order: <winsock2.h> before <windows.h> (else the old winsock.h
// comes along), and <windows.h> before the API headers that use its types
// (iphlpapi.h declares the *2 functions only after ws2tcpip.h).
#include <winsock2.h>
#include <ws2tcpip.h>

#include <windows.h>

#include <iphlpapi.h>
#include <netioapi.h>
// COM's headers (via windows.h) define `interface` as a macro; ersatz
// uses the word as a name (RouteDecision::interface).
#undef interface

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "base/wide.hpp"
#include "ersatz/os/win32_error.hpp"
#include "windows_discovery.hpp"

namespace ersatz::os::windows {
namespace {

wire::Ipv4Address ipv4_of(const sockaddr_in& sin) noexcept {
  return wire::Ipv4Address(ntohl(sin.sin_addr.s_addr));
}

/// IANA ifType (RFC 2863's ifType, the values IP Helper reports), named
/// as ersatz names Linux link kinds where there is a counterpart.
std::string kind_of(IFTYPE t) {
  switch (t) {
    case IF_TYPE_ETHERNET_CSMACD: return "ether";
    case IF_TYPE_SOFTWARE_LOOPBACK: return "loopback";
    case IF_TYPE_IEEE80211: return "wlan";
    case IF_TYPE_PPP: return "ppp";
    case IF_TYPE_TUNNEL: return "tunnel";
    default: return "iftype-" + std::to_string(t);
  }
}

/// IF_OPER_STATUS uses RFC 2863's ifOperStatus numbering, as Linux's
/// IFLA_OPERSTATE does (one off: Windows starts at up = 1).
OperState oper_state(IF_OPER_STATUS s) noexcept {
  switch (s) {
    case IfOperStatusUp: return OperState::up;
    case IfOperStatusDown: return OperState::down;
    case IfOperStatusTesting: return OperState::testing;
    case IfOperStatusDormant: return OperState::dormant;
    case IfOperStatusNotPresent: return OperState::not_present;
    case IfOperStatusLowerLayerDown: return OperState::lower_layer_down;
    default: return OperState::unknown;
  }
}

/// The adapter list in one buffer. Its size is a guess that the call
/// corrects (ERROR_BUFFER_OVERFLOW); adapters can appear between two
/// calls, so the guess is retried a bounded number of times.
Result<std::vector<std::byte>> adapters_buffer() {
  constexpr ULONG flags =
      GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
  ULONG size = 16 * 1024;
  for (int attempt = 0; attempt < 4; ++attempt) {
    // Over-allocated by one element so the structures' alignment holds.
    std::vector<std::byte> buf(size + sizeof(IP_ADAPTER_ADDRESSES));
    ULONG len = size;
    const ULONG rc = GetAdaptersAddresses(
        AF_UNSPEC, flags, nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()), &len);
    if (rc == ERROR_SUCCESS) return buf;
    if (rc == ERROR_NO_DATA) return std::vector<std::byte>{};
    if (rc != ERROR_BUFFER_OVERFLOW) return fail_win32(rc);
    size = len;
  }
  return fail_win32(ERROR_BUFFER_OVERFLOW);
}

bool admin_up(NET_IFINDEX index, OperState fallback) noexcept {
  MIB_IF_ROW2 row{};
  row.InterfaceIndex = index;
  // Wine 8 answers without filling AdminStatus in (0 is no valid state);
  // the operational state is the best guess then.
  if (GetIfEntry2(&row) != NO_ERROR || row.AdminStatus == 0) return fallback == OperState::up;
  return row.AdminStatus == NET_IF_ADMIN_STATUS_UP;
}

/// Each interface's IPv4 metric, by index: Windows ranks routes by the
/// route's metric plus its interface's (what `route print` shows). Empty
/// when the table cannot be read (Wine 8 answers ERROR_NOT_SUPPORTED; its
/// GetIpInterfaceEntry is an aborting stub, so that is never called).
std::vector<std::pair<NET_IFINDEX, ULONG>> interface_metrics() {
  std::vector<std::pair<NET_IFINDEX, ULONG>> out;
  MIB_IPINTERFACE_TABLE* raw = nullptr;
  if (GetIpInterfaceTable(AF_INET, &raw) != NO_ERROR || raw == nullptr) return out;
  for (ULONG k = 0; k < raw->NumEntries; ++k) {
    out.emplace_back(raw->Table[k].InterfaceIndex, raw->Table[k].Metric);
  }
  FreeMibTable(raw);
  return out;
}

}  // namespace

Result<std::vector<Interface>> iphlpapi_interfaces() {
  auto buf = adapters_buffer();
  if (!buf) return tl::unexpected(buf.error());
  std::vector<Interface> out;
  if (buf->empty()) return out;
  for (auto* a = reinterpret_cast<const IP_ADAPTER_ADDRESSES*>(buf->data()); a != nullptr;
       a = a->Next) {
    Interface i;
    i.index = static_cast<int>(a->IfIndex);
    // The friendly name ("Ethernet", "Wi-Fi") is what Windows users call an
    // adapter; AdapterName is its GUID, which names the capture device.
    i.name = narrow(a->FriendlyName);
    i.kind = kind_of(a->IfType);
    if (a->PhysicalAddressLength == wire::MacAddress::size) {
      i.mac = wire::MacAddress::from_bytes(as_bytes(a->PhysicalAddress, wire::MacAddress::size));
    }
    i.mtu = a->Mtu;
    i.oper_state = oper_state(a->OperStatus);
    i.admin_up = admin_up(a->IfIndex, i.oper_state);
    i.loopback = a->IfType == IF_TYPE_SOFTWARE_LOOPBACK;
    // Windows has no IFF_* flags; the booleans above carry what they would.
    i.flags = 0;
    for (const auto* u = a->FirstUnicastAddress; u != nullptr; u = u->Next) {
      if (u->Address.lpSockaddr == nullptr || u->Address.lpSockaddr->sa_family != AF_INET) continue;
      sockaddr_in sin{};
      std::memcpy(&sin, u->Address.lpSockaddr, sizeof sin);
      i.ipv4.push_back(InterfaceAddress{ipv4_of(sin), static_cast<int>(u->OnLinkPrefixLength)});
    }
    i.description = narrow(a->Description);
    if (a->AdapterName != nullptr) i.capture_device = capture_device(a->AdapterName);
    out.push_back(std::move(i));
  }
  std::sort(out.begin(), out.end(),
            [](const Interface& x, const Interface& y) { return x.index < y.index; });
  return out;
}

Result<std::vector<Route>> iphlpapi_routes() {
  MIB_IPFORWARD_TABLE2* raw = nullptr;
  if (const DWORD rc = GetIpForwardTable2(AF_INET, &raw); rc != NO_ERROR) return fail_win32(rc);
  std::unique_ptr<MIB_IPFORWARD_TABLE2, decltype(&FreeMibTable)> table(raw, &FreeMibTable);

  const auto metrics = interface_metrics();
  std::vector<Route> out;
  for (ULONG k = 0; k < table->NumEntries; ++k) {
    const MIB_IPFORWARD_ROW2& row = table->Table[k];
    if (row.DestinationPrefix.Prefix.si_family != AF_INET) continue;
    Route r;
    r.destination = ipv4_of(row.DestinationPrefix.Prefix.Ipv4);
    r.prefix_len = row.DestinationPrefix.PrefixLength;
    // An on-link route has the unspecified address as its next hop.
    if (row.NextHop.si_family == AF_INET) {
      const auto gw = ipv4_of(row.NextHop.Ipv4);
      if (!gw.is_unspecified()) r.gateway = gw;
    }
    r.out_index = static_cast<int>(row.InterfaceIndex);
    r.metric = row.Metric;
    for (const auto& [index, metric] : metrics) {
      if (index == row.InterfaceIndex) r.metric += metric;
    }
    r.type = RouteType::unicast;
    out.push_back(r);
  }
  return out;
}

}  // namespace ersatz::os::windows
