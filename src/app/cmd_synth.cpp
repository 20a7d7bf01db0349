#include "app/commands.hpp"
#include "core/error.hpp"

namespace fluxrecon::app {
void add_synth_command(CLI::App& app, std::function<void()>& run) {
  app.add_subcommand("synth", "(being wired)");
  run = [] { FR_FAIL("synth: not wired yet"); };
}
}  // namespace fluxrecon::app
