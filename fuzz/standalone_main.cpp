// Replays inputs through a fuzz target without libFuzzer (gcc builds, the
// asan preset): every file named on the command line, and every file under
// each directory named, recursively, in sorted order. Arguments that start
// with '-' (libFuzzer flags) are ignored.
//
// Each input is copied into a heap buffer of exactly its size, as libFuzzer
// does, so that ASan catches a read one byte past the end.
//
// Exit status: 0 when every input ran; 1 when a path is missing or
// unreadable, or a directory holds no files (a replay that ran nothing must
// not pass); a crash or a failed property aborts, as under libFuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

bool read_file(const fs::path& path, std::vector<char>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

bool run_one(const fs::path& path) {
  std::vector<char> bytes;
  if (!read_file(path, bytes)) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::fprintf(stderr, "Running: %s (%zu bytes)\n", path.c_str(), bytes.size());
  const std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(copy.get()));
  LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  return true;
}

/// The regular files under `dir`, recursively, sorted; hidden files (such as
/// an editor's backup or .gitkeep) are skipped.
std::vector<fs::path> files_under(const fs::path& dir, std::error_code& ec) {
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  std::size_t total = 0;
  std::size_t paths = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg.front() == '-') continue;
    ++paths;
    const fs::path path(arg);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      const std::vector<fs::path> files = files_under(path, ec);
      if (ec) {
        std::fprintf(stderr, "replay: %s: %s\n", arg.c_str(), ec.message().c_str());
        status = 1;
        continue;
      }
      std::size_t ran = 0;
      for (const fs::path& f : files) {
        if (run_one(f)) {
          ++ran;
        } else {
          status = 1;
        }
      }
      std::printf("replay: %zu inputs from %s\n", ran, arg.c_str());
      if (files.empty()) {
        std::fprintf(stderr, "replay: FAIL: %s holds no input files\n", arg.c_str());
        status = 1;
      }
      total += ran;
    } else if (fs::is_regular_file(path, ec)) {
      if (run_one(path)) {
        ++total;
      } else {
        status = 1;
      }
    } else {
      std::fprintf(stderr, "replay: FAIL: %s: no such file or directory\n", arg.c_str());
      status = 1;
    }
  }
  if (paths == 0) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argc > 0 ? argv[0] : "replay");
    return 2;
  }
  std::printf("replay: %zu inputs in all%s\n", total, status ? " (with errors)" : "");
  std::fflush(stdout);
  return status;
}
