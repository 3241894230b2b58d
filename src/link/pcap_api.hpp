// The part of libpcap's ABI that ersatz calls, declared here rather than
// taken from <pcap/pcap.h>: the library is loaded at run time on every
// platform (libpcap.so.0.8 on Debian, Npcap's wpcap.dll on Windows, where
// no SDK is needed to build), and these few types are all that crosses it.
// Layouts follow <pcap/pcap.h> and <pcap/bpf.h>; `long` is what struct
// timeval holds on both LP64 Linux and LLP64 Windows. pcap_library.cpp
// checks them against the real header wherever one is installed.
#pragma once

#include <cstdint>

#include "ersatz/link/bpf.hpp"

namespace ersatz::link::pcap {

struct Handle;  // pcap_t

struct Interface {  // pcap_if_t
  Interface* next;
  char* name;
  char* description;
  void* addresses;
  std::uint32_t flags;
};

struct TimeVal {  // struct timeval
  long tv_sec;
  long tv_usec;  ///< nanoseconds with PCAP_TSTAMP_PRECISION_NANO
};

struct PacketHeader {  // struct pcap_pkthdr
  TimeVal ts;
  std::uint32_t caplen;
  std::uint32_t len;
};

/// struct bpf_program. Its instructions are struct bpf_insn, whose layout
/// BpfInsn shares (bpf.hpp), so ersatz's programs go to libpcap as they are.
struct Program {
  unsigned int bf_len;
  BpfInsn* bf_insns;
};

struct Stats {  // struct pcap_stat; the last three exist on Windows only
  unsigned int ps_recv;
  unsigned int ps_drop;
  unsigned int ps_ifdrop;
  unsigned int ps_capt;
  unsigned int ps_sent;
  unsigned int ps_netdrop;
};

inline constexpr int errbuf_size = 256;                        // PCAP_ERRBUF_SIZE
inline constexpr int precision_nano = 1;                       // PCAP_TSTAMP_PRECISION_NANO
inline constexpr int direction_in = 1;                         // PCAP_D_IN
inline constexpr std::uint32_t netmask_unknown = 0xffffffffU;  // PCAP_NETMASK_UNKNOWN

// PCAP_ERROR_*: what pcap_activate and pcap_next_ex return.
inline constexpr int error = -1;
inline constexpr int error_break = -2;
inline constexpr int error_no_such_device = -5;
inline constexpr int error_perm_denied = -8;
inline constexpr int error_iface_not_up = -9;
inline constexpr int error_promisc_perm_denied = -11;

/// The entry points, cdecl (the only convention on x86-64, Windows too).
struct Api {
  // Required: in every libpcap since 1.0 and every wpcap.dll since WinPcap 4.
  Handle* (*open_live)(const char*, int, int, int, char*);
  void (*close)(Handle*);
  int (*next_ex)(Handle*, PacketHeader**, const unsigned char**);
  int (*sendpacket)(Handle*, const unsigned char*, int);
  char* (*geterr)(Handle*);
  int (*datalink)(Handle*);
  int (*setnonblock)(Handle*, int, char*);
  int (*findalldevs)(Interface**, char*);
  void (*freealldevs)(Interface*);

  // Optional: nullptr where the library lacks them (Wine's wpcap.dll, old
  // WinPcap), or where calling them is known to go wrong (below).
  Handle* (*create)(const char*, char*);
  int (*set_snaplen)(Handle*, int);
  int (*set_promisc)(Handle*, int);
  int (*set_immediate_mode)(Handle*, int);
  int (*set_buffer_size)(Handle*, int);
  int (*set_tstamp_precision)(Handle*, int);
  int (*activate)(Handle*);
  const char* (*statustostr)(int);
  const char* (*datalink_val_to_name)(int);
  const char* (*lib_version)();
  int (*setfilter)(Handle*, Program*);
  int (*setdirection)(Handle*, int);  // pcap_direction_t, an int-sized enum
  int (*stats)(Handle*, Stats*);
  /// POSIX only (Windows' libpcap has none): what poll() waits on.
  int (*get_selectable_fd)(Handle*);
  /// Windows only: the read event (a HANDLE) to wait on.
  void* (*getevent)(Handle*);
  /// Bound on POSIX only: Windows sends with pcap_sendpacket, which is
  /// Npcap's own call and the only one Wine 8 implements.
  int (*inject)(Handle*, const void*, std::size_t);

  // The filter compiler (PcapFilter).
  Handle* (*open_dead)(int, int);
  int (*compile)(Handle*, Program*, const char*, int, std::uint32_t);
  void (*freecode)(Program*);
  int (*offline_filter)(const Program*, const PacketHeader*, const unsigned char*);

  /// Whether the libpcap 1.x way of opening is there: pcap_create, options,
  /// then pcap_activate, with immediate mode (libpcap and Npcap have it;
  /// Wine 8's wpcap.dll and WinPcap do not).
  bool can_create_immediate() const noexcept {
    return create != nullptr && activate != nullptr && set_immediate_mode != nullptr;
  }
  /// Whether tcpdump expressions can be compiled without a device.
  bool can_compile_offline() const noexcept {
    return open_dead != nullptr && compile != nullptr && freecode != nullptr &&
           offline_filter != nullptr;
  }
};

}  // namespace ersatz::link::pcap
