// Subcommand registry: each src/app/cmd_*.cpp adds its subcommand and the
// function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace fluxrecon::app {

void register_commands(CLI::App& app);
void run_selected(CLI::App& app);

// Each subcommand file defines one of these.
void add_synth_command(CLI::App& app, std::function<void()>& run);
void add_prepare_command(CLI::App& app, std::function<void()>& run);
void add_train_command(CLI::App& app, std::function<void()>& run);
void add_tiles_command(CLI::App& app, std::function<void()>& run);
void add_reconstruct_command(CLI::App& app, std::function<void()>& run);
void add_run_command(CLI::App& app, std::function<void()>& run);
void add_analyze_command(CLI::App& app, std::function<void()>& run);
void add_tune_command(CLI::App& app, std::function<void()>& run);
void add_explain_command(CLI::App& app, std::function<void()>& run);

}  // namespace fluxrecon::app
