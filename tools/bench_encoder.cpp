// Triplet embedding encoder throughput (bench/RESULTS.md, issue 17): tiles
// embedded per second by ConvEncoder::embed (inference) and training triplets
// per second of the forward + backward passes (3 tiles a triplet), for the
// seed's resnet18 + orig_fastai configuration by default. Compare with
// tests/support/torch_encoder.py bench (PyTorch, same encoder, 1 thread).
//   bench_encoder [tile_N=256] [batch=32] [repeats=3] [base_width=64]
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "models/conv_encoder.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int N = argc > 1 ? std::atoi(argv[1]) : 256;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 32;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  fluxrecon::models::EncoderSpec spec;
  if (argc > 4) spec.base_width = std::atoi(argv[4]);
  fluxrecon::models::ConvEncoder enc(spec);
  enc.initialise(1);
  std::vector<float> x(std::size_t(batch) * 3 * N * N), y(std::size_t(batch) * 100);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(gen);
  enc.embed(x.data(), batch, N, N, y.data());  // primitives built outside the timing
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  for (int r = 0; r < repeats; ++r) enc.embed(x.data(), batch, N, N, y.data());
  const double infer = std::chrono::duration<double>(clock::now() - t0).count();
  fluxrecon::models::EncoderTape tape;
  std::mt19937_64 rng(1);
  enc.forward_training(x.data(), batch, N, N, true, rng, tape, y.data());
  enc.backward(tape, y.data());
  t0 = clock::now();
  for (int r = 0; r < repeats; ++r) {
    enc.forward_training(x.data(), batch, N, N, true, rng, tape, y.data());
    enc.backward(tape, y.data());
  }
  const double trained = std::chrono::duration<double>(clock::now() - t0).count();
  std::printf(
      "encoder base_width %d, %d x %d tiles, batch %d: %.2f tiles/s embedded, "
      "%.2f tiles/s forward+backward (%.2f triplets/s)\n",
      spec.base_width, N, N, batch, batch * repeats / infer, batch * repeats / trained,
      batch * repeats / trained / 3.0);
  MPI_Finalize();
  return 0;
}
