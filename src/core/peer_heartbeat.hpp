// Heartbeats between neighbouring ranks over UDP, beside MPI: when a
// collective stalls, MPI cannot say which peer is gone, but a rank can tell
// which of its ring neighbours (rank - 1 and rank + 1) has stopped beating
// (dead, stopped, or cut off from the network). Used by StallWatchdog to
// name the lost peer in its message; the heartbeats are tiny (one datagram
// per neighbour and address per second), so they scale with any rank count.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon {

class PeerHeartbeat {
 public:
  // Collective over `comm`: every rank opens a UDP socket on an ephemeral
  // port and learns its neighbours' addresses (every IPv4 address of their
  // hosts: the one that reaches is not known in advance). A rank that
  // cannot open a socket beats and listens to nothing (no error: this is a
  // diagnostic aid only).
  explicit PeerHeartbeat(MPI_Comm comm);
  ~PeerHeartbeat();
  PeerHeartbeat(const PeerHeartbeat&) = delete;
  PeerHeartbeat& operator=(const PeerHeartbeat&) = delete;

  // Not thread-safe: one thread calls these (the watchdog's).
  // Sends one beat to every neighbour address.
  void beat();
  // Receives the beats that arrived (non-blocking).
  void listen();
  // The neighbours heard from once but not for more than `quiet_s` seconds,
  // as text naming the rank, its host and the silence; "" when none.
  std::string silent_neighbours(double quiet_s) const;
  // The neighbours never heard from since the start (more than `quiet_s`
  // seconds ago): dead from the start, or UDP blocked between the hosts.
  std::string never_heard(double quiet_s) const;
  // The watched neighbours as text ("rank 1 (host h1) and rank 3 (host h3)").
  std::string neighbours_text() const;

 private:
  struct Neighbour {
    int rank = 0;
    std::string host;
    std::vector<std::uint32_t> addresses;  // IPv4, network order
    std::uint16_t port = 0;                // network order
    std::chrono::steady_clock::time_point last_heard;
    bool heard = false;
  };
  int fd_ = -1;
  int rank_ = 0;
  std::uint64_t token_ = 0;  // this job's, so that stray datagrams are ignored
  std::chrono::steady_clock::time_point start_;
  std::vector<Neighbour> neighbours_;
};

}  // namespace fluxrecon
