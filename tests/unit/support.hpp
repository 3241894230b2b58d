// Helpers shared by the unit tests: golden frames captured from the Linux
// kernel (tests/data/golden_frames.txt) and byte-buffer utilities.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ersatz/base/bytes.hpp"

namespace ersatz::test {

using Bytes = std::vector<std::byte>;

inline Bytes from_hex(const std::string& hex) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : hex) {
    const int v = nibble(c);
    if (v < 0) continue;  // spaces and separators are allowed
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline std::string data_path(const std::string& file) {
  return std::string(ERSATZ_TEST_DATA) + "/" + file;
}

/// A frame of tests/data/golden_frames.txt by name, and tcpdump's -e line for it.
struct Golden {
  Bytes frame;
  std::string tcpdump_e;
};

inline Golden golden(const std::string& name) {
  std::ifstream in(data_path("golden_frames.txt"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string n, hex, text;
    std::getline(fields, n, '\t');
    std::getline(fields, hex, '\t');
    std::getline(fields, text);
    if (n == name) return {from_hex(hex), text};
  }
  throw std::runtime_error("no golden frame named " + name);
}

/// An emit buffer pre-filled with 0xa5, so bytes emit forgot stand out.
inline Bytes poisoned(std::size_t n) { return Bytes(n, std::byte{0xa5}); }

inline ConstBytes cb(const Bytes& b) { return {b.data(), b.size()}; }
inline ConstBytes cb(ConstBytes b) { return b; }
inline MutBytes mb(Bytes& b) { return {b.data(), b.size()}; }

}  // namespace ersatz::test
