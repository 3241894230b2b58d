// The part of libpcap's ABI that ersatz calls in Npcap's wpcap.dll,
// declared here rather than taken from the Npcap SDK: the DLL is loaded at
// run time, and these few types are all that crosses it. Layouts follow
// <pcap/pcap.h> and <pcap/bpf.h> as built for Windows (LLP64: `long` and
// struct timeval's fields are 32 bits).
#pragma once

#include <cstdint>

#include "ersatz/base/result.hpp"

namespace ersatz::link::wpcap {

struct Handle;  // pcap_t

struct Interface {  // pcap_if_t
  Interface* next;
  char* name;
  char* description;
  void* addresses;
  std::uint32_t flags;
};

struct PacketHeader {  // struct pcap_pkthdr
  std::int32_t tv_sec;
  std::int32_t tv_usec;  ///< nanoseconds with PCAP_TSTAMP_PRECISION_NANO
  std::uint32_t caplen;
  std::uint32_t len;
};

struct Instruction {  // struct bpf_insn
  std::uint16_t code;
  std::uint8_t jt;
  std::uint8_t jf;
  std::uint32_t k;
};

struct Program {  // struct bpf_program
  unsigned int bf_len;
  Instruction* bf_insns;
};

struct Stats {  // struct pcap_stat; the last three exist on Windows only
  unsigned int ps_recv;
  unsigned int ps_drop;
  unsigned int ps_ifdrop;
  unsigned int ps_capt;
  unsigned int ps_sent;
  unsigned int ps_netdrop;
};

inline constexpr int errbuf_size = 256;  // PCAP_ERRBUF_SIZE
inline constexpr int dlt_en10mb = 1;
inline constexpr int precision_nano = 1;  // PCAP_TSTAMP_PRECISION_NANO
inline constexpr int direction_in = 1;    // PCAP_D_IN
inline constexpr int error_break = -2;    // PCAP_ERROR_BREAK

// wpcap.dll's functions are cdecl, which is the only convention on x64.
struct Api {
  // Required: present in every wpcap.dll since WinPcap 4.
  Handle* (*open_live)(const char*, int, int, int, char*);
  void (*close)(Handle*);
  int (*next_ex)(Handle*, PacketHeader**, const unsigned char**);
  int (*sendpacket)(Handle*, const unsigned char*, int);
  char* (*geterr)(Handle*);
  int (*datalink)(Handle*);
  int (*setnonblock)(Handle*, int, char*);
  int (*findalldevs)(Interface**, char*);
  void (*freealldevs)(Interface*);
  // Optional: nullptr when this wpcap.dll lacks them (Wine's, old WinPcap).
  Handle* (*create)(const char*, char*);
  int (*set_snaplen)(Handle*, int);
  int (*set_promisc)(Handle*, int);
  int (*set_timeout)(Handle*, int);
  int (*set_immediate_mode)(Handle*, int);
  int (*set_buffer_size)(Handle*, int);
  int (*set_tstamp_precision)(Handle*, int);
  int (*activate)(Handle*);
  const char* (*statustostr)(int);
  int (*setfilter)(Handle*, Program*);
  int (*setdirection)(Handle*, int);
  void* (*getevent)(Handle*);  // a HANDLE
  int (*stats)(Handle*, Stats*);

  /// Whether the libpcap 1.x way of opening is there: pcap_create, options,
  /// then pcap_activate, with immediate mode (Npcap has it; Wine 8's
  /// wpcap.dll and WinPcap do not).
  bool can_create_immediate() const noexcept {
    return create != nullptr && activate != nullptr && set_immediate_mode != nullptr;
  }
  /// Whether pcap_getevent may be called. Wine 8 exports it (and
  /// pcap_open_dead, pcap_setmintocopy, ...) as a stub that aborts the
  /// process when called, and GetProcAddress cannot tell a stub from a
  /// function; so under Wine it is never called.
  bool event_usable = false;
};

/// Loads wpcap.dll once per process: from Npcap's folder (System32\Npcap)
/// first, then System32 (Npcap in WinPcap-compatible mode, or Wine's own).
/// NpcapError::not_installed when there is none, missing_entry_point when
/// a required function is absent.
Result<const Api*> api();

}  // namespace ersatz::link::wpcap
