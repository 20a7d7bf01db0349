// A rank that stops taking part in the middle of XGBoost training: the others
// must stop within the configured collective timeout with an error naming it,
// instead of waiting forever. (A rank that dies outright is tested through the
// binary in tests/cli/test_xgboost_lost_rank.sh: mpirun then ends the job.)
#include <gtest/gtest.h>
#include <mpi.h>
#include <xgboost/c_api.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "models/rabit_tracker.hpp"
#include "models/xgb_collective.hpp"

using namespace fluxrecon;
using models::xgb_check;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Outcome {
  std::string error = "(no error)";
  int failed_round = -1;
  double seconds_in_failing_call = -1;  // from entering the call to the throw
};

// Trains on this rank's rows through `collective`; the rank `stalled` sleeps
// for `stall_s` before round `stall_round`, holding its connections open as a
// stopped process would.
Outcome train_with_a_stall(models::XgbCollective& collective, int stalled, int stall_round,
                           double stall_s) {
  const int rank = collective.rank();
  constexpr int kRows = 2000, kCols = 6, kRounds = 40;
  std::vector<float> x(static_cast<size_t>(kRows * kCols)), y(static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kCols; ++j)
      x[static_cast<size_t>(i * kCols + j)] =
          static_cast<float>(std::sin(0.1 * (rank * kRows + i) * (j + 1)));
    y[static_cast<size_t>(i)] =
        x[static_cast<size_t>(i * kCols)] - x[static_cast<size_t>(i * kCols + 1)];
  }
  Outcome out;
  DMatrixHandle dm = nullptr;
  BoosterHandle booster = nullptr;
  int round = -1;
  auto entered = Clock::now();
  try {
    collective.check(XGDMatrixCreateFromMat(x.data(), kRows, kCols, NAN, &dm),
                     "XGDMatrixCreateFromMat");
    xgb_check(XGDMatrixSetFloatInfo(dm, "label", y.data(), kRows), "XGDMatrixSetFloatInfo");
    xgb_check(XGBoosterCreate(&dm, 1, &booster), "XGBoosterCreate");
    for (const char* kv : {"tree_method=hist", "max_depth=4", "nthread=1", "verbosity=1"}) {
      const std::string text = kv;
      const auto eq = text.find('=');
      xgb_check(XGBoosterSetParam(booster, text.substr(0, eq).c_str(), text.substr(eq + 1).c_str()),
                "XGBoosterSetParam");
    }
    for (round = 0; round < kRounds; ++round) {
      if (rank == stalled && round == stall_round)
        std::this_thread::sleep_for(std::chrono::duration<double>(stall_s));
      entered = Clock::now();
      collective.check(XGBoosterUpdateOneIter(booster, round, dm),
                       "XGBoosterUpdateOneIter (round " + std::to_string(round + 1) + ")");
    }
  } catch (const Error& e) {
    out.error = e.what();
    out.failed_round = round;
    out.seconds_in_failing_call = seconds_since(entered);
  }
  if (booster) XGBoosterFree(booster);
  if (dm) XGDMatrixFree(dm);
  return out;
}

}  // namespace

TEST(RabitLostRank, SurvivorsStopWithinTheTimeoutNamingTheStalledRank) {
  const int rank = mpi::rank(), n = mpi::size();
  if (n < 2) GTEST_SKIP() << "needs at least 2 ranks";
  const int stalled = n - 1;
  constexpr int kTimeout = 2;     // collective_timeout_sec
  constexpr int kStallRound = 3;  // after a few good rounds
  Outcome outcome;
  std::string setup_error;
  const auto t0 = Clock::now();
  // On its own thread: a lost collective leaves XGBoost's thread-local
  // communicator unusable, and later tests in this process need theirs. The
  // main thread makes no MPI call meanwhile.
  std::thread worker([&] {
    try {
      models::XgbCollective collective(MPI_COMM_WORLD, {10.0, kTimeout});
      outcome = train_with_a_stall(collective, stalled, kStallRound, 3.0 * kTimeout);
      EXPECT_TRUE(collective.lost()) << "rank " << rank;
      collective.finalize();  // a lost collective is left without talking to anyone
    } catch (const Error& e) {
      setup_error = e.what();
    }
  });
  worker.join();
  const double total = seconds_since(t0);
  ASSERT_EQ(setup_error, "") << "rank " << rank;

  // Nobody finishes: every rank stops in the round of the stall or the next.
  EXPECT_GE(outcome.failed_round, kStallRound) << "rank " << rank << ": " << outcome.error;
  EXPECT_LE(outcome.failed_round, kStallRound + 1) << "rank " << rank << ": " << outcome.error;
  EXPECT_TRUE(contains(outcome.error, "XGBoost distributed training stopped on rank " +
                                          std::to_string(rank) + " (host "))
      << outcome.error;
  if (rank != stalled) {
    // Bounded by the timeout (loosely: a waiting neighbour may time out once more).
    EXPECT_GE(outcome.seconds_in_failing_call, 0.5 * kTimeout) << outcome.error;
    EXPECT_LT(outcome.seconds_in_failing_call, 2.0 * kTimeout + 2.0) << outcome.error;
    const auto links = models::rabit_link_map(n)[static_cast<size_t>(rank)];
    const bool neighbour = links.ring_next == stalled || links.ring_prev == stalled;
    if (neighbour) {
      EXPECT_TRUE(contains(outcome.error, "rank " + std::to_string(stalled) + " (host "))
          << outcome.error;
    }
    if (n == 2) {
      EXPECT_TRUE(contains(outcome.error, "sent nothing for 2 s (collective_timeout_sec)"))
          << outcome.error;
    }
  }
  // The stalled rank finds its peers gone when it comes back, and stops too.
  EXPECT_LT(total, 3.0 * kTimeout + 2.0 * kTimeout + 10.0) << "rank " << rank;

  // A fresh thread joins a new collective (the lost one is not in the way).
  std::string rejoin;
  std::thread again([&] {
    try {
      models::XgbCollective collective(MPI_COMM_WORLD, {10.0, kTimeout});
      collective.finalize();
      rejoin = "(joined)";
    } catch (const Error& e) {
      rejoin = e.what();
    }
  });
  again.join();
  EXPECT_EQ(rejoin, "(joined)") << "a fresh thread must be able to join again";
  MPI_Barrier(MPI_COMM_WORLD);
}
