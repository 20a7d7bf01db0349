// Progress of a long loop, printed on rank 0 at most every few seconds:
// items done / total, rate and time left.
#pragma once

#include <cstdint>
#include <string>

namespace fluxrecon {

class Progress {
 public:
  // `total` items of `unit` (e.g. "files", "rows"); lines every `interval_s`.
  Progress(std::string what, std::int64_t total, std::string unit, double interval_s = 5.0);
  // Called by rank 0's loop (other ranks may call it too; only rank 0 prints).
  void advance(std::int64_t items = 1);
  // Prints a final line if anything was printed before.
  void finish();
  std::int64_t done() const { return done_; }

  // The text of one progress line (exposed for tests).
  static std::string line(const std::string& what, std::int64_t done, std::int64_t total,
                          const std::string& unit, double elapsed_s);

 private:
  std::string what_, unit_;
  std::int64_t total_, done_ = 0;
  double interval_s_, start_s_, last_print_s_;
  bool printed_ = false;
};

}  // namespace fluxrecon
