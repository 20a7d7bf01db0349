// XGBoost's distributed training over an MPI communicator. Debian's XGBoost
// 1.7 has no MPI communicator, only Rabit: rank 0 runs our RabitTracker on a
// thread, every rank joins it through XGCommunicatorInit, and from then on
// XGBoost synchronises histograms itself, so all ranks end with the same model.
#pragma once

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "models/rabit_tracker.hpp"

namespace fluxrecon::models {

// Turns a failed XGBoost C API call (status -1) into fluxrecon::Error carrying
// XGBGetLastError(). `what` names the call, e.g. "XGBoosterUpdateOneIter".
void xgb_check(int status, const char* what);

struct XgbCollectiveOptions {
  // All workers must join the tracker within this, and all must shut down
  // within this after the first one has.
  double setup_timeout_s = 120.0;
  // rabit_timeout_sec (the model config's collective_timeout_sec): a rank
  // that hears nothing from a peer in a collective for this long fails
  // (check()) instead of hanging. It must exceed the longest time a rank
  // computes between two exchanges.
  int comm_timeout_s = 300;
};

// RAII: the XGBoost collective is up between construction and finalize() (or
// destruction). Construction and finalize() are collective over `comm`; a
// failure on any rank throws the same Error on every rank. XGBoost keeps one
// communicator per thread, so only one XgbCollective may be alive per thread,
// and every XGBoost call that trains must come from the constructing thread.
// A setup that failed in XGCommunicatorInit, or a collective lost through
// check(), leaves XGBoost 1.7 unable to join again from that thread: a later
// XgbCollective there says so.
//
// A rank that dies or stalls while the others train: XGBoost 1.7 (rabit,
// no recovery) fails the survivors' next exchange with that rank, at once
// when its sockets close and after comm_timeout_s when it stays silent.
// check() turns that into an Error naming the peer, never touches MPI or
// the tracker again (a stopped tracker host would block us), and the
// caller's non-collective error ends the MPI job (MPI_Abort).
class XgbCollective {
 public:
  explicit XgbCollective(MPI_Comm comm = MPI_COMM_WORLD, XgbCollectiveOptions options = {});
  // Best effort when finalize() was not called (e.g. during an exception):
  // leaves the collective and waits a bounded time for the tracker; after a
  // lost collective it stops the tracker at once and leaves XGBoost as it is.
  ~XgbCollective();
  XgbCollective(const XgbCollective&) = delete;
  XgbCollective& operator=(const XgbCollective&) = delete;

  // Leaves the collective on every rank and joins the tracker (collective).
  void finalize();

  // For the XGBoost calls that exchange data while the collective is up
  // (DMatrix creation, boosting rounds, evaluation): status -1 from a lost
  // peer throws a non-collective Error naming it (rank and host) and marks
  // the collective lost; any other XGBoost failure throws as xgb_check does.
  // `what` names the call, e.g. "XGBoosterUpdateOneIter (round 5)".
  void check(int status, const std::string& what);
  bool lost() const { return lost_; }

  // Runs one XGBoost call that exchanges data (`call` returns its status),
  // under a watchdog, then check()s it. rabit's poll timeout does not end
  // every hang: ranks that disagree on the size of an allreduce (NaN inputs
  // on one rank do that in XGBoost 1.7's histogram sync) spin in recv
  // forever. A call that runs longer than the larger of 2 x comm_timeout_s and
  // four times the longest call so far ends the process (exit code 2) with
  // a message naming the call and the rank; mpiexec then ends the others.
  void run(const std::string& what, const std::function<int()>& call);

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& tracker_host() const { return host_; }
  int tracker_port() const { return port_; }
  // The JSON this rank passed to XGCommunicatorInit.
  const std::string& config() const { return config_; }

 private:
  std::string describe_peers() const;

  MPI_Comm comm_;
  int rank_;
  int size_;
  XgbCollectiveOptions options_;
  std::string host_;
  int port_ = 0;
  std::string config_;
  std::vector<std::string> hosts_;         // hostname of every rank
  std::unique_ptr<RabitTracker> tracker_;  // rank 0 only
  bool active_ = false;
  bool lost_ = false;
  void (*old_sigpipe_)(int) = nullptr;

  // The watchdog of run(): its thread, and the call it watches (guarded by
  // watch_mutex_).
  void watch();
  void stop_watchdog();
  std::thread watchdog_;
  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  bool in_call_ = false;
  std::string call_what_;
  std::chrono::steady_clock::time_point call_start_;
  double longest_call_s_ = 0;
};

// The address workers use to reach a tracker on this node: FLUXRECON_TRACKER_HOST
// when set, else 127.0.0.1 when all ranks share this host, else this node's
// first non-loopback IPv4 address.
std::string tracker_address(bool single_host);

}  // namespace fluxrecon::models
