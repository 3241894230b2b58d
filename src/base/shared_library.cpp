// Run-time loading (shared_library.hpp): dlopen/dlsym, or LoadLibraryExW and
// GetProcAddress.
#include "ersatz/base/shared_library.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <utility>

#if defined(_WIN32)
#include "wide.hpp"
#endif

namespace ersatz {

#if defined(_WIN32)

Result<SharedLibrary> SharedLibrary::open(const std::string& name, std::string* detail) {
  const bool is_path = name.find_first_of("\\/:") != std::string::npos;
  // A bare name only from System32: LoadLibrary's default search starts in
  // the program's and the current folder, where anyone may have put a DLL
  // of that name. A path gets its own folder searched for its dependencies
  // (Npcap's wpcap.dll needs its Packet.dll, which lives beside it).
  const DWORD flags = is_path ? LOAD_WITH_ALTERED_SEARCH_PATH : LOAD_LIBRARY_SEARCH_SYSTEM32;
  HMODULE h = LoadLibraryExW(widen(name).c_str(), nullptr, flags);
  if (h == nullptr) {
    // The code alone: its text is os::win32_category()'s business, and the
    // callers name what is missing in their own words.
    if (detail != nullptr) *detail = name + ": error " + std::to_string(GetLastError());
    return fail(std::errc::no_such_file_or_directory);
  }
  return SharedLibrary(static_cast<void*>(h));
}

SharedLibrary::~SharedLibrary() {
  if (handle_ != nullptr) FreeLibrary(static_cast<HMODULE>(handle_));
}

void* SharedLibrary::symbol(const char* name) const noexcept {
  if (handle_ == nullptr) return nullptr;
  // GetProcAddress's FARPROC, through void*, so that bind() converts from
  // one type everywhere (and -Wcast-function-type has nothing to say).
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(handle_), name));
}

#else

Result<SharedLibrary> SharedLibrary::open(const std::string& name, std::string* detail) {
  // RTLD_NOW: a library that cannot be fully bound fails here, with a
  // reason, not at its first call. RTLD_LOCAL: its symbols stay out of the
  // process's namespace.
  void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    if (detail != nullptr) {
      const char* why = ::dlerror();
      *detail = why != nullptr ? why : name + ": cannot be loaded";
    }
    return fail(std::errc::no_such_file_or_directory);
  }
  return SharedLibrary(h);
}

SharedLibrary::~SharedLibrary() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

void* SharedLibrary::symbol(const char* name) const noexcept {
  return handle_ != nullptr ? ::dlsym(handle_, name) : nullptr;
}

#endif

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    SharedLibrary old(handle_);  // closes what this held, once it goes
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

}  // namespace ersatz
