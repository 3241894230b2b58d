// The cmsghdr framing of put_cmsg() (net/core/scm.c): a header whose
// cmsg_len counts header and data, the data at CMSG_LEN(0), the next
// header CMSG_ALIGN(cmsg_len) further on.
#include "ersatz/link/cmsg.hpp"

#include <sys/socket.h>

#include "ersatz/link/open_device.hpp"

namespace ersatz::link::cmsg {
namespace {

// Headers and data are aligned to sizeof(size_t) on this ABI (<bits/socket.h>).
constexpr std::size_t align(std::size_t n) noexcept {
  return (n + sizeof(std::size_t) - 1) & ~(sizeof(std::size_t) - 1);
}
constexpr std::size_t header_len = sizeof(cmsghdr);
constexpr std::size_t data_at = align(sizeof(cmsghdr));
static_assert(data_at == CMSG_LEN(0));

}  // namespace

Result<void> walk(ConstBytes control, FunctionRef<void(const Message&)> visit) noexcept {
  std::size_t at = 0;
  while (control.size() - at >= header_len) {
    const std::size_t len =
        load<decltype(cmsghdr{}.cmsg_len)>(control, at + offsetof(cmsghdr, cmsg_len));
    const auto level = load<int>(control, at + offsetof(cmsghdr, cmsg_level));
    const auto type = load<int>(control, at + offsetof(cmsghdr, cmsg_type));
    if (len < data_at || len > control.size() - at) return fail(RawError::bad_control);
    visit(Message{level, type, control.subspan(at + data_at, len - data_at)});
    const std::size_t step = align(len);
    if (step > control.size() - at) break;
    at += step;
  }
  return {};
}

}  // namespace ersatz::link::cmsg
