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

  /// Sends what the inner device queued. The file is written as its
  /// buffer fills and when the tracer is destroyed (flush_file() forces it).
  Result<void> flush() override { return inner_.flush(); }
  Result<void> flush_file() { return writer_.flush(); }
  std::uint64_t tx_count() const noexcept override { return inner_.tx_count(); }
  Result<void> tx_timestamps(FunctionRef<void(std::uint64_t, Timestamp)> on_stamp) override {
    return inner_.tx_timestamps(on_stamp);
  }

 private:
  Device& inner_;
  PcapWriter writer_;
};

}  // namespace ersatz::link
