// GoogleTest main for every fluxrecon test binary: MPI and Kokkos are set up
// once, only rank 0 prints, and the exit code is the maximum over all ranks
// so that a failure on any rank fails the test.
#include <gtest/gtest.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/sanitize_options.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int result = 0;
  {
    // Kokkos' OpenMP backend prints binding advice on stdout, which test
    // discovery would take for test names: silence Kokkos warnings here.
    std::string quiet_flag = "--kokkos-disable-warnings";
    std::vector<char*> kokkos_argv = {argv[0], quiet_flag.data(), nullptr};
    int kokkos_argc = 2;
    Kokkos::ScopeGuard kokkos(kokkos_argc, kokkos_argv.data());
    ::testing::InitGoogleTest(&argc, argv);
    if (rank != 0) {
      // Silence GoogleTest's listing and results on other ranks.
      std::freopen("/dev/null", "w", stdout);
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
    }
    result = RUN_ALL_TESTS();
  }
  int worst = result;
  MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
