// The fuzzed network shared by the stateful targets (fuzz_stack,
// fuzz_trace): a Device that delivers the input's frames, each at its due
// time on a FakeClock, and counts and drops what is sent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "ersatz/link/device.hpp"
#include "ersatz/runtime/runtime.hpp"

namespace ersatz::fuzz {

/// The network: the input's frames, each due at its time; what we send is
/// counted and dropped.
class ScriptedLink final : public link::Device {
 public:
  explicit ScriptedLink(runtime::FakeClock& clock) : clock_(clock) {
    caps_.name = "fuzz0";
    caps_.mac = wire::MacAddress({0x02, 0, 0, 0, 0, 0x01});
  }
  void add(MonoTime due, ConstBytes frame) {
    frames_.emplace(due, std::vector<std::byte>(frame.begin(), frame.end()));
  }
  Result<std::optional<link::RxFrame>> receive(MonoTime deadline) override {
    if (frames_.empty()) return std::optional<link::RxFrame>{};
    auto it = frames_.begin();
    if (it->first > clock_.now()) {
      if (it->first > deadline) return std::optional<link::RxFrame>{};
      clock_.idle_until(it->first);
    }
    current_ = std::move(it->second);
    frames_.erase(it);
    return link::RxFrame{ConstBytes(current_.data(), current_.size()),
                         static_cast<std::uint32_t>(current_.size()), clock_.wall_at(clock_.now())};
  }
  Result<void> transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) override {
    buf_.resize(len);
    fill(MutBytes(buf_.data(), len));
    ++sent_;
    return {};
  }
  const link::Capabilities& capabilities() const noexcept override { return caps_; }
  std::uint64_t sent() const noexcept { return sent_; }

 private:
  runtime::FakeClock& clock_;
  link::Capabilities caps_;
  std::multimap<MonoTime, std::vector<std::byte>> frames_;
  std::vector<std::byte> current_;
  std::vector<std::byte> buf_;
  std::uint64_t sent_ = 0;
};

}  // namespace ersatz::fuzz
