// The Rabit tracker and the XGBoost collective built on it: the link map, the
// wire protocol spoken by hand-written workers, the failure paths (workers that
// never come or hang up, a port in use) and real XGBoost training across ranks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mpi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "models/rabit_tracker.hpp"
#include "models/xgb_collective.hpp"

using namespace fluxrecon;
using models::RabitTracker;
using models::xgb_check;

namespace {

constexpr std::int32_t kMagic = 0xff99;
// xgboost::collective::DataType / Operation values of XGBoost 1.7.
constexpr int kXgbInt32 = 2, kXgbDouble = 7;
constexpr int kXgbMax = 0, kXgbSum = 2;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A worker that speaks the tracker protocol by hand, so each message is checked.
class HandWorker {
 public:
  explicit HandWorker(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval limit{5, 0};  // a broken tracker fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  }
  ~HandWorker() { ::close(fd_); }
  HandWorker(const HandWorker&) = delete;
  HandWorker& operator=(const HandWorker&) = delete;

  bool connected() const { return connected_; }
  void send_int(std::int32_t value) { ::send(fd_, &value, sizeof(value), MSG_NOSIGNAL); }
  void send_str(const std::string& text) {
    send_int(static_cast<std::int32_t>(text.size()));
    ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
  }
  std::int32_t recv_int() {
    std::int32_t value = INT32_MIN;
    return read(&value, sizeof(value)) ? value : INT32_MIN;
  }
  std::string recv_str() {
    const std::int32_t length = recv_int();
    if (length < 0 || length > 4096) return "<bad length>";
    std::string text(static_cast<size_t>(length), '\0');
    return read(text.data(), text.size()) ? text : "<short read>";
  }
  // True when the tracker closed the connection (EOF rather than a timeout).
  bool hung_up() {
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }
  void hello(int rank, int world_size, const std::string& task, const std::string& command) {
    send_int(kMagic);
    EXPECT_EQ(recv_int(), kMagic);
    send_int(rank);
    send_int(world_size);
    send_str(task);
    send_str(command);
  }
  // Reads the link assignment: {rank, parent, world, tree..., prev, next}.
  std::vector<int> assignment() {
    std::vector<int> out{recv_int(), recv_int(), recv_int()};
    const int n_tree = recv_int();
    for (int i = 0; i < n_tree && i < 8; ++i) out.push_back(recv_int());
    out.push_back(recv_int());
    out.push_back(recv_int());
    return out;
  }

 private:
  bool read(void* buffer, size_t size) {
    auto* out = static_cast<char*>(buffer);
    while (size > 0) {
      const ssize_t got = ::recv(fd_, out, size, 0);
      if (got <= 0) return false;
      out += got;
      size -= static_cast<size_t>(got);
    }
    return true;
  }
  int fd_;
  bool connected_ = false;
};

std::string tracker_error(RabitTracker& tracker) {
  try {
    tracker.wait();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

using DMatrix = std::unique_ptr<void, int (*)(DMatrixHandle)>;
using Booster = std::unique_ptr<void, int (*)(BoosterHandle)>;

}  // namespace

TEST(RabitLinkMap, RingIsRankOrderAndTreeIsABinaryTree) {
  for (int n = 1; n <= 13; ++n) {
    const auto links = models::rabit_link_map(n);
    ASSERT_EQ(links.size(), static_cast<size_t>(n));
    int edges = 0;
    for (int r = 0; r < n; ++r) {
      const auto& l = links[static_cast<size_t>(r)];
      // rabit's ring allreduce asserts this rank structure.
      EXPECT_EQ(l.ring_next, n == 1 ? -1 : (r + 1) % n) << "n=" << n << " r=" << r;
      EXPECT_EQ(l.ring_prev, n == 1 ? -1 : (r + n - 1) % n) << "n=" << n << " r=" << r;
      EXPECT_EQ(l.parent == -1, r == 0) << "n=" << n << " r=" << r;
      EXPECT_LE(l.tree.size(), 3u);
      for (int peer : l.tree) {
        ASSERT_TRUE(peer >= 0 && peer < n && peer != r);
        const auto& back = links[static_cast<size_t>(peer)].tree;
        EXPECT_EQ(std::count(back.begin(), back.end(), r), 1) << "link " << r << "-" << peer;
        ++edges;
      }
    }
    EXPECT_EQ(edges, 2 * (n - 1)) << "a tree over " << n << " workers";
    // Connected: following parents from every rank reaches the root.
    for (int r = 0; r < n; ++r) {
      int at = r, steps = 0;
      while (at != 0 && steps++ < n) at = links[static_cast<size_t>(at)].parent;
      EXPECT_EQ(at, 0) << "n=" << n << " r=" << r;
    }
  }
}

TEST(RabitTracker, ServesHandWrittenWorkersInTaskOrder) {
  if (mpi::rank() != 0) return;
  RabitTracker tracker(2, "127.0.0.1", 0, 5.0);
  tracker.start();
  ASSERT_GT(tracker.port(), 0);
  // Task "1" arrives first but still becomes rank 1: ranks follow task ids.
  HandWorker second(tracker.port()), first(tracker.port());
  second.hello(-1, 2, "1", "start");
  first.hello(-1, 2, "0", "start");

  EXPECT_EQ(first.assignment(), (std::vector<int>{0, -1, 2, 1, 1, 1}));
  first.send_int(0);               // no links yet
  EXPECT_EQ(first.recv_int(), 0);  // nobody to connect to
  EXPECT_EQ(first.recv_int(), 1);  // one to accept
  first.send_int(0);               // no errors
  first.send_int(40001);           // listening port

  EXPECT_EQ(second.assignment(), (std::vector<int>{1, 0, 2, 0, 0, 0}));
  for (int attempt = 0; attempt < 2; ++attempt) {
    second.send_int(0);
    EXPECT_EQ(second.recv_int(), 1);  // connect to rank 0 ...
    EXPECT_EQ(second.recv_int(), 0);
    EXPECT_EQ(second.recv_str(), "127.0.0.1");
    EXPECT_EQ(second.recv_int(), 40001);
    EXPECT_EQ(second.recv_int(), 0);
    second.send_int(attempt == 0 ? 1 : 0);  // ... the first try fails, so it is offered again
  }
  second.send_int(40002);

  HandWorker printer(tracker.port());
  printer.hello(0, 2, "0", "print");
  printer.send_str("message from a hand-written worker\n");
  for (int rank : {1, 0}) {
    HandWorker leaving(tracker.port());
    leaving.hello(rank, 2, std::to_string(rank), "shutdown");
  }
  EXPECT_TRUE(tracker.wait_for(5.0));
}

TEST(RabitTracker, FailsWithinTimeoutWhenNoWorkerArrives) {
  if (mpi::rank() != 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  RabitTracker tracker(2, "127.0.0.1", 0, 1.0);
  tracker.start();
  const std::string message = tracker_error(tracker);
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_TRUE(contains(message, "timeout")) << message;
  EXPECT_TRUE(contains(message, "only 0 of 2 workers")) << message;
}

TEST(RabitTracker, FailsWithinTimeoutWhenOneOfTwoWorkersArrives) {
  if (mpi::rank() != 0) return;
  const auto t0 = std::chrono::steady_clock::now();
  RabitTracker tracker(2, "127.0.0.1", 0, 1.0);
  tracker.start();
  HandWorker lonely(tracker.port());
  lonely.hello(-1, 2, "0", "start");
  const std::string message = tracker_error(tracker);
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_TRUE(contains(message, "timeout")) << message;
  EXPECT_TRUE(contains(message, "only 1 of 2 workers")) << message;
  // The waiting worker is released, and a latecomer is refused, not parked.
  EXPECT_TRUE(lonely.hung_up());
  EXPECT_FALSE(HandWorker(tracker.port()).connected());
}

TEST(RabitTracker, WorkerHangingUpMidHandshakeFailsTheTracker) {
  if (mpi::rank() != 0) return;
  RabitTracker tracker(1, "127.0.0.1", 0, 5.0);
  tracker.start();
  {
    HandWorker dying(tracker.port());
    dying.send_int(kMagic);
    EXPECT_EQ(dying.recv_int(), kMagic);
  }
  const std::string message = tracker_error(tracker);
  EXPECT_TRUE(contains(message, "closed the connection before sending its rank")) << message;
}

TEST(RabitTracker, FixedPortWorksAndAPortInUseIsNamed) {
  if (mpi::rank() != 0) return;
  int free_port = 0;
  {
    RabitTracker probe(1, "127.0.0.1", 0, 5.0);
    probe.start();
    free_port = probe.port();
  }
  const auto t0 = std::chrono::steady_clock::now();
  {
    RabitTracker fixed(1, "127.0.0.1", free_port, 5.0);
    fixed.start();
    EXPECT_EQ(fixed.port(), free_port);
    RabitTracker clash(1, "127.0.0.1", free_port, 5.0);
    try {
      clash.start();
      ADD_FAILURE() << "port " << free_port << " was bound twice";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "port " + std::to_string(free_port))) << e.what();
      EXPECT_TRUE(contains(e.what(), "in use")) << e.what();
    }
  }  // the destructors stop a tracker still waiting for workers
  EXPECT_LT(seconds_since(t0), 1.0);
}

TEST(RabitXgbCollective, RankSizeAllreduceAndBroadcastMatchMpi) {
  const int rank = mpi::rank(), n = mpi::size();
  models::XgbCollective collective(MPI_COMM_WORLD, {10.0, 30});
  EXPECT_EQ(XGCommunicatorGetWorldSize(), n);
  EXPECT_EQ(XGCommunicatorGetRank(), rank);
  EXPECT_TRUE(contains(collective.config(), "\"rabit_task_id\"")) << collective.config();

  std::int32_t ints[2] = {rank + 1, 10 * (rank + 1)};
  xgb_check(XGCommunicatorAllreduce(ints, 2, kXgbInt32, kXgbSum), "XGCommunicatorAllreduce");
  EXPECT_EQ(ints[0], n * (n + 1) / 2);
  EXPECT_EQ(ints[1], 10 * n * (n + 1) / 2);
  // Above rabit's reduce_ring_mincount (32K items) the ring algorithm runs,
  // which relies on the tracker's rank order around the ring.
  std::vector<std::int32_t> big(1 << 16, rank + 1);
  xgb_check(XGCommunicatorAllreduce(big.data(), big.size(), kXgbInt32, kXgbSum),
            "XGCommunicatorAllreduce");
  EXPECT_EQ(std::count(big.begin(), big.end(), n * (n + 1) / 2), static_cast<long>(big.size()));
  double value = 0.5 * (rank + 1);
  xgb_check(XGCommunicatorAllreduce(&value, 1, kXgbDouble, kXgbMax), "XGCommunicatorAllreduce");
  EXPECT_DOUBLE_EQ(value, 0.5 * n);

  char text[32] = {0};
  if (rank == n - 1) std::snprintf(text, sizeof(text), "from rank %d", n - 1);
  xgb_check(XGCommunicatorBroadcast(text, sizeof(text), n - 1), "XGCommunicatorBroadcast");
  EXPECT_EQ(std::string(text), "from rank " + std::to_string(n - 1));
  // Goes through the tracker's 'print' command.
  xgb_check(XGCommunicatorPrint("rabit print path\n"), "XGCommunicatorPrint");
  collective.finalize();
}

TEST(RabitXgbCollective, TrainingGivesByteIdenticalModelsOnAllRanks) {
  const int rank = mpi::rank();
  constexpr int kRows = 300, kCols = 4, kRounds = 5;
  // Each rank holds its own rows of one deterministic regression problem.
  std::vector<float> x(static_cast<size_t>(kRows * kCols)), y(static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    const double g = rank * kRows + i;
    float* row = &x[static_cast<size_t>(i * kCols)];
    for (int j = 0; j < kCols; ++j) row[j] = static_cast<float>(std::sin(0.37 * g * (j + 1) + j));
    y[static_cast<size_t>(i)] = 2.0f * row[0] - row[1] + 0.5f * row[2] * row[3];
  }

  models::XgbCollective collective(MPI_COMM_WORLD, {10.0, 30});
  std::string model;
  double rmse = 0, spread = 0;
  {
    DMatrixHandle dm_raw = nullptr;
    xgb_check(XGDMatrixCreateFromMat(x.data(), kRows, kCols, NAN, &dm_raw),
              "XGDMatrixCreateFromMat");
    DMatrix dm(dm_raw, XGDMatrixFree);
    xgb_check(XGDMatrixSetFloatInfo(dm.get(), "label", y.data(), kRows), "XGDMatrixSetFloatInfo");
    BoosterHandle booster_raw = nullptr;
    xgb_check(XGBoosterCreate(&dm_raw, 1, &booster_raw), "XGBoosterCreate");
    Booster booster(booster_raw, XGBoosterFree);
    for (const auto& [key, value] :
         std::vector<std::pair<const char*, const char*>>{{"tree_method", "hist"},
                                                          {"objective", "reg:squarederror"},
                                                          {"max_depth", "3"},
                                                          {"eta", "0.3"},
                                                          {"seed", "7"},
                                                          {"nthread", "1"},
                                                          {"verbosity", "1"}})
      xgb_check(XGBoosterSetParam(booster.get(), key, value), "XGBoosterSetParam");
    for (int round = 0; round < kRounds; ++round)
      xgb_check(XGBoosterUpdateOneIter(booster.get(), round, dm.get()), "XGBoosterUpdateOneIter");

    bst_ulong length = 0;
    const char* bytes = nullptr;
    xgb_check(XGBoosterSaveModelToBuffer(booster.get(), R"({"format":"json"})", &length, &bytes),
              "XGBoosterSaveModelToBuffer");
    model.assign(bytes, length);
    const float* predictions = nullptr;
    xgb_check(XGBoosterPredict(booster.get(), dm.get(), 0, 0, 0, &length, &predictions),
              "XGBoosterPredict");
    ASSERT_EQ(length, static_cast<bst_ulong>(kRows));
    double mean = 0;
    for (float v : y) mean += v / kRows;
    for (int i = 0; i < kRows; ++i) {
      rmse += std::pow(predictions[i] - y[static_cast<size_t>(i)], 2) / kRows;
      spread += std::pow(y[static_cast<size_t>(i)] - mean, 2) / kRows;
    }
  }
  collective.finalize();

  EXPECT_TRUE(contains(model, "\"num_trees\":\"" + std::to_string(kRounds) + "\"")) << model;
  EXPECT_LT(std::sqrt(rmse), 0.7 * std::sqrt(spread)) << "5 rounds should cut the error";
  const std::string on_root = mpi::broadcast(model, 0);
  EXPECT_EQ(mpi::min(on_root == model ? 1 : 0), 1)
      << "rank " << rank << ": model differs from rank 0's (" << model.size() << " vs "
      << on_root.size() << " bytes)";
}

TEST(RabitXgbCollective, SetupFailureOnRankZeroReachesEveryRank) {
  // TEST-NET-3: not an address of this machine, so only rank 0's bind fails.
  ::setenv("FLUXRECON_TRACKER_HOST", "203.0.113.1", 1);
  try {
    models::XgbCollective collective(MPI_COMM_WORLD, {10.0, 30});
    ADD_FAILURE() << "the tracker bound an address this machine does not have";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_TRUE(contains(e.what(), "cannot listen on 203.0.113.1")) << e.what();
  }
  ::unsetenv("FLUXRECON_TRACKER_HOST");
}

TEST(RabitXgbCollective, DestructorLeavesWithoutFinalizeAndARankCanRejoin) {
  const int n = mpi::size();
  for (int round = 0; round < 2; ++round) {
    models::XgbCollective collective(MPI_COMM_WORLD, {10.0, 30});
    std::int32_t one = 1;
    xgb_check(XGCommunicatorAllreduce(&one, 1, kXgbInt32, kXgbSum), "XGCommunicatorAllreduce");
    EXPECT_EQ(one, n);
  }  // no finalize(): the destructor leaves and waits for the tracker
}

TEST(RabitXgbCollective, RealWorkerIsReleasedWhenTheTrackerTimesOut) {
  if (mpi::rank() != 0) return;
  // World size 2 but only this process joins: the tracker gives up after 1 s
  // and XGBoost's worker must fail instead of waiting for its rank forever.
  RabitTracker tracker(2, "127.0.0.1", 0, 1.0);
  tracker.start();
  const std::string config = R"({"xgboost_communicator":"rabit","rabit_tracker_uri":"127.0.0.1",)"
                             R"("rabit_tracker_port":)" +
                             std::to_string(tracker.port()) +
                             R"(,"rabit_world_size":2,"rabit_task_id":"0"})";
  std::string failure = "(XGCommunicatorInit succeeded with one of two workers)";
  const auto t0 = std::chrono::steady_clock::now();
  // On its own thread: a failed init leaves XGBoost's thread-local rabit
  // engine unusable, and later tests in this process still need ours.
  std::thread worker([&] {
    try {
      xgb_check(XGCommunicatorInit(config.c_str()), "XGCommunicatorInit");
      XGCommunicatorFinalize();
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  worker.join();
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_TRUE(contains(failure, "XGBoost XGCommunicatorInit failed")) << failure;
  EXPECT_TRUE(contains(tracker_error(tracker), "only 1 of 2 workers"));
}
