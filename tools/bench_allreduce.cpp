// MPI_Allreduce (float, sum) latency and bandwidth at this rank count: the
// constants of the gradient exchange in tools/scaling-model.py. For each size
// from 4 B to 64 MiB, the median over repetitions of the slowest rank's time.
// Bandwidth is the ring algorithm's bus bandwidth, 2 (P-1)/P x bytes / time.
// Usage: mpirun -n P bench_allreduce [REPEATS]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int repeats = argc > 1 ? std::max(3, std::atoi(argv[1])) : 21;
  if (rank == 0)
    std::printf("# %d ranks, %d repeats; bytes, median seconds, bus GB/s\n", size, repeats);
  for (std::size_t bytes = 4; bytes <= (std::size_t(64) << 20); bytes *= 4) {
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> buffer(n, 1.0f);
    std::vector<double> times;
    for (int r = 0; r < repeats + 2; ++r) {  // two warm-up calls
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
      double t = MPI_Wtime() - t0;
      MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      if (r >= 2) times.push_back(t);
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    const double median = times[times.size() / 2];
    const double bus = size > 1 ? 2.0 * (size - 1) / size * double(bytes) / median / 1e9 : 0.0;
    if (rank == 0) std::printf("%zu %.3e %.3f\n", bytes, median, bus);
  }
  MPI_Finalize();
  return 0;
}
