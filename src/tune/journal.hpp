// Study journal: an append-only file of JSON lines, one per event
//   {"event":"start","trial":UID,"params":{...},"time":T,"host":H,"pid":P}
//   {"event":"report","trial":UID,"step":S,"value":V}
//   {"event":"finish","trial":UID,"state":"complete|pruned|failed","value":V}
// Each line is one write() on an O_APPEND descriptor followed by fsync, so a
// crash loses at most the line being written and several processes (jobs)
// can append to one journal without interleaving. Trials are identified by a
// UID unique over all writers and numbered by the order of their start lines.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tune/search_space.hpp"
#include "tune/trial.hpp"

namespace fluxrecon::tune {

struct JournalContents {
  std::vector<Trial> trials;          // in the order of their start lines
  std::vector<std::string> warnings;  // one per skipped line or event
  size_t lines = 0;                   // non-empty lines read
};

class Journal {
 public:
  // Opens `path` for appending, creating it (and nothing else) if absent. A
  // last line cut short by a crash is ended first, so the next event starts on
  // a line of its own.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends the start of a trial with these parameters (external values) and
  // returns its new UID.
  std::string start_trial(const nlohmann::json& params);
  void report(const std::string& uid, int step, double value);
  // `value` is the objective (complete), the last intermediate value (pruned)
  // or NaN (failed); NaN is written as null.
  void finish(const std::string& uid, TrialState state, double value);
  const std::string& path() const { return path_; }

  // Reconstructs the trials. Lines that are not valid events (corrupt,
  // truncated, unknown trial) are skipped with a warning naming the file and
  // line; trials whose parameters do not fit `space` are kept as failed, with
  // a warning, so that they neither steer the sampler nor shift numbering. A
  // missing file is an empty study.
  static JournalContents read(const std::string& path, const SearchSpace& space);

 private:
  void append(const nlohmann::json& event);
  std::string path_;
  int fd_ = -1;
  std::uint64_t counter_ = 0;
  std::string writer_;  // "host:pid:random", the prefix of this writer's UIDs
};

// The best complete trial, or nullptr when there is none.
const Trial* best_trial(const std::vector<Trial>& trials, Direction direction);

}  // namespace fluxrecon::tune
