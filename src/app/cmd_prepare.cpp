#include "app/commands.hpp"
#include "core/error.hpp"

namespace fluxrecon::app {
void add_prepare_command(CLI::App& app, std::function<void()>& run) {
  app.add_subcommand("prepare", "(being wired)");
  run = [] { FR_FAIL("prepare: not wired yet"); };
}
}  // namespace fluxrecon::app
