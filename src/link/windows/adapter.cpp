// Adapters by name (adapter.hpp), and link::netif_info on Windows.
#include "adapter.hpp"

#include "ersatz/os/discovery.hpp"

namespace ersatz::link::windows {

Result<Adapter> find_adapter(const std::string& name) {
  auto i = os::find_interface(name);
  if (!i) return tl::unexpected(i.error());
  Adapter out;
  out.capture_device = i->capture_device;
  out.info.index = i->index;
  out.info.mtu = i->mtu;
  out.info.mac = i->mac;
  // Ethernet framing: wired Ethernet, and Wi-Fi as Npcap presents it.
  out.info.ethernet = i->kind == "ether" || i->kind == "wlan";
  out.info.up = i->admin_up;
  out.info.running = i->admin_up && i->oper_state == os::OperState::up;
  return out;
}

}  // namespace ersatz::link::windows

namespace ersatz::link {

Result<NetifInfo> netif_info(const std::string& name) {
  auto a = windows::find_adapter(name);
  if (!a) return tl::unexpected(a.error());
  return a->info;
}

Result<void> netif_set_up(const std::string& /*name*/) {
  // Windows enables adapters through SetupAPI or WMI, not a socket ioctl;
  // ersatz never needs to (TAP, its only caller, is Linux-only).
  return fail(std::errc::not_supported);
}

}  // namespace ersatz::link
