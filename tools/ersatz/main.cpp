// ersatz: a userspace network stack and its tools.
#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#include <winsock2.h>
#endif

#include <fmt/format.h>
#include <cstdio>
#include <ersatz/link/npcap.hpp>
#include <ersatz/link/open_device.hpp>
#include <ersatz/link/privileges.hpp>
#include <vector>

#include "command.hpp"

namespace ersatz::tools {

void error_line(std::string_view message) { fmt::print(stderr, "ersatz: {}\n", message); }

int report_open_failure(std::string_view iface, const std::error_code& error,
                        const std::string& detail) {
  if (link::is_permission_error(error)) {
    error_line(link::needs_cap_net_raw);
    return exit_usage;
  }
  if (error == link::NpcapError::not_installed) {
    error_line(link::npcap_not_installed);
    return exit_usage;
  }
  error_line(fmt::format("{}: {}", iface, detail.empty() ? error.message() : detail));
  return exit_failure;
}

void json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace ersatz::tools

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
  app.set_version_flag("--version", "ersatz 0.1.0");
  app.require_subcommand(1);
  std::vector<Command> commands;
  commands.push_back(register_dump(app));
  commands.push_back(register_interfaces(app));
  commands.push_back(register_route(app));
  commands.push_back(register_ping(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem; usage errors exit 2 like iputils and tcpdump.
    error_line(fmt::format(
        "{} (try 'ersatz {}--help')", e.what(),
        app.get_subcommands().empty() ? "" : app.get_subcommands()[0]->get_name() + " "));
    return exit_usage;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return exit_usage;
}
