// A backstop for collectives that never return: MPI has no timeout, and a
// peer that died, stalled or lost its network leaves the others blocked in
// MPI_Allreduce forever. A thread watches the calls made through guard(); one
// that runs past the limit ends the process with a message naming this rank,
// its host, the call and, from the heartbeats of its ring neighbours
// (core/peer_heartbeat), the neighbour that went silent (mpiexec then ends
// the other ranks).
#pragma once

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/peer_heartbeat.hpp"

namespace fluxrecon {

class StallWatchdog {
 public:
  // Collective over `comm` (the heartbeats' set-up). limit: max(timeout_s,
  // slack x the longest call so far), seconds.
  StallWatchdog(MPI_Comm comm, double timeout_s, double slack, std::string what);
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  // Runs call() under watch (until it returns or throws).
  template <class Call>
  void guard(const std::string& name, Call&& call) {
    struct Ended {
      StallWatchdog* w;
      ~Ended() { w->end(); }
    };
    begin(name);
    const Ended ended{this};
    call();
  }

 private:
  void begin(const std::string& name);
  void end();
  void watch();

  const int rank_;
  PeerHeartbeat heartbeat_;  // used by the watching thread only
  const double timeout_s_, slack_;
  const std::string what_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false, in_call_ = false;
  std::string call_;
  std::chrono::steady_clock::time_point start_;
  double longest_s_ = 0;
  std::thread thread_;
};

}  // namespace fluxrecon
