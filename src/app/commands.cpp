#include "app/commands.hpp"

#include <map>
#include <string>

namespace fluxrecon::app {
namespace {
std::map<std::string, std::function<void()>>& runners() {
  static std::map<std::string, std::function<void()>> table;
  return table;
}
template <class Add>
void add(CLI::App& app, const std::string& name, Add add_command) {
  add_command(app, runners()[name]);
}
}  // namespace

void register_commands(CLI::App& app) {
  add(app, "synth", add_synth_command);
  add(app, "prepare", add_prepare_command);
  add(app, "train", add_train_command);
  add(app, "tiles", add_tiles_command);
  add(app, "reconstruct", add_reconstruct_command);
  add(app, "run", add_run_command);
  add(app, "analyze", add_analyze_command);
  add(app, "tune", add_tune_command);
  add(app, "explain", add_explain_command);
}

void run_selected(CLI::App& app) {
  for (auto* sub : app.get_subcommands()) {
    auto it = runners().find(sub->get_name());
    if (it != runners().end() && it->second) it->second();
  }
}

}  // namespace fluxrecon::app
