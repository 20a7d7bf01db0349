// All ranks fail together: a failure on one rank becomes the same collective
// error on every rank, never a hang.
#include <gtest/gtest.h>
#include <mpi.h>

#include "core/error.hpp"
#include "core/mpi_util.hpp"

using namespace fluxrecon;

TEST(AllRanksAgree, FailureOnTheLastRankReachesEveryRank) {
  const int last = mpi::size() - 1;
  try {
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(mpi::rank() != last, "file x.nc: variable SST missing on rank ", mpi::rank());
    });
    FAIL() << "no rank threw";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("variable SST missing on rank " + std::to_string(last)),
              std::string::npos)
        << e.what();
  }
  // The communicator is still usable afterwards.
  EXPECT_EQ(mpi::sum(1), mpi::size());
}

TEST(AllRanksAgree, LowestFailingRankWinsAndSuccessPasses) {
  EXPECT_NO_THROW(all_ranks_agree(MPI_COMM_WORLD, [] {}));
  try {
    all_ranks_agree(MPI_COMM_WORLD, [] { FR_FAIL("failed on rank ", mpi::rank()); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("failed on rank 0"), 0u) << e.what();
  }
}

TEST(MpiUtil, PrefixSumGatherBroadcast) {
  const auto r = mpi::rank(), n = mpi::size();
  EXPECT_EQ(mpi::exclusive_prefix_sum(r + 1), static_cast<std::int64_t>(r * (r + 1) / 2));
  const auto all = mpi::allgatherv(std::vector<int>(static_cast<size_t>(r + 1), r));
  EXPECT_EQ(all.size(), static_cast<size_t>(n * (n + 1) / 2));
  EXPECT_EQ(mpi::broadcast(r == 0 ? std::string("from zero") : std::string(), 0), "from zero");
}

TEST(AllRanksAgree, ErrorAgreedInOneRankGroupReachesTheOtherGroups) {
  // As reconstruct's rank groups: one group fails together, the others do
  // not; the agreement over all ranks must not leave the others waiting.
  const int last = mpi::size() - 1;
  MPI_Comm group;
  MPI_Comm_split(MPI_COMM_WORLD, mpi::rank() == last ? 1 : 0, mpi::rank(), &group);
  try {
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      all_ranks_agree(group, [&] { FR_REQUIRE(mpi::rank() != last, "disk full in group 1"); });
    });
    FAIL() << "no rank threw";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("disk full in group 1"), std::string::npos) << e.what();
  }
  MPI_Comm_free(&group);
  EXPECT_EQ(mpi::sum(1), mpi::size());
}
