#include "tune/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "core/error.hpp"

namespace fluxrecon::tune {
using nlohmann::json;

namespace {
std::string errno_text() { return std::strerror(errno); }

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double to_double(const json& j) {
  if (j.is_null()) return std::nan("");
  if (!j.is_number()) throw std::runtime_error("expected a number");
  return j.get<double>();
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}
}  // namespace

Journal::Journal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  FR_REQUIRE(fd_ >= 0, "cannot open study journal '", path_, "' for appending: ", errno_text());
  struct stat st {};
  FR_REQUIRE(fstat(fd_, &st) == 0, "cannot stat study journal '", path_, "': ", errno_text());
  if (st.st_size > 0) {
    char last = '\n';
    FR_REQUIRE(pread(fd_, &last, 1, st.st_size - 1) == 1, "cannot read study journal '", path_,
               "': ", errno_text());
    // A crash mid-line left no newline: end that line so ours stays intact.
    // Two writers doing this at once only add an empty line, which is skipped.
    if (last != '\n') {
      FR_REQUIRE(::write(fd_, "\n", 1) == 1, "cannot write study journal '", path_,
                 "': ", errno_text());
    }
  }
  std::random_device rd;
  const std::uint64_t nonce = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(nonce));
  writer_ = host_name() + ":" + std::to_string(::getpid()) + ":" + hex;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const json& event) {
  const std::string line = event.dump() + "\n";
  // One write() per line: with O_APPEND the kernel places it atomically at the
  // end, so concurrent writers never interleave inside a line.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  FR_REQUIRE(written == static_cast<ssize_t>(line.size()), "cannot append to study journal '",
             path_, "': ", written < 0 ? errno_text() : "short write");
  FR_REQUIRE(::fsync(fd_) == 0, "cannot fsync study journal '", path_, "': ", errno_text());
}

std::string Journal::start_trial(const json& params) {
  const std::string uid = writer_ + ":" + std::to_string(counter_++);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  append({{"event", "start"},
          {"trial", uid},
          {"params", params},
          {"time", now},
          {"host", host_name()},
          {"pid", static_cast<long long>(::getpid())}});
  return uid;
}

void Journal::report(const std::string& uid, int step, double value) {
  append({{"event", "report"}, {"trial", uid}, {"step", step}, {"value", number_or_null(value)}});
}

void Journal::finish(const std::string& uid, TrialState state, double value) {
  FR_REQUIRE(state != TrialState::running, "a trial cannot finish as running");
  append({{"event", "finish"},
          {"trial", uid},
          {"state", state_name(state)},
          {"value", number_or_null(value)}});
}

JournalContents Journal::read(const std::string& path, const SearchSpace& space) {
  JournalContents out;
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return out;
  std::map<std::string, size_t> index;  // uid -> position in out.trials
  std::set<std::string> unfit;          // trials failed for their parameters
  std::string line;
  size_t line_no = 0;
  auto warn = [&](const std::string& what) {
    out.warnings.push_back(path + ":" + std::to_string(line_no) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++out.lines;
    json ev;
    try {
      ev = json::parse(line);
    } catch (const json::exception&) {
      warn("skipped a line that is not JSON (corrupt or truncated)");
      continue;
    }
    try {
      if (!ev.is_object()) throw std::runtime_error("not a JSON object");
      const std::string kind = ev.at("event").get<std::string>();
      const std::string uid = ev.at("trial").get<std::string>();
      if (kind == "start") {
        if (index.count(uid)) throw std::runtime_error("trial " + uid + " started twice");
        Trial t;
        t.number = static_cast<int>(out.trials.size());
        t.uid = uid;
        try {
          t.params = space.from_json(ev.at("params"));
        } catch (const Error& e) {
          t.state = TrialState::failed;
          unfit.insert(uid);
          warn("trial " + std::to_string(t.number) +
               ": parameters do not fit the search space, counted as failed (" + e.what() + ")");
        }
        index[uid] = out.trials.size();
        out.trials.push_back(std::move(t));
        continue;
      }
      const auto it = index.find(uid);
      if (it == index.end()) throw std::runtime_error("event for unknown trial " + uid);
      Trial& t = out.trials[it->second];
      if (kind == "report") {
        t.intermediate[ev.at("step").get<int>()] = to_double(ev.at("value"));
      } else if (kind == "finish") {
        const TrialState state = parse_state(ev.at("state").get<std::string>());
        if (state == TrialState::running) throw std::runtime_error("finish as running");
        if (unfit.count(uid)) continue;
        if (t.state != TrialState::running) {
          // The first finish stands: a second one is a writer's mistake.
          throw std::runtime_error("trial " + std::to_string(t.number) + " finished twice");
        }
        t.state = state;
        t.value = to_double(ev.at("value"));
        if (state == TrialState::complete && std::isnan(t.value)) {
          t.state = TrialState::failed;
          warn("trial " + std::to_string(t.number) +
               " completed without a value, counted as failed");
        }
      } else {
        throw std::runtime_error("unknown event '" + kind + "'");
      }
    } catch (const std::exception& e) {
      warn(std::string("skipped an invalid event: ") + e.what());
    }
  }
  return out;
}

const Trial* best_trial(const std::vector<Trial>& trials, Direction direction) {
  const Trial* best = nullptr;
  for (const auto& t : trials) {
    if (t.state != TrialState::complete || std::isnan(t.value)) continue;
    if (!best || (direction == Direction::minimize ? t.value < best->value : t.value > best->value))
      best = &t;
  }
  return best;
}

}  // namespace fluxrecon::tune
