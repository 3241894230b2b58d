// ersatz: a userspace network stack and its tools.
#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#include <winsock2.h>
#endif

#include <fmt/format.h>
#include <cstdio>
#include <ersatz/version.hpp>
#include <vector>

#include "command.hpp"

namespace ersatz::tools {}  // namespace ersatz::tools

int main(int argc, char** argv) {
  using namespace ersatz::tools;
#if defined(_WIN32)
  // Standard input and output carry pcap streams (dump -r -, -w -), and
  // every line should read as on Linux: no CRLF translation.
  _setmode(_fileno(stdin), _O_BINARY);
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  // Winsock must be started before getaddrinfo resolves a host name.
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
    error_line("cannot start Winsock");
    return exit_failure;
  }
#endif
  CLI::App app{"ersatz: ARP, IPv4 and ICMP in userspace, and the tools on top", "ersatz"};
  app.set_version_flag("--version",
                       fmt::format("ersatz {} ({})", ersatz::version(), ersatz::git_revision()));
  app.require_subcommand(1);
  std::vector<Command> commands;
  commands.push_back(register_dump(app));
  commands.push_back(register_interfaces(app));
  commands.push_back(register_route(app));
  commands.push_back(register_ping(app));
  commands.push_back(register_sweep(app));
  commands.push_back(register_traceroute(app));
  // Last: it describes every subcommand registered before it.
  commands.push_back(register_completion(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem; usage errors exit as the tool each
    // subcommand replaces does (2 for iputils and tcpdump, 1 for fping).
    const CLI::App* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands()[0];
    error_line(fmt::format("{} (try 'ersatz {}--help')", e.what(),
                           sub == nullptr ? "" : sub->get_name() + " "));
    for (const auto& c : commands) {
      if (c.app == sub) return c.usage_exit;
    }
    return exit_usage;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return exit_usage;
}
