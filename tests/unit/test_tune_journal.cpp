// Study journal of `fluxrecon tune`: round trip, resume, corrupt and truncated
// lines, and two processes appending to one journal.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "tune/journal.hpp"
#include "tune/tpe.hpp"

using namespace fluxrecon::tune;
namespace fs = std::filesystem;

namespace {
SearchSpace space() {
  return SearchSpace::from_text(
      "model: lstm\nparameters:\n"
      "  - {name: hidden_dim, type: categorical, choices: [32, 64, 128, 256]}\n"
      "  - {name: num_layers, type: int, low: 1, high: 3}\n"
      "  - {name: dropout, type: categorical, choices: [0.0, 0.1, 0.2],"
      " active_if: {param: num_layers, min: 2}, inactive_value: 0.0}\n"
      "  - {name: lr, type: float, low: 1.0e-5, high: 1.0e-2, log: true}\n",
      "journal-space.yaml");
}

// A fresh journal path per test, removed at the end.
class TuneJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fluxrecon_tune_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "study.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void append_raw(const std::string& text) {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << text;
  }
  fs::path dir_;
  std::string path_;
};

double objective(const ParamSet& p) {
  return std::abs(std::log10(p.at("lr")) + 3) + p.at("num_layers");
}
}  // namespace

TEST_F(TuneJournal, RoundTripOfEveryKindOfTrial) {
  const auto s = space();
  const ParamSet a{{"hidden_dim", 1}, {"num_layers", 2}, {"dropout", 2}, {"lr", 3.0001e-4}};
  const ParamSet b{{"hidden_dim", 0}, {"num_layers", 1}, {"lr", 1.234567890123e-3}};
  {
    Journal j(path_);
    const auto ua = j.start_trial(s.to_json(a));
    const auto ub = j.start_trial(s.to_json(b));
    j.report(ua, 0, 0.5);
    j.report(ub, 0, 0.9);
    j.report(ua, 1, 0.25);
    j.finish(ua, TrialState::complete, 0.125);
    j.report(ub, 1, NAN);
    j.finish(ub, TrialState::pruned, 0.9);
    const auto uc = j.start_trial(s.to_json(a));
    j.finish(uc, TrialState::failed, NAN);
    j.start_trial(s.to_json(b));  // still running when the job ended
  }
  const auto c = Journal::read(path_, s);
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_EQ(c.trials.size(), 4u);
  EXPECT_EQ(c.trials[0].params, a);  // doubles survive the text exactly
  EXPECT_EQ(c.trials[1].params, b);
  EXPECT_EQ(c.trials[0].state, TrialState::complete);
  EXPECT_EQ(c.trials[0].value, 0.125);
  EXPECT_EQ(c.trials[0].intermediate, (std::map<int, double>{{0, 0.5}, {1, 0.25}}));
  EXPECT_EQ(c.trials[1].state, TrialState::pruned);
  EXPECT_TRUE(std::isnan(c.trials[1].intermediate.at(1)));
  EXPECT_EQ(c.trials[2].state, TrialState::failed);
  EXPECT_TRUE(std::isnan(c.trials[2].value));
  EXPECT_EQ(c.trials[3].state, TrialState::running);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.trials[i].number, i);
  EXPECT_EQ(best_trial(c.trials, Direction::minimize), &c.trials[0]);
  // A missing journal is an empty study.
  EXPECT_TRUE(Journal::read((dir_ / "none.jsonl").string(), s).trials.empty());
}

TEST_F(TuneJournal, ResumedStudyContinuesFromTheReconstructedTrials) {
  const auto s = space();
  std::vector<Trial> memory;
  {
    Journal j(path_);
    TpeSampler sampler(11);
    for (int i = 0; i < 15; ++i) {
      Trial t;
      t.number = i;
      t.params = sampler.sample(s, memory);
      t.uid = j.start_trial(s.to_json(t.params));
      t.value = objective(t.params);
      t.state = TrialState::complete;
      j.finish(t.uid, t.state, t.value);
      memory.push_back(t);
    }
  }
  auto loaded = Journal::read(path_, s);
  ASSERT_EQ(loaded.trials.size(), memory.size());
  for (size_t i = 0; i < memory.size(); ++i) {
    EXPECT_EQ(loaded.trials[i].params, memory[i].params);
    EXPECT_EQ(loaded.trials[i].value, memory[i].value);
    EXPECT_EQ(loaded.trials[i].uid, memory[i].uid);
  }
  // The sampler sees the same history, so it proposes the same next trial.
  TpeSampler a(99), b(99);
  EXPECT_EQ(a.sample(s, memory), b.sample(s, loaded.trials));
  {
    Journal j(path_);
    const auto p = b.sample(s, loaded.trials);
    j.finish(j.start_trial(s.to_json(p)), TrialState::complete, objective(p));
  }
  EXPECT_EQ(Journal::read(path_, s).trials.size(), 16u);
}

TEST_F(TuneJournal, CorruptAndTruncatedLinesAreSkippedWithAWarning) {
  const auto s = space();
  const ParamSet a{{"hidden_dim", 3}, {"num_layers", 1}, {"lr", 1e-3}};
  std::string ua;
  {
    Journal j(path_);
    ua = j.start_trial(s.to_json(a));
    j.report(ua, 0, 1.5);
  }
  append_raw("{\"event\": \"report\", \"trial\": \"x\", \"st\xff\xfe garbage\n");
  append_raw("not json at all\n");
  append_raw("{\"event\":\"report\",\"trial\":\"nobody\",\"step\":0,\"value\":1}\n");
  append_raw(
      "{\"event\":\"start\",\"trial\":\"t2\",\"params\":{\"hidden_dim\":48,"
      "\"num_layers\":1,\"lr\":0.001}}\n");
  {
    Journal j(path_);
    j.finish(ua, TrialState::complete, 1.25);
  }
  // A crash in the middle of a line: no newline at the end of the file.
  append_raw("{\"event\":\"finish\",\"trial\":\"");
  auto c = Journal::read(path_, s);
  ASSERT_EQ(c.trials.size(), 2u);
  EXPECT_EQ(c.trials[0].state, TrialState::complete);
  EXPECT_EQ(c.trials[0].value, 1.25);
  EXPECT_EQ(c.trials[0].intermediate.at(0), 1.5);
  // hidden_dim 48 is not a choice: kept, numbered, counted as failed.
  EXPECT_EQ(c.trials[1].state, TrialState::failed);
  ASSERT_EQ(c.warnings.size(), 5u);
  EXPECT_NE(c.warnings[0].find(path_ + ":3"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[2].find("unknown trial"), std::string::npos) << c.warnings[2];
  EXPECT_NE(c.warnings.back().find(":8:"), std::string::npos) << c.warnings.back();

  // The next writer ends the cut line first, so its own events stay readable.
  {
    Journal j(path_);
    const auto ub = j.start_trial(s.to_json(a));
    j.finish(ub, TrialState::complete, 0.5);
  }
  c = Journal::read(path_, s);
  ASSERT_EQ(c.trials.size(), 3u);
  EXPECT_EQ(c.trials[2].value, 0.5);
  EXPECT_EQ(c.warnings.size(), 5u);
}

TEST_F(TuneJournal, TwoProcessesAppendingConcurrentlyLoseNothing) {
  const auto s = space();
  const int per_process = 150;
  auto work = [&](int who) {
    Journal j(path_);
    RandomSampler r(static_cast<std::uint64_t>(who));
    for (int i = 0; i < per_process; ++i) {
      const auto p = r.sample(s, {});
      const auto uid = j.start_trial(s.to_json(p));
      j.report(uid, 0, who + i * 1e-3);
      j.finish(uid, TrialState::complete, who + i * 1e-3);
    }
  };
  pid_t children[2];
  for (int who = 0; who < 2; ++who) {
    children[who] = ::fork();
    ASSERT_GE(children[who], 0);
    if (children[who] == 0) {
      int rc = 0;
      try {
        work(who + 1);
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);  // no atexit handlers (MPI, GoogleTest) in the child
    }
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto c = Journal::read(path_, s);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(c.lines, static_cast<size_t>(2 * 3 * per_process));
  ASSERT_EQ(c.trials.size(), static_cast<size_t>(2 * per_process));
  int from[3] = {0, 0, 0};
  for (const auto& t : c.trials) {
    EXPECT_EQ(t.state, TrialState::complete);
    EXPECT_EQ(t.intermediate.size(), 1u);
    ++from[static_cast<int>(t.value)];
  }
  EXPECT_EQ(from[1], per_process);
  EXPECT_EQ(from[2], per_process);
}

TEST_F(TuneJournal, UnwritableJournalIsAnError) {
  EXPECT_THROW(Journal((dir_ / "no_such_dir" / "s.jsonl").string()), fluxrecon::Error);
}
