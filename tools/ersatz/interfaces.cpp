// ersatz interfaces: placeholder until discovery lands.
#include "command.hpp"

namespace ersatz::tools {

Command register_interfaces(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("interfaces", "(not yet implemented)");
  return Command{app, [] {
    error_line("interfaces: not yet implemented");
    return exit_failure;
  }};
}

}  // namespace ersatz::tools
