// A pcap file as a device: its records are the receive stream, and what is
// sent is recorded (to a file, and in memory for tests). Lets tests and
// offline runs drive the stack without privileges.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ersatz/link/device.hpp"
#include "ersatz/link/pcap_file.hpp"

namespace ersatz::link {

class PcapFileDevice final : public Device {
 public:
  /// Replays `read_path`; when `write_path` is given, sent frames go there.
  static Result<PcapFileDevice> open(const std::string& read_path,
                                     const std::optional<std::string>& write_path = {},
                                     Capabilities caps = {});
  PcapFileDevice(PcapFileDevice&&) noexcept = default;

  /// The next record, at once; nullopt at the end of the file.
  Result<std::optional<RxFrame>> receive(MonoTime deadline) override;
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override;
  const Capabilities& capabilities() const noexcept override { return caps_; }

  /// Everything sent so far.
  const std::vector<std::vector<std::byte>>& sent() const noexcept { return sent_; }

 private:
  PcapFileDevice(PcapReader reader, std::optional<PcapWriter> writer, Capabilities caps);
  PcapReader reader_;
  std::optional<PcapWriter> writer_;
  Capabilities caps_;
  std::vector<std::vector<std::byte>> sent_;
};

}  // namespace ersatz::link
