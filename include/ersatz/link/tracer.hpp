// A wrapper that writes every frame sent and received to a pcap file: the
// `--pcap-out FILE` of every tool.
#pragma once

#include "ersatz/link/device.hpp"
#include "ersatz/link/pcap_file.hpp"

namespace ersatz::link {

class Tracer final : public Device {
 public:
  Tracer(Device& inner, PcapWriter writer) : inner_(inner), writer_(std::move(writer)) {}

  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return inner_.capabilities(); }
  int poll_fd() const noexcept override { return inner_.poll_fd(); }
  std::uint64_t drops() const noexcept override { return inner_.drops(); }

  Result<void> flush() { return writer_.flush(); }

 private:
  Device& inner_;
  PcapWriter writer_;
};

}  // namespace ersatz::link
