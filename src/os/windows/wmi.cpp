// Discovery through WMI, as ersatz's first sketch did it: the route table
// (Win32_IP4RouteTable) gives the default route's InterfaceIndex, and
// Win32_NetworkAdapter maps that index to the adapter's GUID, which names
// the Npcap device. Both through COM: IWbemLocator → IWbemServices on
// ROOT\CIMV2 → WQL queries.

// Windows headers in blocks of their own, so that include sorting keeps
// their order: <winsock2.h> before <windows.h> (else the old winsock.h
// comes along), and <windows.h> before the API headers that use its types.
#include <winsock2.h>

#include <windows.h>

#include <oleauto.h>
#include <wbemidl.h>
// COM's headers define `interface` as a keyword-like macro; ersatz uses
// the word as a name (RouteDecision::interface).
#undef interface

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/wide.hpp"
#include "ersatz/os/win32_error.hpp"
#include "windows_discovery.hpp"

namespace ersatz::os::windows {
namespace {

/// Owns one COM reference.
template <class T>
class ComPtr {
 public:
  ComPtr() = default;
  ~ComPtr() { reset(); }
  ComPtr(const ComPtr&) = delete;
  ComPtr& operator=(const ComPtr&) = delete;
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T** put() noexcept {
    reset();
    return &p_;
  }
  void reset() noexcept {
    if (p_ != nullptr) p_->Release();
    p_ = nullptr;
  }

 private:
  T* p_ = nullptr;
};

class Bstr {
 public:
  explicit Bstr(const wchar_t* s) : b_(SysAllocString(s)) {}
  ~Bstr() { SysFreeString(b_); }
  Bstr(const Bstr&) = delete;
  Bstr& operator=(const Bstr&) = delete;
  BSTR get() const noexcept { return b_; }

 private:
  BSTR b_;
};

class Variant {
 public:
  Variant() { VariantInit(&v_); }
  ~Variant() { VariantClear(&v_); }
  Variant(const Variant&) = delete;
  Variant& operator=(const Variant&) = delete;
  VARIANT* put() noexcept {
    VariantClear(&v_);
    return &v_;
  }
  const VARIANT& get() const noexcept { return v_; }

 private:
  VARIANT v_;
};

/// COM for the calling thread, for the duration of one query. A thread
/// that already runs COM in another apartment (RPC_E_CHANGED_MODE) can
/// still make the calls; it just must not be uninitialised by us.
class ComScope {
 public:
  ComScope() : hr_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ~ComScope() {
    if (SUCCEEDED(hr_)) CoUninitialize();
  }
  ComScope(const ComScope&) = delete;
  ComScope& operator=(const ComScope&) = delete;
  bool usable() const noexcept { return SUCCEEDED(hr_) || hr_ == RPC_E_CHANGED_MODE; }
  HRESULT status() const noexcept { return hr_; }

 private:
  HRESULT hr_;
};

/// An object's property, or nullopt when the provider does not have it
/// (WBEM_E_NOT_FOUND: Wine's Win32_IP4RouteTable, for one, has no Mask
/// or Metric1) or it is NULL.
std::optional<std::wstring> string_property(IWbemClassObject* o, const wchar_t* name) {
  Variant v;
  if (FAILED(o->Get(name, 0, v.put(), nullptr, nullptr))) return std::nullopt;
  if (v.get().vt != VT_BSTR || v.get().bstrVal == nullptr) return std::nullopt;
  return std::wstring(v.get().bstrVal, SysStringLen(v.get().bstrVal));
}

std::optional<long> int_property(IWbemClassObject* o, const wchar_t* name) {
  Variant v;
  if (FAILED(o->Get(name, 0, v.put(), nullptr, nullptr))) return std::nullopt;
  switch (v.get().vt) {
    case VT_I4: return v.get().lVal;
    case VT_UI4: return static_cast<long>(v.get().ulVal);
    case VT_I2: return v.get().iVal;
    case VT_UI2: return v.get().uiVal;
    case VT_UI1: return v.get().bVal;
    default: return std::nullopt;
  }
}

std::optional<wire::Ipv4Address> address_property(IWbemClassObject* o, const wchar_t* name) {
  auto s = string_property(o, name);
  if (!s) return std::nullopt;
  return wire::Ipv4Address::parse(narrow(*s));
}

/// One WQL query on ROOT\CIMV2; `row` is called for each object.
template <class F>
Result<void> query(const wchar_t* wql, F&& row) {
  ComScope com;
  if (!com.usable()) return fail_hresult(com.status());
  // Process-wide and settable once: a second call (or a host program that
  // set it first) answers RPC_E_TOO_LATE, which is fine.
  const HRESULT sec =
      CoInitializeSecurity(nullptr, -1, nullptr, nullptr, RPC_C_AUTHN_LEVEL_DEFAULT,
                           RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE, nullptr);
  if (FAILED(sec) && sec != RPC_E_TOO_LATE) return fail_hresult(sec);

  ComPtr<IWbemLocator> locator;
  HRESULT hr = CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator,
                                reinterpret_cast<void**>(locator.put()));
  if (FAILED(hr)) return fail_hresult(hr);
  ComPtr<IWbemServices> services;
  const Bstr ns(L"ROOT\\CIMV2");
  hr = locator->ConnectServer(ns.get(), nullptr, nullptr, nullptr, 0, nullptr, nullptr,
                              services.put());
  if (FAILED(hr)) return fail_hresult(hr);
  // The proxy must impersonate the caller, or WMI refuses the queries on
  // Windows (the documented client sequence).
  hr = CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr,
                         RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE);
  if (FAILED(hr) && hr != E_NOTIMPL) return fail_hresult(hr);

  ComPtr<IEnumWbemClassObject> rows;
  const Bstr language(L"WQL");
  const Bstr text(wql);
  hr = services->ExecQuery(language.get(), text.get(),
                           WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr,
                           rows.put());
  if (FAILED(hr)) return fail_hresult(hr);
  for (;;) {
    ComPtr<IWbemClassObject> o;
    ULONG got = 0;
    hr = rows->Next(static_cast<LONG>(WBEM_INFINITE), 1, o.put(), &got);
    if (FAILED(hr)) return fail_hresult(hr);
    if (got == 0) break;
    row(o.get());
  }
  return {};
}

/// "255.255.255.0" → 24; nullopt for a mask that is not contiguous.
std::optional<int> prefix_of_mask(wire::Ipv4Address mask) noexcept {
  const std::uint32_t m = mask.value();
  int n = 0;
  while (n < 32 && (m & (0x80000000U >> n)) != 0) ++n;
  if (n < 32 && (m << n) != 0) return std::nullopt;
  return n;
}

}  // namespace

Result<std::vector<Interface>> wmi_interfaces() {
  // IP Helper's view of each adapter supplies what Win32_NetworkAdapter
  // has no column for (IPv4 addresses with prefixes, MTU, state); the
  // identity (index, GUID, MAC, names) is WMI's own.
  auto helper = iphlpapi_interfaces();
  if (!helper) return tl::unexpected(helper.error());
  std::vector<Interface> out;
  auto r = query(L"SELECT * FROM Win32_NetworkAdapter", [&](IWbemClassObject* o) {
    const auto index = int_property(o, L"InterfaceIndex");
    const auto guid = string_property(o, L"GUID");
    // Adapters without a GUID (some WAN miniports) have no capture device
    // and no IP binding to route through.
    if (!index || !guid) return;
    Interface i;
    auto it = std::find_if(helper->begin(), helper->end(),
                           [&](const Interface& h) { return h.index == *index; });
    if (it != helper->end()) i = *it;
    i.index = static_cast<int>(*index);
    // NetConnectionID is the friendly name ("Ethernet"); Wine's provider
    // does not have it, and there Name is the same text.
    if (auto n = string_property(o, L"NetConnectionID")) {
      i.name = narrow(*n);
    } else if (auto m = string_property(o, L"Name")) {
      i.name = narrow(*m);
    }
    if (auto mac = string_property(o, L"MACAddress")) {
      if (auto parsed = wire::MacAddress::parse(narrow(*mac))) i.mac = *parsed;
    }
    if (auto d = string_property(o, L"Description")) i.description = narrow(*d);
    i.capture_device = capture_device(narrow(*guid));
    out.push_back(std::move(i));
  });
  if (!r) return tl::unexpected(r.error());
  // Win32_NetworkAdapter leaves out the loopback pseudo-interface; IP
  // Helper's entry for it keeps the table complete.
  for (const Interface& h : *helper) {
    if (h.loopback && std::none_of(out.begin(), out.end(),
                                   [&](const Interface& i) { return i.index == h.index; })) {
      out.push_back(h);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Interface& a, const Interface& b) { return a.index < b.index; });
  return out;
}

Result<std::vector<Route>> wmi_routes(const std::vector<Interface>& interfaces) {
  std::vector<Route> out;
  auto r = query(L"SELECT * FROM Win32_IP4RouteTable", [&](IWbemClassObject* o) {
    const auto dst = address_property(o, L"Destination");
    const auto index = int_property(o, L"InterfaceIndex");
    if (!dst || !index) return;
    const auto it = std::find_if(interfaces.begin(), interfaces.end(),
                                 [&](const Interface& i) { return i.index == *index; });
    Route route;
    route.destination = *dst;
    route.out_index = static_cast<int>(*index);
    if (auto mask = address_property(o, L"Mask")) {
      auto p = prefix_of_mask(*mask);
      if (!p) return;
      route.prefix_len = *p;
    } else if (dst->is_unspecified()) {
      route.prefix_len = 0;  // the default route, mask or not
    } else {
      // No Mask column (Wine 8's provider has only Destination, NextHop and
      // InterfaceIndex). A connected route's destination is the network of
      // one of its interface's addresses, whose prefix then is the route's.
      // Any other route's prefix cannot be known, and guessing one would
      // misroute: it is left out.
      if (it == interfaces.end()) return;
      const auto a = std::find_if(it->ipv4.begin(), it->ipv4.end(), [&](const InterfaceAddress& x) {
        const std::uint32_t net = x.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - x.prefix_len);
        return (x.address.value() & net) == dst->value();
      });
      if (a == it->ipv4.end()) return;
      route.prefix_len = a->prefix_len;
    }
    // The legacy route table gives a connected route its interface's own
    // address as the next hop (Windows and Wine alike), or 0.0.0.0.
    if (auto nh = address_property(o, L"NextHop"); nh && !nh->is_unspecified()) {
      const bool own = it != interfaces.end() &&
                       std::any_of(it->ipv4.begin(), it->ipv4.end(),
                                   [&](const InterfaceAddress& x) { return x.address == *nh; });
      if (!own) route.gateway = *nh;
    }
    if (auto m = int_property(o, L"Metric1"); m && *m >= 0) {
      route.metric = static_cast<std::uint32_t>(*m);
    }
    route.type = RouteType::unicast;
    out.push_back(route);
  });
  if (!r) return tl::unexpected(r.error());
  return out;
}

}  // namespace ersatz::os::windows
