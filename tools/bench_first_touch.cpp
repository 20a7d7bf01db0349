// How much the first touch of fresh memory costs on this machine against a
// second pass over the same pages: allocates SIZE_MB (2 MiB aligned, asked
// for transparent huge pages, as core/uninitialized.hpp does), memsets it
// twice, prints both times as JSON. On a VM whose guest memory the host has
// not backed yet, the first pass can be tens of times slower.
// Usage: bench_first_touch SIZE_MB
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::atol(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: bench_first_touch SIZE_MB\n");
    return 2;
  }
  const std::size_t huge = std::size_t(2) << 20;
  const std::size_t bytes = (static_cast<std::size_t>(std::atol(argv[1])) << 20) / huge * huge;
  auto* p = static_cast<unsigned char*>(std::aligned_alloc(huge, bytes));
  if (!p) {
    std::fprintf(stderr, "bench_first_touch: cannot allocate %zu bytes\n", bytes);
    return 1;
  }
  ::madvise(p, bytes, MADV_HUGEPAGE);
  auto t0 = std::chrono::steady_clock::now();
  std::memset(p, 1, bytes);
  const double first = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::memset(p, 2, bytes);
  const double again = seconds_since(t0);
  std::printf(
      "{\"mb\": %zu, \"first_touch_s\": %.3f, \"first_touch_gb_s\": %.2f, \"again_s\": %.3f, "
      "\"again_gb_s\": %.2f, \"check\": %d}\n",
      bytes >> 20, first, bytes / first / 1e9, again, bytes / again / 1e9, p[bytes / 2]);
  std::free(p);
  return 0;
}
