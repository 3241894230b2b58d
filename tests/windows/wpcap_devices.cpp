// Test helper (Windows): prints the capture devices wpcap.dll lists, one
// "NAME<TAB>DESCRIPTION" line each, through the same run-time loader as
// ersatz.exe. The Wine lab checks that ersatz's capture device for an
// interface is one of these. Exit codes: 0 listed, 2 no wpcap.dll, 1 error.
#include <cstdio>

#include "ersatz/link/npcap.hpp"
#include "wpcap.hpp"

int main() {
  using namespace ersatz::link;
  auto api = wpcap::api();
  if (!api) {
    std::fprintf(stderr, "wpcap_devices: %s\n", api.error().message().c_str());
    return api.error() == NpcapError::not_installed ? 2 : 1;
  }
  char errbuf[wpcap::errbuf_size] = {};
  wpcap::Interface* devices = nullptr;
  if ((*api)->findalldevs(&devices, errbuf) != 0) {
    std::fprintf(stderr, "wpcap_devices: %s\n", errbuf);
    return 1;
  }
  for (const wpcap::Interface* d = devices; d != nullptr; d = d->next) {
    std::printf("%s\t%s\n", d->name, d->description != nullptr ? d->description : "");
  }
  (*api)->freealldevs(devices);
  return 0;
}
