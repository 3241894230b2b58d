// The names tools used when only the Windows build loaded its capture
// library at run time. Both builds do now (pcap_library.hpp), so these are
// the same error and line under their old names; on Linux the line names
// libpcap's package.
#pragma once

#include <string_view>

#include "ersatz/link/pcap_library.hpp"

namespace ersatz::link {

using NpcapError = PcapLibraryError;
inline constexpr std::string_view npcap_not_installed = pcap_not_installed;

}  // namespace ersatz::link
