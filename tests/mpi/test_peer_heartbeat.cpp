// The UDP heartbeats between ring neighbours that let the neural trainer's
// watchdog name the rank that went silent: neighbours that beat are heard,
// one that stops beating is named with its host, one never heard (dead from
// the start, or UDP blocked) is told apart.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/mpi_util.hpp"
#include "core/peer_heartbeat.hpp"

using namespace fluxrecon;

namespace {

// Beats (when `beating`) and listens for `seconds`, as the watchdog's thread does.
void run_for(PeerHeartbeat& h, double seconds, bool beating) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (beating) h.beat();
    h.listen();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

TEST(PeerHeartbeat, NamesTheNeighbourThatStoppedBeating) {
  const int rank = mpi::rank(MPI_COMM_WORLD), size = mpi::size(MPI_COMM_WORLD);
  PeerHeartbeat h(MPI_COMM_WORLD);
  if (size == 1) {  // nobody to watch
    EXPECT_EQ(h.neighbours_text(), "");
    EXPECT_EQ(h.silent_neighbours(0.0), "");
    return;
  }
  const int next = (rank + 1) % size;
  EXPECT_NE(h.neighbours_text().find("rank " + std::to_string(next) + " (host "), std::string::npos)
      << h.neighbours_text();
  // Everyone beats: nobody is silent.
  run_for(h, 1.5, true);
  EXPECT_EQ(h.silent_neighbours(1.0), "") << "rank " << rank;
  MPI_Barrier(MPI_COMM_WORLD);
  // The last rank stops beating; its neighbours go on and must name it.
  const int quiet = size - 1;
  run_for(h, 2.5, rank != quiet);
  const std::string silent = h.silent_neighbours(1.0);
  const bool neighbour_of_quiet = rank == (quiet + 1) % size || rank == (quiet + size - 1) % size;
  if (rank != quiet && neighbour_of_quiet) {
    EXPECT_NE(silent.find("rank " + std::to_string(quiet) + " (host " + mpi::hostname() +
                          ") silent for "),
              std::string::npos)
        << silent;
  } else {
    EXPECT_EQ(silent, "") << "rank " << rank;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(PeerHeartbeat, NeighbourNeverHeardFromIsSaidSo) {
  PeerHeartbeat h(MPI_COMM_WORLD);
  if (mpi::size(MPI_COMM_WORLD) == 1) return;
  EXPECT_EQ(h.never_heard(10.0), "") << "too early to tell";
  run_for(h, 1.2, false);  // nobody beats
  const int other = (mpi::rank(MPI_COMM_WORLD) + 1) % mpi::size(MPI_COMM_WORLD);
  EXPECT_NE(h.never_heard(1.0).find("rank " + std::to_string(other) + " (host "), std::string::npos)
      << h.never_heard(1.0);
  EXPECT_EQ(h.silent_neighbours(1.0), "") << "never heard is not silent";
  EXPECT_EQ(h.never_heard(60.0), "");
  MPI_Barrier(MPI_COMM_WORLD);
}
