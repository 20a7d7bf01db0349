// The progress line of core/progress.hpp: on a terminal it is rewritten in
// place (carriage return, no newline) instead of adding a line per update;
// in a file or pipe (SLURM logs, tests), and under an MPI launcher, every
// update is a line of its own.
#pragma once

#include <string>

namespace fluxrecon::log {

// Prints `line` at info level on rank 0. On a terminal it replaces the
// previous progress line; the next other log line starts on a fresh line.
// `final` ends the progress line with a newline.
void progress_line(const std::string& line, bool final);

// Whether stdout is a terminal (tests may force either answer).
bool stdout_is_terminal();
void force_terminal_for_tests(int is_terminal);  // -1: ask isatty again

}  // namespace fluxrecon::log
