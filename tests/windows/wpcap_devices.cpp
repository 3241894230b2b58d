// Test helper (Windows): prints the capture devices wpcap.dll lists, one
// "NAME<TAB>DESCRIPTION" line each, through the same run-time loader as
// ersatz.exe (link::PcapLibrary). The Wine lab checks that ersatz's capture
// device for an interface is one of these. Exit codes: 0 listed, 2 no
// wpcap.dll, 1 error.
#include <cstdio>

#include "ersatz/link/pcap_library.hpp"
#include "pcap_api.hpp"

int main() {
  using namespace ersatz::link;
  auto library = PcapLibrary::get();
  if (!library) {
    std::fprintf(stderr, "wpcap_devices: %s\n", library.error().message().c_str());
    return library.error() == PcapLibraryError::not_installed ? 2 : 1;
  }
  const pcap::Api& api = (*library)->api();
  char errbuf[pcap::errbuf_size] = {};
  pcap::Interface* devices = nullptr;
  if (api.findalldevs(&devices, errbuf) != 0) {
    std::fprintf(stderr, "wpcap_devices: %s\n", errbuf);
    return 1;
  }
  for (const pcap::Interface* d = devices; d != nullptr; d = d->next) {
    std::printf("%s\t%s\n", d->name, d->description != nullptr ? d->description : "");
  }
  api.freealldevs(devices);
  return 0;
}
