// Least privilege through the kernel's capget/capset: what ersatz reads
// agrees with /proc/self/status, and dropping leaves nothing behind. The
// drop runs in a child process, so the test runner keeps what it has.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "ersatz/link/privileges.hpp"

namespace ersatz::link {
namespace {

/// A hexadecimal field of /proc/self/status ("CapEff", "NoNewPrivs" is
/// decimal but one digit, which reads the same).
std::uint64_t status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0)
      return std::stoull(line.substr(name.size() + 1), nullptr, 16);
  }
  ADD_FAILURE() << name << " not in /proc/self/status";
  return 0;
}

constexpr int cap_net_raw = 13;  // <linux/capability.h>

TEST(Privileges, CapNetRawAgreesWithTheKernel) {
  EXPECT_EQ(has_cap_net_raw(), ((status_field("CapEff") >> cap_net_raw) & 1) != 0);
}

TEST(Privileges, DropClearsEverySetAndForbidsRegaining) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes name what went wrong; gtest macros do not cross fork().
    if (!drop_privileges()) _exit(1);
    if (status_field("CapEff") != 0) _exit(2);
    if (status_field("CapPrm") != 0) _exit(3);
    if (status_field("CapInh") != 0) _exit(4);
    if (status_field("NoNewPrivs") != 1) _exit(5);
    if (has_cap_net_raw()) _exit(6);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace ersatz::link
