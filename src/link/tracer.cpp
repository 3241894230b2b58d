#include "ersatz/link/tracer.hpp"

namespace ersatz::link {

Result<std::optional<RxFrame>> Tracer::receive(MonoTime deadline) {
  auto r = inner_.receive(deadline);
  if (r && *r) {
    if (auto w = writer_.write((*r)->ts, (*r)->data, (*r)->wire_len); !w)
      return tl::unexpected(w.error());
  }
  return r;
}

Result<void> Tracer::transmit(std::size_t len, FunctionRef<void(MutBytes)> fill) {
  Result<void> traced;
  auto sent = inner_.transmit(len, [&](MutBytes buf) {
    fill(buf);
    // The frame is recorded as it leaves, from the transmit buffer itself.
    traced = writer_.write(wall_now(), buf);
  });
  if (!sent) return sent;
  return traced;
}

}  // namespace ersatz::link
