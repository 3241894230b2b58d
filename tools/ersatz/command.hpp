// How subcommands plug into the ersatz binary: each file defines one
// subcommand and registers it with the CLI11 app.
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace ersatz::tools {

/// Exit codes shared by the subcommands, following the tools they replace.
enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

/// A registered subcommand: `run` is called after parsing when the
/// subcommand was given, and returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command register_dump(CLI::App& parent);
Command register_interfaces(CLI::App& parent);
Command register_route(CLI::App& parent);
Command register_ping(CLI::App& parent);

/// Appends a JSON string literal (RFC 8259 §7), escaping quotes,
/// backslashes and control characters: interface names and aliases may
/// hold any byte but NUL.
void json_string(fmt::memory_buffer& out, std::string_view s);

/// Prints "ersatz: MESSAGE" on stderr.
void error_line(std::string_view message);

/// Prints why device `iface` did not open: the missing capability, missing
/// Npcap, or "IFACE: reason" (`detail` when the backend gave one). Returns
/// exit_usage for the first two (the tools ersatz replaces exit 2 there),
/// exit_failure otherwise.
int report_open_failure(std::string_view iface, const std::error_code& error,
                        const std::string& detail);

}  // namespace ersatz::tools
