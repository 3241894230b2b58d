// Option values read the way the tools ersatz replaces read them (iputils'
// strtol_or_err() and ping_strtod()), so that a bad value gets their one
// line and exit code rather than the argument parser's.
#pragma once

#include <optional>
#include <string>
#include <tl/expected.hpp>

namespace ersatz::tools {

/// A whole number, as strtol() reads one for the tools ersatz replaces
/// (base 10, or 0: C's 0x and 0 prefixes): leading blanks allowed, nothing
/// after the digits; nothing when there is no such number or it does not
/// fit.
std::optional<long long> parse_whole(const std::string& text, int base = 10);

/// A whole decimal number in [lo, hi], as iputils' strtol_or_err() takes
/// it: leading blanks allowed, nothing after the digits. Otherwise the text
/// iputils prints after "PROG: " (it then exits 1):
/// "invalid argument: 'X'", "invalid argument: 'X': out of range: LO <=
/// value <= HI", or "invalid argument: 'X': Numerical result out of range".
tl::expected<long long, std::string> parse_integer(const std::string& text, long long lo,
                                                   long long hi);

/// A real number as iputils' ping_strtod() takes it: leniently. Text after
/// the number (or no number at all) is only warned about, and the number
/// read so far (0 for none) is used.
struct LenientReal {
  double value = 0;
  /// What followed the number, when anything did: iputils warns "option
  /// argument contains garbage: G" and "this will become fatal error in
  /// the future", and goes on.
  std::optional<std::string> garbage;
  /// Too large for a double, or nan or inf: iputils stops with
  /// "WHAT: X: Numerical result out of range" (exit 2).
  bool out_of_range = false;
};
LenientReal parse_real_lenient(const std::string& text);

}  // namespace ersatz::tools
