#include "ersatz/wire/arp.hpp"

#include <cassert>

#include "ersatz/wire/text.hpp"

namespace ersatz::wire::arp {

void Repr::emit(MutBytes buf) const noexcept {
  assert(buf.size() == buffer_len());
  auto p = Packet<MutBytes>::unchecked(buf);
  p.set_header(Hardware::ethernet, EtherType::ipv4, MacAddress::size, Ipv4Address::size);
  p.set_operation(operation);
  source_hw.write(p.sha());
  source_ip.write(p.spa());
  target_hw.write(p.tha());
  target_ip.write(p.tpa());
}

std::string_view name(Operation op) noexcept {
  switch (op) {
    case Operation::request: return "Request";
    case Operation::reply: return "Reply";
    case Operation::rarp_request: return "Reverse Request";
    case Operation::rarp_reply: return "Reverse Reply";
    case Operation::inarp_request: return "Inverse Request";
    case Operation::inarp_reply: return "Inverse Reply";
    case Operation::nak: return "NACK Reply";
  }
  return "";
}

namespace {

using text::append;

/// A link address of any length, as colon-separated hex.
void put_hw(fmt::memory_buffer& out, ConstBytes hw) {
  if (hw.size() == MacAddress::size) {
    append(out, MacAddress::from_bytes(hw));
    return;
  }
  for (std::size_t i = 0; i < hw.size(); ++i) {
    if (i != 0) out.push_back(':');
    append(out, text::hex(static_cast<unsigned>(hw[i]), 2));
  }
}

void put_ip(fmt::memory_buffer& out, ConstBytes ip) { append(out, Ipv4Address::from_bytes(ip)); }

}  // namespace

/// tcpdump's names of ar$hrd values (print-arp.c).
std::string_view hardware_name(std::uint16_t hrd) noexcept {
  switch (hrd) {
    case 1: return "Ethernet";
    case 6: return "TokenRing";
    case 7: return "ArcNet";
    case 15: return "FrameRelay";
    case 19: return "ATM (RFC 2225)";
    case 23: return "Strip";
    case 24: return "IEEE 1394";
    case 32: return "InfiniBand";
    default: return "";
  }
}

/// An address of the protocol the message names: IPv4, or what tcpdump
/// writes instead (spaddr_print_ip / tpaddr_print_ip).
void put_proto(fmt::memory_buffer& out, const Packet<ConstBytes>& p, ConstBytes addr) {
  if (p.protocol_type() != EtherType::ipv4) {
    append(out, "<wrong proto type>");
  } else if (p.protocol_len() != 4) {
    append(out, "<wrong len>");
  } else {
    put_ip(out, addr);
  }
}

void put_summary(fmt::memory_buffer& out, const Packet<ConstBytes>& p) {
  const auto hrd = static_cast<std::uint16_t>(p.hardware_type());
  const auto pro = static_cast<std::uint16_t>(p.protocol_type());
  if (const auto hw = hardware_name(hrd); !hw.empty()) {
    append(out, hw, " (len ", p.hardware_len(), "), ");
  } else {
    append(out, "Unknown Hardware (", hrd, ") (len ", p.hardware_len(), "), ");
  }
  if (const auto proto = name(p.protocol_type()); proto != "Unknown") {
    append(out, proto, " (len ", p.protocol_len(), ')');
  } else {
    append(out, "Unknown Protocol (0x", text::hex(pro, 4), ") (len ", p.protocol_len(), ')');
  }
}

bool format(fmt::memory_buffer& out, const Packet<ConstBytes>& p, std::size_t length,
            bool verbose) {
  // Like tcpdump, only IPv4 over a link with addresses can be spelled out;
  // other forms get a summary of the header, and -v gets both.
  const bool plain_ipv4 =
      p.protocol_type() == EtherType::ipv4 && p.protocol_len() == 4 && p.hardware_len() != 0;
  if (!plain_ipv4 || verbose) {
    put_summary(out, p);
    if (!verbose) {
      append(out, ", length ", length);
      return true;
    }
    append(out, ", ");
  }
  const std::string_view op = name(p.operation());
  if (op.empty() || p.operation() == Operation::nak) {
    // tcpdump falls back to a hex dump here, without the length.
    if (op.empty()) {
      append(out, "Unknown (", static_cast<std::uint16_t>(p.operation()), ") ");
    } else {
      append(out, op, ' ');
    }
    return false;
  }
  append(out, op, ' ');
  switch (p.operation()) {
    case Operation::request: {
      append(out, "who-has ");
      put_proto(out, p, p.tpa());
      bool tha_set = false;
      for (auto b : p.tha()) tha_set |= b != std::byte{0};
      if (tha_set) {
        append(out, " (");
        put_hw(out, p.tha());
        append(out, ')');
      }
      append(out, " tell ");
      put_proto(out, p, p.spa());
      break;
    }
    case Operation::reply:
      put_proto(out, p, p.spa());
      append(out, " is-at ");
      put_hw(out, p.sha());
      break;
    case Operation::rarp_request:
    case Operation::inarp_request:
      append(out, "who-is ");
      put_hw(out, p.tha());
      append(out, " tell ");
      put_hw(out, p.sha());
      break;
    case Operation::rarp_reply:
      put_hw(out, p.tha());
      append(out, " at ");
      put_proto(out, p, p.tpa());
      break;
    case Operation::inarp_reply:
      put_hw(out, p.sha());
      append(out, " at ");
      put_proto(out, p, p.spa());
      break;
    case Operation::nak: break;
  }
  append(out, ", length ", length);
  return true;
}

}  // namespace ersatz::wire::arp
