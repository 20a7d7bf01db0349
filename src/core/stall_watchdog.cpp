#include "core/stall_watchdog.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon {

StallWatchdog::StallWatchdog(MPI_Comm comm, double timeout_s, double slack, std::string what)
    : rank_(mpi::rank(comm)),
      heartbeat_(comm),
      timeout_s_(timeout_s),
      slack_(slack),
      what_(std::move(what)) {
  thread_ = std::thread([this] { watch(); });
}

StallWatchdog::~StallWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StallWatchdog::begin(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  in_call_ = true;
  call_ = name;
  start_ = std::chrono::steady_clock::now();
}

void StallWatchdog::end() {
  std::lock_guard<std::mutex> lock(mutex_);
  in_call_ = false;
  longest_s_ = std::max(
      longest_s_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

void StallWatchdog::watch() {
  const std::string host = mpi::hostname();
  auto last_beat = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    heartbeat_.listen();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_beat >= std::chrono::seconds(1)) {
      heartbeat_.beat();
      last_beat = now;
    }
    if (!in_call_) continue;
    const double limit = std::max(timeout_s_, slack_ * longest_s_);
    const double running = std::chrono::duration<double>(now - start_).count();
    if (running <= limit) continue;
    // A neighbour unheard for 3 s (beats go out every second), or for half
    // the wait under a short limit, is the lost one.
    const std::string silent = heartbeat_.silent_neighbours(std::min(3.0, limit / 2));
    const std::string never = heartbeat_.never_heard(std::min(3.0, limit / 2));
    const std::string neighbours = heartbeat_.neighbours_text();
    std::string peers;
    if (!silent.empty())
      peers = concat("; its neighbour ", silent, ": that rank died, stalled or lost its network");
    else if (!never.empty())
      peers = concat("; no heartbeat ever came from its neighbour ", never,
                     " (UDP blocked between the hosts?): a peer rank died, stalled or lost its "
                     "network");
    else if (neighbours.empty())
      peers = "; a peer rank died, stalled or lost its network";
    else
      peers = concat("; its neighbours ", neighbours,
                     " are alive: a rank further away died, stalled or lost its network (its "
                     "neighbours name it)");
    // No MPI and no exceptions on this thread: say it and end the process.
    log::error_line(concat("fluxrecon: error on rank ", rank_, " (host ", host, "): ", what_,
                           " waited ", static_cast<int>(running), " s in ", call_,
                           " (limit: collective_timeout_sec ", timeout_s_, " s or ", slack_,
                           " x the longest call so far, ", longest_s_, " s)", peers,
                           "; ending the job"));
    std::_Exit(2);
  }
}

}  // namespace fluxrecon
