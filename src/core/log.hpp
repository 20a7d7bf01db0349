// Logging: rank 0 only by default; every rank (prefixed with its number) when
// per-rank logging is switched on (--log-all-ranks or FLUXRECON_LOG_ALL_RANKS=1).
#pragma once

#include <string>

#include "core/error.hpp"

namespace fluxrecon::log {

enum class Level { quiet = 0, info = 1, debug = 2 };

void set_level(Level level);
Level level();
void set_all_ranks(bool all_ranks);
bool all_ranks();

// Writes one line to stdout if this rank logs at `level`.
void write(Level level, const std::string& line);
// Writes one line to stderr on this rank regardless of settings (errors).
void error_line(const std::string& line);

template <class... Parts>
void info(Parts&&... parts) {
  write(Level::info, concat(std::forward<Parts>(parts)...));
}
// A subcommand's final one-line summary: shown under --quiet too.
template <class... Parts>
void summary(Parts&&... parts) {
  write(Level::quiet, concat(std::forward<Parts>(parts)...));
}
template <class... Parts>
void debug(Parts&&... parts) {
  write(Level::debug, concat(std::forward<Parts>(parts)...));
}

// Human-readable sizes and durations for summaries.
std::string bytes(double count);
// A number as short as 9 significant digits allow ("1048576", "0.95",
// "1e-12"); "" for NaN (an empty CSV field).
std::string number(double value);
std::string seconds(double s);

}  // namespace fluxrecon::log
