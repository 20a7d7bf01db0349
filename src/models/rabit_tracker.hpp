// A Rabit tracker for Debian's XGBoost 1.7: the coordinator that tells each
// worker its rank and whom to connect to. XGBoost 1.7 ships it only in Python
// (tracker.py); this is our own C++ implementation of the same wire protocol,
// so that an MPI job needs no Python at run time.
//
// Protocol (native-endian int32; strings are int32 length + bytes):
//   worker -> magic 0xff99, tracker echoes it;
//   worker -> rank (-1 if unknown), world size, task id, command
//             ("start", "recover", "print", "shutdown").
//   start/recover: tracker -> rank, parent, world size, number of tree
//             neighbours, their ranks, ring prev, ring next; then the link loop:
//             worker -> number and ranks of peers it already reaches;
//             tracker -> number to connect, number to accept, then (host, port,
//             rank) per peer to connect; worker -> error count and, when 0, the
//             port it listens on.
//   print:    worker -> message.   shutdown: nothing more.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fluxrecon::models {

// The links of one worker, as the tracker hands them out.
struct RabitLinks {
  int parent = -1;        // -1 for the root
  std::vector<int> tree;  // tree neighbours (parent first, then children)
  int ring_prev = -1;     // -1 when the ring has one worker
  int ring_next = -1;
};

// Link map for `world_size` workers. The tree is a binary heap; ranks are the
// positions in a depth-first walk of it, so the ring is plain rank order
// (rabit's ring allreduce asserts next == rank + 1) and shares most of its
// links with the tree.
std::vector<RabitLinks> rabit_link_map(int world_size);

class RabitTracker {
 public:
  // `host`: address to bind and that workers connect to; `port`: 0 for any
  // free port; `timeout_s`: how long the tracker waits for all workers to
  // start, for each message of a worker, and for the remaining workers to shut
  // down once the first one has.
  RabitTracker(int world_size, std::string host, int port = 0, double timeout_s = 120.0);
  ~RabitTracker();  // stops the protocol thread and closes every socket; never hangs
  RabitTracker(const RabitTracker&) = delete;
  RabitTracker& operator=(const RabitTracker&) = delete;

  // Binds and listens (Error naming the port when it is in use), then runs the
  // protocol on a thread until every worker has shut down.
  void start();
  // Joins the protocol thread; rethrows its failure as fluxrecon::Error. Has no
  // limit of its own between the last start and the first shutdown (training).
  void wait();
  // As wait(), but gives up after `seconds`: false when still running.
  bool wait_for(double seconds);

  int port() const { return port_; }  // the bound port, after start()
  const std::string& host() const { return host_; }
  int world_size() const { return world_size_; }

 private:
  void run();
  void serve();
  void close_sockets();

  int world_size_;
  std::string host_;
  int port_;
  double timeout_s_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  // written by the destructor to interrupt poll()
  bool log_here_ = false;      // decided on the caller's thread (no MPI calls on ours)
  int log_rank_ = 0;
  bool started_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

}  // namespace fluxrecon::models
