// ersatz route: placeholder until discovery lands.
#include "command.hpp"

namespace ersatz::tools {

Command register_route(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("route", "(not yet implemented)");
  return Command{app, [] {
    error_line("route: not yet implemented");
    return exit_failure;
  }};
}

}  // namespace ersatz::tools
