#include "ersatz/link/pcap_device.hpp"

namespace ersatz::link {

PcapFileDevice::PcapFileDevice(PcapReader reader, std::optional<PcapWriter> writer,
                               Capabilities caps)
    : reader_(std::move(reader)), writer_(std::move(writer)), caps_(std::move(caps)) {}

Result<PcapFileDevice> PcapFileDevice::open(const std::string& read_path,
                                            const std::optional<std::string>& write_path,
                                            Capabilities caps) {
  auto reader = PcapReader::open(read_path);
  if (!reader) return tl::unexpected(reader.error());
  std::optional<PcapWriter> writer;
  if (write_path) {
    auto w = PcapWriter::create(*write_path);
    if (!w) return tl::unexpected(w.error());
    writer.emplace(std::move(*w));
  }
  if (caps.name.empty()) caps.name = read_path;
  caps.kernel_timestamps = true;  // the file's own timestamps
  return PcapFileDevice(std::move(*reader), std::move(writer), std::move(caps));
}

Result<std::optional<RxFrame>> PcapFileDevice::receive(MonoTime /*deadline*/) {
  auto rec = reader_.next();
  if (!rec) return tl::unexpected(rec.error());
  if (!*rec) return std::optional<RxFrame>{};
  return RxFrame{(*rec)->data, (*rec)->wire_len, (*rec)->ts};
}

Result<void> PcapFileDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  std::vector<std::byte> frame(len);
  fill(MutBytes(frame.data(), frame.size()));
  if (writer_) {
    if (auto r = writer_->write(wall_now(), ConstBytes(frame.data(), frame.size())); !r) return r;
  }
  sent_.push_back(std::move(frame));
  return {};
}

}  // namespace ersatz::link
