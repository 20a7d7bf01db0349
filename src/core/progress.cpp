#include "core/progress.hpp"

#include <cstdio>

#include "core/log.hpp"
#include "core/log_progress.hpp"
#include "core/timer.hpp"

namespace fluxrecon {

Progress::Progress(std::string what, std::int64_t total, std::string unit, double interval_s)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      interval_s_(interval_s),
      start_s_(wall_seconds()),
      last_print_s_(start_s_) {}

std::string Progress::line(const std::string& what, std::int64_t done, std::int64_t total,
                           const std::string& unit, double elapsed_s) {
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  const double left = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s: %lld/%lld %s (%.0f%%), %.3g %s/s, elapsed %s, ETA %s",
                what.c_str(), static_cast<long long>(done), static_cast<long long>(total),
                unit.c_str(),
                total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                rate, unit.c_str(), log::seconds(elapsed_s).c_str(),
                done >= total ? "0 s" : log::seconds(left).c_str());
  return buf;
}

void Progress::advance(std::int64_t items) {
  done_ += items;
  const double now = wall_seconds();
  if (now - last_print_s_ >= interval_s_ && done_ < total_) {
    log::progress_line(line(what_, done_, total_, unit_, now - start_s_), false);
    last_print_s_ = now;
    printed_ = true;
  }
}

void Progress::finish() {
  if (printed_)
    log::progress_line(line(what_, done_, total_, unit_, wall_seconds() - start_s_), true);
  printed_ = false;
}

}  // namespace fluxrecon
