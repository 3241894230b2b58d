// A shared library loaded at run time (dlopen on POSIX, LoadLibrary on
// Windows), for the dependencies ersatz must be able to start without:
// libpcap (Npcap's wpcap.dll on Windows), needed only by the pcap backend
// and the filter compiler. Nothing is linked against them, so a process that
// never asks for them never maps them, and one that asks where they are
// missing gets an error instead of failing to start.
#pragma once

#include <string>

#include "ersatz/base/result.hpp"

namespace ersatz {

class SharedLibrary {
 public:
  /// Loads `name`. A bare file name is searched for as the platform does it
  /// for a program's own libraries: on Linux the SONAME through ld.so's
  /// cache (a setcap or setuid program ignores LD_LIBRARY_PATH there); on
  /// Windows System32 only, never the current folder. A path is loaded as
  /// it is (on Windows with its own folder searched for its dependencies).
  /// std::errc::no_such_file_or_directory when it cannot be loaded, with
  /// the loader's reason in `detail`.
  static Result<SharedLibrary> open(const std::string& name, std::string* detail = nullptr);

  SharedLibrary() = default;
  SharedLibrary(SharedLibrary&& other) noexcept : handle_(other.handle_) {
    other.handle_ = nullptr;
  }
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  /// Unloads the library: every pointer bound from it dangles after this.
  ~SharedLibrary();

  explicit operator bool() const noexcept { return handle_ != nullptr; }

  /// The address of `name`, or nullptr when the library does not export it.
  void* symbol(const char* name) const noexcept;

  /// Points `fn` at the entry point `name`, converted to its declared type
  /// here, once (POSIX guarantees that a dlsym result converts to a
  /// function pointer; on Windows every export is a function). False, and
  /// `fn` null, when there is none.
  template <class F>
  bool bind(const char* name, F& fn) const noexcept {
    fn = reinterpret_cast<F>(symbol(name));
    return fn != nullptr;
  }

 private:
  explicit SharedLibrary(void* handle) noexcept : handle_(handle) {}
  void* handle_ = nullptr;
};

}  // namespace ersatz
