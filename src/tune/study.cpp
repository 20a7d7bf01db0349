#include "tune/study.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "models/registry.hpp"
#include "train/train_model.hpp"
#include "tune/tpe.hpp"

namespace fluxrecon::tune {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

YAML::Node json_to_yaml(const json& j) {
  if (j.is_object()) {
    YAML::Node n(YAML::NodeType::Map);
    for (const auto& [k, v] : j.items()) n[k] = json_to_yaml(v);
    return n;
  }
  if (j.is_array()) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& v : j) n.push_back(json_to_yaml(v));
    return n;
  }
  if (j.is_boolean()) return YAML::Node(j.get<bool>());
  if (j.is_number_integer()) return YAML::Node(j.get<long long>());
  if (j.is_number()) return YAML::Node(j.get<double>());
  if (j.is_string()) return YAML::Node(j.get<std::string>());
  return YAML::Node();
}

// splitmix64: an independent sampler stream per (study seed, trial number).
std::uint64_t mix(std::uint64_t seed, std::uint64_t number) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (number + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// An exclusive flock on a file next to the journal, held while a writer reads
// the journal, samples and appends a start, so that two groups (or jobs)
// neither take the same trial number nor start one trial too many.
class JournalLock {
 public:
  explicit JournalLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    FR_REQUIRE(fd_ >= 0, "cannot open the study lock '", path, "': ", std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      FR_FAIL("cannot lock '", path, "': ", std::strerror(err));
    }
  }
  ~JournalLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;

 private:
  int fd_ = -1;
};

// A barrier that sleeps instead of spinning: ranks whose group is done wait
// here while the others still train, on cores they share.
void sleeping_barrier(MPI_Comm comm) {
  MPI_Request req;
  MPI_Ibarrier(comm, &req);
  int done = 0;
  for (;;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The training's own per-epoch lines are left out of the study's log
// (--log-all-ranks shows them, every group's); restored after the trial.
class QuietTraining {
 public:
  QuietTraining() : saved_(log::level()) {
    if (saved_ == log::Level::info && !log::all_ranks()) log::set_level(log::Level::quiet);
  }
  ~QuietTraining() { log::set_level(saved_); }
  QuietTraining(const QuietTraining&) = delete;
  QuietTraining& operator=(const QuietTraining&) = delete;

 private:
  log::Level saved_;
};

struct Counts {
  int finished = 0, running = 0, complete = 0, pruned = 0, failed = 0;
};
Counts count(const std::vector<Trial>& trials) {
  Counts c;
  for (const auto& t : trials) {
    c.running += t.state == TrialState::running;
    c.complete += t.state == TrialState::complete;
    c.pruned += t.state == TrialState::pruned;
    c.failed += t.state == TrialState::failed;
  }
  c.finished = c.complete + c.pruned + c.failed;
  return c;
}

// "host:pid:nonce:counter" (Journal's UIDs) -> host and pid; false if not that form.
bool writer_of(const std::string& uid, std::string& host, long& pid) {
  auto last = uid.rfind(':');
  if (last == std::string::npos || last == 0) return false;
  auto nonce = uid.rfind(':', last - 1);
  if (nonce == std::string::npos || nonce == 0) return false;
  auto pid_at = uid.rfind(':', nonce - 1);
  if (pid_at == std::string::npos) return false;
  try {
    pid = std::stol(uid.substr(pid_at + 1, nonce - pid_at - 1));
  } catch (const std::exception&) {
    return false;
  }
  host = uid.substr(0, pid_at);
  return true;
}

// Rank 0, before any trial of this job starts: trials left running by a
// process of this host that no longer exists (or whose pid is now one of
// ours) belong to a dead job and are recorded as failed, so that the count of
// finished trials converges. Running trials of other hosts cannot be checked
// and stay running (another job may be training them).
void fail_stale_trials(Journal& journal, const SearchSpace& space,
                       const std::vector<int>& our_pids) {
  const auto contents = Journal::read(journal.path(), space);
  for (const auto& w : contents.warnings) log::info("tune: warning: ", w);
  const std::string here = mpi::hostname();
  for (const auto& t : contents.trials) {
    if (t.state != TrialState::running) continue;
    std::string host;
    long pid = 0;
    const bool parsed = writer_of(t.uid, host, pid);
    const bool ours = parsed && host == here &&
                      std::find(our_pids.begin(), our_pids.end(), pid) != our_pids.end();
    const bool gone = parsed && host == here && pid > 0 &&
                      ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    if (ours || gone) {
      journal.finish(t.uid, TrialState::failed, std::nan(""));
      log::info("tune: trial ", t.number, " was left running by process ", pid, " on ", host,
                ", which is gone: recorded as failed");
    } else {
      log::info("tune: trial ", t.number, " is running in another process (", t.uid,
                "): counted as running");
    }
  }
}

// Running trials of others enter the sampler as complete with the worst value
// seen (a constant liar): their points count as taken, and as bad.
std::vector<Trial> with_constant_liar(std::vector<Trial> trials, Direction direction) {
  double worst = std::nan("");
  for (const auto& t : trials)
    if (t.state == TrialState::complete && !std::isnan(t.value))
      if (std::isnan(worst) ||
          (direction == Direction::minimize ? t.value > worst : t.value < worst))
        worst = t.value;
  if (std::isnan(worst)) return trials;  // nothing to lie with: the start-up draws ignore them
  for (auto& t : trials)
    if (t.state == TrialState::running) {
      t.state = TrialState::complete;
      t.value = worst;
    }
  return trials;
}

// World rank 0 logs each trial once it has finished, whichever group ran it
// (seen when its own group next reads the journal, and at the end).
struct ProgressLog {
  std::set<int> logged;
  int target = 0, done = 0;
  double start = 0, best = std::nan("");
  int best_number = -1;
  // Trials finished before this job started are not logged again.
  void skip_finished(const std::vector<Trial>& trials) {
    for (const auto& t : trials)
      if (t.state != TrialState::running) logged.insert(t.number);
    done = static_cast<int>(logged.size());
    if (const Trial* b = best_trial(trials, Direction::minimize)) {
      best = b->value;
      best_number = b->number;
    }
  }
  void update(const std::vector<Trial>& trials) {
    for (const auto& t : trials) {
      if (t.state == TrialState::running || logged.count(t.number)) continue;
      logged.insert(t.number);
      ++done;
      std::string what;
      if (t.state == TrialState::complete) {
        what = concat("complete, value ", t.value);
        if (std::isfinite(t.value) && (best_number < 0 || t.value < best)) {
          best = t.value;
          best_number = t.number;
        }
      } else if (t.state == TrialState::pruned) {
        what = concat("pruned at step ", t.last_step().value_or(0), " (value ", t.value, ")");
      } else {
        what = "failed";
      }
      log::info("tune: trial ", t.number, " ", what, "; ", done, "/", target, " finished, best ",
                best_number >= 0 ? concat(best, " (trial ", best_number, ")") : std::string("none"),
                ", ", log::seconds(wall_seconds() - start));
    }
  }
};

struct Plan {
  int number = -1;
  std::string uid;
  json params;
};

void cap_config(config::Config& cfg, const std::string& model, int max_epochs) {
  const std::string& key = models::model_info(model).steps_key;
  if (max_epochs <= 0 || key.empty()) return;  // a random forest has one round
  if (cfg.get<int>(key) <= max_epochs) return;
  YAML::Node node = YAML::Clone(cfg.node());
  node[key] = max_epochs;
  cfg = config::Config::from_yaml(node, models::model_schema(model),
                                  concat(cfg.origin(), " (--epochs ", max_epochs, ")"));
}

}  // namespace

config::Config trial_config(const SearchSpace& space, const ParamSet& params,
                            const std::string& origin) {
  return config::Config::from_yaml(json_to_yaml(space.model_overrides(params)),
                                   models::model_schema(space.study().model), origin);
}

namespace {

// One call of run_study: the groups and the journal, then trials planned by
// each group's rank 0 under the journal's lock and trained by the group,
// then the study's summary and outputs.
class StudyRun {
 public:
  StudyRun(const SearchSpace& space, const StudyOptions& opt, MPI_Comm comm)
      : space_(space),
        opt_(opt),
        comm_(comm),
        st_(space.study()),
        model_(st_.model),
        start_(wall_seconds()),
        journal_path_((fs::path(opt.out_dir) / "journal.jsonl").string()),
        lock_path_((fs::path(opt.out_dir) / "journal.lock").string()),
        rank_(mpi::rank(comm)),
        size_(mpi::size(comm)),
        seed_(opt.seed >= 0 ? static_cast<std::uint64_t>(opt.seed) : st_.seed),
        pruner_(pruner_options(st_)),
        pruning_(st_.pruner == "median") {
    result_.n_trials = opt.n_trials > 0 ? opt.n_trials : st_.n_trials;
  }
  ~StudyRun() {
    if (gcomm_ != MPI_COMM_NULL) MPI_Comm_free(&gcomm_);
  }
  StudyRun(const StudyRun&) = delete;
  StudyRun& operator=(const StudyRun&) = delete;

  StudyResult run() {
    check_and_split();
    open_journal();
    try {
      for (;;) {
        const std::optional<Plan> plan = next_trial();
        if (!plan) break;
        run_trial(*plan);
        result_.group_trials.push_back(plan->number);
      }
    } catch (const Error& e) {
      // Known to this group only: the other groups would wait for it forever.
      if (result_.n_groups > 1) throw Error(e.what(), e.where(), false);
      throw;
    }
    sleeping_barrier(comm_);
    summarise();
    return result_;
  }

 private:
  static MedianPrunerOptions pruner_options(const StudySettings& st) {
    MedianPrunerOptions po;
    po.n_startup_trials = st.pruner_startup_trials;
    po.n_warmup_steps = st.pruner_warmup_steps;
    po.interval_steps = st.pruner_interval_steps;
    return po;
  }

  void check_and_split() {
    all_ranks_agree(comm_, [&] {
      FR_REQUIRE(opt_.group_size >= 1 && opt_.group_size <= size_, "tune: --group-size ",
                 opt_.group_size, " must be between 1 and the number of ranks (", size_, ")");
      FR_REQUIRE(st_.direction == Direction::minimize, space_.origin(),
                 ": key 'study.direction': the objective (validation MSE) is minimised");
      FR_REQUIRE(!opt_.samples_dir.empty() && !opt_.out_dir.empty(),
                 "tune: the samples and output folders are required");
      space_.check_keys(models::model_schema(model_));
      if (rank_ == 0) ensure_directory(opt_.out_dir);
    });
    const int group = rank_ / opt_.group_size;
    result_.group = group;
    result_.n_groups = (size_ + opt_.group_size - 1) / opt_.group_size;
    MPI_Comm_split(comm_, group, rank_, &gcomm_);
    grank_ = mpi::rank(gcomm_);
  }

  // Each group's rank 0 opens the journal; rank 0 fails the trials of dead
  // jobs and reports where the study stands.
  void open_journal() {
    // This job's pids on rank 0's host, so that rank 0 can tell them from a dead job's.
    const std::string host0 = mpi::broadcast(mpi::hostname(), 0, comm_);
    const auto our_pids = mpi::allgatherv(
        std::vector<int>{mpi::hostname() == host0 ? static_cast<int>(::getpid()) : -1}, comm_);
    progress_.target = result_.n_trials;
    progress_.start = start_;
    all_ranks_agree(comm_, [&] {
      if (grank_ == 0) journal_ = std::make_unique<Journal>(journal_path_);
      if (rank_ != 0) return;
      JournalLock lock(lock_path_);
      fail_stale_trials(*journal_, space_, our_pids);
      const auto trials = Journal::read(journal_path_, space_).trials;
      progress_.skip_finished(trials);
      const auto c = count(trials);
      log::info("tune ", model_, ": study '", st_.name.empty() ? model_ + "_study" : st_.name,
                "' in ", journal_path_, ": ", c.finished, " of ", result_.n_trials,
                " trials finished, ", c.running, " running elsewhere; ", result_.n_groups,
                " group(s) of ", opt_.group_size, " rank(s), sampler ", st_.sampler, ", pruner ",
                st_.pruner);
    });
  }

  // The group's next trial, sampled by its rank 0 under the journal's lock
  // and started in the journal; none when the study has all its trials.
  std::optional<Plan> next_trial() {
    std::string plan_text;
    all_ranks_agree(gcomm_, [&] {
      if (grank_ != 0) return;
      JournalLock lock(lock_path_);
      const auto contents = Journal::read(journal_path_, space_);
      if (rank_ == 0) progress_.update(contents.trials);
      const Counts c = count(contents.trials);
      json p = {{"stop", c.finished + c.running >= result_.n_trials}};
      if (!p["stop"].get<bool>()) {
        const int number = static_cast<int>(contents.trials.size());
        StudySettings s = st_;
        s.seed = mix(seed_, static_cast<std::uint64_t>(number));
        const ParamSet params =
            make_sampler(s)->sample(space_, with_constant_liar(contents.trials, st_.direction));
        const json external = space_.to_json(params);
        p["number"] = number;
        p["uid"] = journal_->start_trial(external);
        p["params"] = external;
      }
      plan_text = p.dump();
    });
    const json p = json::parse(mpi::broadcast(plan_text, 0, gcomm_));
    if (p.at("stop").get<bool>()) return std::nullopt;
    Plan plan;
    plan.number = p.at("number").get<int>();
    plan.uid = p.at("uid").get<std::string>();
    plan.params = p.at("params");
    return plan;
  }

  // The trial: any error in it fails this trial only, on every rank of the group.
  void run_trial(const Plan& plan) {
    const std::string dir =
        (fs::path(opt_.out_dir) / "trials" / std::to_string(plan.number)).string();
    TrialState state = TrialState::failed;
    double value = std::nan(""), last = std::nan("");
    std::string error;
    auto report = [&](int step, double v) -> bool {
      last = v;
      if (grank_ != 0) return false;
      journal_->report(plan.uid, step, v);
      if (!pruning_) return false;
      const auto contents = Journal::read(journal_path_, space_);
      for (const auto& t : contents.trials)
        if (t.uid == plan.uid) return pruner_.should_prune(t, contents.trials);
      return false;
    };
    try {
      QuietTraining quiet;
      all_ranks_agree(gcomm_, [&] {
        auto cfg = trial_config(space_, space_.from_json(plan.params),
                                concat(space_.origin(), " trial ", plan.number));
        cap_config(cfg, model_, opt_.max_epochs);
        train::TrainRequest request;
        request.samples_dir = opt_.samples_dir;
        request.out_dir = dir;
        request.force = true;
        request.on_step = report;
        const auto r = train::train_model(model_, cfg, request, gcomm_);
        state = r.stopped ? TrialState::pruned : TrialState::complete;
        value = r.stopped ? last : r.validation_mse;
      });
    } catch (const Error& e) {
      state = TrialState::failed;
      value = std::nan("");
      error = e.what();
    }
    if (grank_ == 0 && state == TrialState::failed)
      log::error_line(concat("tune: trial ", plan.number, " failed (the study goes on): ", error));
    all_ranks_agree(gcomm_, [&] {
      if (grank_ == 0) journal_->finish(plan.uid, state, value);
    });
  }

  // Rank 0 reads the finished journal and writes the study's outputs; every
  // rank gets the counts and the best trial.
  void summarise() {
    json summary;
    all_ranks_agree(comm_, [&] {
      if (rank_ != 0) return;
      const auto contents = Journal::read(journal_path_, space_);
      progress_.update(contents.trials);
      const Counts c = count(contents.trials);
      summary = {{"finished", c.finished}, {"complete", c.complete}, {"pruned", c.pruned},
                 {"failed", c.failed},     {"running", c.running},   {"best", -1}};
      if (const Trial* best = best_trial(contents.trials, Direction::minimize)) {
        summary["best"] = best->number;
        summary["value"] = best->value;
        summary["params"] = space_.to_json(best->params);
      }
      summary["outputs"] =
          write_study_outputs(space_, contents.trials, opt_.out_dir, opt_.max_epochs);
    });
    summary = json::parse(mpi::broadcast(summary.dump(), 0, comm_));
    result_.finished = summary["finished"];
    result_.complete = summary["complete"];
    result_.pruned = summary["pruned"];
    result_.failed = summary["failed"];
    result_.running = summary["running"];
    result_.best_number = summary["best"];
    if (result_.best_number >= 0) {
      result_.best_value = summary["value"];
      result_.best_params = summary["params"];
      result_.best_params_path = (fs::path(opt_.out_dir) / "best_params.yaml").string();
    }
    result_.outputs = summary["outputs"].get<std::vector<std::string>>();
    result_.run_here =
        mpi::sum(grank_ == 0 ? static_cast<int>(result_.group_trials.size()) : 0, comm_);
    result_.seconds = mpi::max(wall_seconds() - start_, comm_);
  }

  const SearchSpace& space_;
  const StudyOptions& opt_;
  const MPI_Comm comm_;
  const StudySettings& st_;
  const std::string& model_;
  const double start_;
  const std::string journal_path_, lock_path_;
  const int rank_, size_;
  const std::uint64_t seed_;
  const MedianPruner pruner_;
  const bool pruning_;
  StudyResult result_;
  MPI_Comm gcomm_ = MPI_COMM_NULL;
  int grank_ = 0;
  std::unique_ptr<Journal> journal_;
  ProgressLog progress_;
};

}  // namespace

StudyResult run_study(const SearchSpace& space, const StudyOptions& opt, MPI_Comm comm) {
  return StudyRun(space, opt, comm).run();
}

}  // namespace fluxrecon::tune
