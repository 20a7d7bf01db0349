#include "core/log.hpp"

#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/log_progress.hpp"

namespace fluxrecon::log {
namespace {
Level g_level = Level::info;
int g_all_ranks = -1;          // -1: read the environment on first use
int g_terminal = -1;           // -1: ask isatty on first use
bool g_progress_open = false;  // a progress line without its newline is on screen

// Ends an open progress line so that the next line does not overwrite it.
void close_progress_line() {
  if (!g_progress_open) return;
  std::fputc('\n', stdout);
  g_progress_open = false;
}

int world_rank() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_all_ranks(bool a) { g_all_ranks = a ? 1 : 0; }

bool all_ranks() {
  if (g_all_ranks < 0) {
    const char* env = std::getenv("FLUXRECON_LOG_ALL_RANKS");
    g_all_ranks = (env && std::strcmp(env, "0") != 0 && *env) ? 1 : 0;
  }
  return g_all_ranks == 1;
}

void write(Level l, const std::string& line) {
  if (static_cast<int>(l) > static_cast<int>(g_level)) return;
  const int r = world_rank();
  if (all_ranks()) {
    std::fprintf(stdout, "[%d] %s\n", r, line.c_str());
  } else if (r == 0) {
    close_progress_line();
    std::fprintf(stdout, "%s\n", line.c_str());
  } else {
    return;
  }
  std::fflush(stdout);
}

bool stdout_is_terminal() {
  // Open MPI's mpirun gives its ranks a pseudo-terminal even when its own
  // output goes to a file: under a launcher, carriage returns would litter
  // the log, so only a process started directly rewrites its line.
  if (g_terminal < 0) {
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_RANK") ||
                          std::getenv("PMIX_RANK") || std::getenv("SLURM_PROCID");
    g_terminal = !launched && isatty(fileno(stdout)) ? 1 : 0;
  }
  return g_terminal == 1;
}

void force_terminal_for_tests(int is_terminal) { g_terminal = is_terminal; }

void progress_line(const std::string& line, bool final) {
  if (g_level < Level::info) return;
  if (all_ranks() || !stdout_is_terminal()) {
    write(Level::info, line);
    return;
  }
  if (world_rank() != 0) return;
  // \r and erase-to-end-of-line: the new text replaces the old in place.
  std::fprintf(stdout, "\r%s\033[K", line.c_str());
  g_progress_open = true;
  if (final) close_progress_line();
  std::fflush(stdout);
}

void error_line(const std::string& line) {
  if (world_rank() == 0 && g_progress_open) {
    close_progress_line();
    std::fflush(stdout);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string number(double value) {
  if (std::isnan(value)) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  return buf;
}

std::string bytes(double count) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (count >= 1024.0 && u < 4) {
    count /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", count, units[u]);
  return buf;
}

std::string seconds(double s) {
  char buf[32];
  if (s < 120) {
    std::snprintf(buf, sizeof(buf), "%.1f s", s);
  } else if (s < 7200) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s) / 3600,
                  (static_cast<int>(s) / 60) % 60);
  }
  return buf;
}

}  // namespace fluxrecon::log
