#include "ersatz/link/device.hpp"

#include <algorithm>

namespace ersatz::link {

Result<void> transmit_copy(Device& dev, ConstBytes frame) {
  return dev.transmit(frame.size(),
                      [&](MutBytes buf) { std::copy(frame.begin(), frame.end(), buf.begin()); });
}

}  // namespace ersatz::link
