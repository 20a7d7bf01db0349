// `fluxrecon tune`'s study driver on the tiny testbed: trial count, outputs
// that train, resume after a dead job, failing and pruned trials, and rank
// groups that share the work.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "core/config.hpp"
#include "core/mpi_util.hpp"
#include "models/nn_config.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"
#include "train/nn_trainer.hpp"
#include "tune/journal.hpp"
#include "tune/study.hpp"

using namespace fluxrecon;
using test_util::shared_temp_dir;
using test_util::testbed_samples;
using tune::TrialState;

namespace {

// A tiny MLP space; `extra` adds parameter lines, `pruner` the pruner block.
// The start-up phase covers every trial, so a trial's parameters depend on the
// seed and its number only (the same at 1 and 2 ranks).
tune::SearchSpace tiny_space(const std::string& extra = "",
                             const std::string& pruner = "{kind: none}") {
  const std::string yaml =
      "model: mlp\n"
      "study: {n_trials: 4, sampler: tpe, seed: 3, n_startup_trials: 50}\n"
      "pruner: " +
      pruner +
      "\n"
      "fixed: {epochs: 2, patience: 5}\n"
      "parameters:\n"
      "  - {name: hidden, type: int, low: 4, high: 12, config_key: 'hidden_dims[0]'}\n"
      "  - {name: lr, type: float, low: 1.0e-4, high: 1.0e-2, log: true, config_key: "
      "learning_rate}\n" +
      extra;
  return tune::SearchSpace::from_text(yaml, "tiny_space.yaml");
}

tune::StudyOptions options(const std::string& out, int trials) {
  tune::StudyOptions o;
  o.samples_dir = testbed_samples();
  o.out_dir = out;
  o.n_trials = trials;
  o.max_epochs = 1;
  return o;
}

std::vector<tune::Trial> journal_trials(const std::string& out, const tune::SearchSpace& space) {
  return tune::Journal::read(out + "/journal.jsonl", space).trials;
}

int count_state(const std::vector<tune::Trial>& trials, TrialState s) {
  int n = 0;
  for (const auto& t : trials) n += t.state == s;
  return n;
}

}  // namespace

TEST(TuneStudy, FinishesWithTheRequestedTrialsAndItsBestParametersTrain) {
  const auto out = shared_temp_dir("tune_study");
  const auto space = tiny_space();
  const auto r = tune::run_study(space, options(out, 5), MPI_COMM_WORLD);
  const auto trials = journal_trials(out, space);
  ASSERT_EQ(trials.size(), 5u);
  EXPECT_EQ(count_state(trials, TrialState::complete), 5);
  EXPECT_EQ(r.finished, 5);
  EXPECT_EQ(r.complete, 5);
  EXPECT_EQ(r.run_here, 5);
  const auto* best = tune::best_trial(trials, tune::Direction::minimize);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(r.best_number, best->number);
  EXPECT_DOUBLE_EQ(r.best_value, best->value);
  for (const char* f : {"best_params.yaml", "trials.csv", "optimisation_history.png",
                        "param_importance.png", "trials/0/mlp.h5"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  std::ifstream csv(out + "/trials.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 6);  // header + 5 trials

  // best_params.yaml is a parameter file of `train --params`: it loads and trains.
  const auto params = config::Config::load(out + "/best_params.yaml",
                                           models::network_schema(models::NetworkKind::mlp));
  EXPECT_EQ(params.get<std::vector<long long>>("hidden_dims"),
            std::vector<long long>{static_cast<long long>(best->params.at("hidden"))});
  train::NeuralTrainOptions o;
  o.samples_dir = testbed_samples();
  o.out_dir = out + "/final";
  const auto trained = train::train_network(models::NetworkKind::mlp, params, o, MPI_COMM_WORLD);
  EXPECT_TRUE(trained.finished);

  // With groups of 1 rank each group trained trials of its own, none twice.
  const auto mine = r.group_trials;
  const auto all = mpi::allgatherv(mine, MPI_COMM_WORLD);
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(all.size(), 5u);
  EXPECT_FALSE(mine.empty()) << "group " << r.group << " trained no trial";
  EXPECT_EQ(r.n_groups, test_util::world_size());
  // A rerun of a finished study trains nothing and keeps the journal.
  const auto again = tune::run_study(space, options(out, 5), MPI_COMM_WORLD);
  EXPECT_EQ(again.run_here, 0);
  EXPECT_EQ(journal_trials(out, space).size(), 5u);
}

TEST(TuneStudy, GroupOfAllRanksTrainsEachTrialDataParallel) {
  const auto out = shared_temp_dir("tune_group");
  auto o = options(out, 2);
  o.group_size = test_util::world_size();
  const auto r = tune::run_study(tiny_space(), o, MPI_COMM_WORLD);
  EXPECT_EQ(r.n_groups, 1);
  EXPECT_EQ(r.complete, 2);
  EXPECT_EQ(r.group_trials, (std::vector<int>{0, 1}));
}

TEST(TuneStudy, ResumeFailsTrialsOfADeadJobAndKeepsFinishedOnes) {
  const auto out = shared_temp_dir("tune_resume");
  const auto space = tiny_space();
  tune::run_study(space, options(out, 3), MPI_COMM_WORLD);
  const auto before = journal_trials(out, space);
  MPI_Barrier(MPI_COMM_WORLD);  // every rank has read it before rank 0 appends
  ASSERT_EQ(before.size(), 3u);
  if (test_util::world_rank() == 0) {
    // A trial left running by a process that no longer exists on this host,
    // then a line cut short by the crash.
    std::ofstream j(out + "/journal.jsonl", std::ios::app);
    j << R"({"event":"start","trial":")" << mpi::hostname()
      << R"(:2147483600:00ff:0","params":{"hidden":5,"lr":0.001},"time":0,"host":"x","pid":1})"
      << "\n"
      << R"({"event":"report","trial":)";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto r = tune::run_study(space, options(out, 5), MPI_COMM_WORLD);
  const auto after = journal_trials(out, space);
  ASSERT_EQ(after.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(after[i].state, TrialState::complete);
    EXPECT_EQ(after[i].value, before[i].value);
    EXPECT_EQ(after[i].params, before[i].params);
  }
  EXPECT_EQ(after[3].state, TrialState::failed);
  EXPECT_EQ(after[4].state, TrialState::complete);
  EXPECT_EQ(r.run_here, 1);
  EXPECT_EQ(r.finished, 5);
}

TEST(TuneStudy, FailingTrialIsRecordedAndTheStudyGoesOn) {
  const auto out = shared_temp_dir("tune_failing");
  // batch_size 0 is out of the model's bounds: those trials throw.
  const auto space = tiny_space("  - {name: batch_size, type: categorical, choices: [0, 64]}\n");
  const auto r = tune::run_study(space, options(out, 6), MPI_COMM_WORLD);
  const auto trials = journal_trials(out, space);
  ASSERT_EQ(trials.size(), 6u);
  int failed = 0;
  for (const auto& t : trials) {
    const bool zero = t.params.at("batch_size") == 0.0;  // the choice index of 0
    EXPECT_EQ(t.state, zero ? TrialState::failed : TrialState::complete) << "trial " << t.number;
    failed += zero;
  }
  // Seed 3 draws both choices within 6 trials (the draws depend on the trial number only).
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 6);
  EXPECT_EQ(r.failed, failed);
  EXPECT_TRUE(std::filesystem::exists(out + "/best_params.yaml"));
}

TEST(TuneStudy, PrunedTrialsAreRecorded) {
  const auto out = shared_temp_dir("tune_pruned");
  const auto space = tiny_space("", "{kind: median, n_startup_trials: 1}");
  if (test_util::world_rank() == 0) {
    // A complete trial that no real one beats: every later trial is pruned at
    // its first epoch.
    tune::Journal j(out + "/journal.jsonl");
    const auto uid = j.start_trial({{"hidden", 8}, {"lr", 0.001}});
    j.report(uid, 1, 1e-9);
    j.report(uid, 2, 1e-9);
    j.finish(uid, TrialState::complete, 1e-9);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto o = options(out, 3);
  o.max_epochs = 2;
  const auto r = tune::run_study(space, o, MPI_COMM_WORLD);
  const auto trials = journal_trials(out, space);
  ASSERT_EQ(trials.size(), 3u);
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(trials[i].state, TrialState::pruned) << "trial " << i;
    EXPECT_EQ(trials[i].last_step(), 1);
    EXPECT_EQ(trials[i].value, trials[i].intermediate.at(1));
  }
  EXPECT_EQ(r.pruned, 2);
  EXPECT_EQ(r.best_number, 0);
}

TEST(TuneStudy, ImportanceFindsTheParameterThatDecides) {
  const auto space = tiny_space();
  std::vector<tune::Trial> trials;
  for (int i = 0; i < 20; ++i) {
    tune::Trial t;
    t.number = i;
    t.state = TrialState::complete;
    t.params = {{"hidden", 4 + i % 9}, {"lr", 1e-4 * std::pow(1.25, i)}};
    t.value = 1.0 / (1 + i);  // decided by lr alone (monotone in it)
    trials.push_back(t);
  }
  const auto imp = tune::param_importance(space, trials);
  ASSERT_EQ(imp.size(), 2u);
  EXPECT_GT(imp[1], 0.8);
  EXPECT_LT(imp[0], 0.3);
}

TEST(TuneStudy, XgboostTrialsReportEveryRoundAndArePruned) {
  const auto out = shared_temp_dir("tune_xgboost");
  const auto space = tune::SearchSpace::from_text(
      "model: xgboost\n"
      "study: {n_trials: 3, seed: 2, n_startup_trials: 50}\n"
      "pruner: {kind: median, n_startup_trials: 1, n_warmup_steps: 2}\n"
      "fixed: {booster: gbtree, num_boost_round: 4, early_stopping_rounds: 0}\n"
      "parameters:\n"
      "  - {name: max_depth, type: int, low: 2, high: 4}\n",
      "xgb_space.yaml");
  if (test_util::world_rank() == 0) {
    tune::Journal j(out + "/journal.jsonl");
    const auto uid = j.start_trial({{"max_depth", 3}});
    for (int step = 1; step <= 4; ++step) j.report(uid, step, 1e-9);
    j.finish(uid, TrialState::complete, 1e-9);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto o = options(out, 3);
  o.max_epochs = 0;
  const auto r = tune::run_study(space, o, MPI_COMM_WORLD);
  const auto trials = journal_trials(out, space);
  ASSERT_EQ(trials.size(), 3u);
  for (int i = 1; i < 3; ++i) {
    // Rounds 1 and 2 reported; pruned at the first step after the warm-up.
    EXPECT_EQ(trials[i].state, TrialState::pruned) << "trial " << i;
    EXPECT_EQ(trials[i].last_step(), 2);
    EXPECT_EQ(trials[i].intermediate.size(), 2u);
  }
  EXPECT_EQ(r.pruned, 2);
}
