#include "ersatz/link/unique_fd.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace ersatz::link {

void UniqueFd::reset(int fd) noexcept {
  // close() is not retried on EINTR: on Linux the descriptor is gone either
  // way, and a retry could close one another thread just opened.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void Mapping::reset() noexcept {
  if (addr_ != nullptr) ::munmap(addr_, len_);
  addr_ = nullptr;
  len_ = 0;
}

}  // namespace ersatz::link
