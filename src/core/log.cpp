#include "core/log.hpp"

#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fluxrecon::log {
namespace {
Level g_level = Level::info;
int g_all_ranks = -1;  // -1: read the environment on first use

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
    std::fprintf(stdout, "%s\n", line.c_str());
  } else {
    return;
  }
  std::fflush(stdout);
}

void error_line(const std::string& line) {
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
