#include "ersatz/link/memory_device.hpp"

#include <algorithm>

namespace ersatz::link {

MemoryDevice::MemoryDevice(std::shared_ptr<Wire> wire, int side, Capabilities caps)
    : wire_(std::move(wire)), side_(side), caps_(std::move(caps)) {}

Result<std::optional<RxFrame>> MemoryDevice::receive(MonoTime /*deadline*/) {
  auto& q = wire_->to[side_];
  if (q.empty()) return std::optional<RxFrame>{};
  current_ = std::move(q.front());
  q.pop_front();
  return RxFrame{{current_.bytes.data(), current_.bytes.size()},
                 static_cast<std::uint32_t>(current_.bytes.size()),
                 current_.ts};
}

Result<void> MemoryDevice::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  Frame f{std::vector<std::byte>(len), clock_()};
  fill(MutBytes(f.bytes.data(), f.bytes.size()));
  wire_->to[1 - side_].push_back(std::move(f));
  ++sent_;
  return {};
}

void MemoryDevice::inject(ConstBytes frame, Timestamp ts) {
  wire_->to[side_].push_back(Frame{{frame.begin(), frame.end()}, ts});
}

std::size_t MemoryDevice::pending() const noexcept { return wire_->to[side_].size(); }

MemoryPair make_memory_pair(Capabilities a, Capabilities b) {
  auto wire = std::make_shared<MemoryDevice::Wire>();
  if (a.name.empty()) a.name = "mem0";
  if (b.name.empty()) b.name = "mem1";
  return {std::make_unique<MemoryDevice>(wire, 0, std::move(a)),
          std::make_unique<MemoryDevice>(wire, 1, std::move(b))};
}

}  // namespace ersatz::link
