// Benchmark of the neural inference kernels (tools/bench-kernels.sh): for the
// seed's MLP (44-207-248-198-1), LSTM (3 x 128) and attention LSTM (256) and
// the GRU at the LSTM's size (3 x 128),
// samples/s of the kernels alone (NnInference::predict_device, fenced) on
// random windows, and OpenBLAS sgemm GFLOP/s (1024^3, one thread) measured in
// the same run; for the MLP, the LSTM and the GRU also the optional bf16 path
// (NnInferenceBf16, oneDNN) and its difference from float32. Prints one JSON
// object per line.
// Usage: bench_kernels [SAMPLES] [REPEATS]   (default 200000, 3; median reported)
#include <cblas.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "models/nn_inference.hpp"
#include "models/nn_inference_bf16.hpp"

extern "C" void openblas_set_num_threads(int);

namespace {

using fluxrecon::models::NetworkKind;
using fluxrecon::models::NetworkSpec;
using fluxrecon::models::NnInference;
using fluxrecon::models::StateDict;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double sgemm_gflops(int repeats) {
  const int n = 1024;
  std::vector<float> a(std::size_t(n) * n), b(a.size()), c(a.size());
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = dist(rng);
    b[i] = dist(rng);
  }
  openblas_set_num_threads(1);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  gemm();  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < 4; ++i) gemm();
    rates.push_back(4 * 2.0 * n * n * double(n) / seconds_since(start) / 1e9);
  }
  return median(rates);
}

// Weights in PyTorch's default initialisation range for every key the spec
// needs (read back from the validation error text would be fragile, so the
// shapes are listed here as in the spec).
StateDict random_weights(const NetworkSpec& spec) {
  std::mt19937 rng(7);
  StateDict d;
  auto put = [&](const std::string& key, std::vector<std::size_t> shape, double fan_in) {
    const float bound = static_cast<float>(1.0 / std::sqrt(fan_in));
    std::uniform_real_distribution<float> dist(-bound, bound);
    std::size_t count = 1;
    for (std::size_t s : shape) count *= s;
    auto& t = d[key];
    t.shape = std::move(shape);
    t.values.resize(count);
    for (float& v : t.values) v = dist(rng);
  };
  const std::size_t f = spec.n_features, h = spec.hidden_dim;
  if (spec.kind == NetworkKind::mlp) {
    std::size_t in = spec.window * spec.n_dynamic + f - spec.n_dynamic;
    for (std::size_t l = 0; l < spec.hidden_dims.size(); ++l) {
      const std::size_t out = spec.hidden_dims[l];
      put("layers." + std::to_string(l) + ".weight", {out, in}, double(in));
      put("layers." + std::to_string(l) + ".bias", {out}, double(in));
      in = out;
    }
    put("output_layer.weight", {1, in}, double(in));
    put("output_layer.bias", {1}, double(in));
  } else if (spec.kind == NetworkKind::lstm || spec.kind == NetworkKind::gru) {
    const bool gru = spec.kind == NetworkKind::gru;  // 3 gates, "gru."
    const std::string p = gru ? "gru." : "lstm.";
    const std::size_t g = gru ? 3 : 4;
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string s = "_l" + std::to_string(l);
      put(p + "weight_ih" + s, {g * h, l == 0 ? f : h}, double(h));
      put(p + "weight_hh" + s, {g * h, h}, double(h));
      put(p + "bias_ih" + s, {g * h}, double(h));
      put(p + "bias_hh" + s, {g * h}, double(h));
    }
    put("fc1.weight", {1, h}, double(h));
    put("fc1.bias", {1}, double(h));
  } else {
    put("attention.W.weight", {h, 2 * h}, 2.0 * h);
    put("attention.W.bias", {h}, 2.0 * h);
    put("attention.U.weight", {h, f}, double(f));
    put("attention.U.bias", {h}, double(f));
    put("attention.V.weight", {f, h}, double(h));
    put("attention.V.bias", {f}, double(h));
    put("lstm_cell.weight_ih", {4 * h, f}, double(h));
    put("lstm_cell.weight_hh", {4 * h, h}, double(h));
    put("lstm_cell.bias_ih", {4 * h}, double(h));
    put("lstm_cell.bias_hh", {4 * h}, double(h));
    put("temporal_attention.weight", {1, h}, double(h));
    put("temporal_attention.bias", {1}, double(h));
    put("fc1.weight", {1, h}, double(h));
    put("fc1.bias", {1}, double(h));
  }
  return d;
}

void bench_model(const char* name, const NetworkSpec& spec, std::size_t n, int repeats,
                 double sgemm) {
  const StateDict weights = random_weights(spec);
  const NnInference model(spec, weights);
  const std::size_t per_sample = std::size_t(spec.window) * spec.n_features;
  NnInference::DeviceFloats windows("windows", n * per_sample), out("out", n);
  {
    auto host = Kokkos::create_mirror_view(windows);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t i = 0; i < host.extent(0); ++i) host(i) = normal(rng);
    Kokkos::deep_copy(windows, host);
  }
  const std::size_t warm = std::min<std::size_t>(n, 4096);
  model.predict_device(Kokkos::subview(windows, std::make_pair(std::size_t(0), warm * per_sample)),
                       Kokkos::subview(out, std::make_pair(std::size_t(0), warm)));
  Kokkos::fence();
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    Kokkos::fence();
    const auto start = Clock::now();
    model.predict_device(windows, out);
    Kokkos::fence();
    rates.push_back(double(n) / seconds_since(start));
  }
  // A checksum keeps the work observable.
  auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  double checksum = 0;
  for (std::size_t i = 0; i < n; ++i) checksum += host_out(i);
  const double rate = median(rates), flops = model.flops_per_sample();
  std::printf(
      "{\"model\": \"%s\", \"samples\": %zu, \"samples_per_s\": %.0f, \"flops_per_sample\": %.0f, "
      "\"gflops\": %.2f, \"share_of_sgemm\": %.3f, \"checksum\": %.6g}\n",
      name, n, rate, flops, rate * flops / 1e9, rate * flops / 1e9 / sgemm, checksum);
  std::fflush(stdout);
  if (spec.kind == NetworkKind::attention_lstm) return;

  // The optional bf16 path (oneDNN, host memory) on the same windows, and
  // its difference from the float32 kernels.
  fluxrecon::models::NnInferenceBf16 bf16(spec, weights);
  auto host_windows = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), windows);
  std::vector<float> y(n);
  bf16.predict(host_windows.data(), warm, y.data());
  rates.clear();
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    bf16.predict(host_windows.data(), n, y.data());
    rates.push_back(double(n) / seconds_since(start));
  }
  double ss = 0, ss_diff = 0, top = 0, top_diff = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = double(y[i]) - host_out(i);
    ss += double(host_out(i)) * host_out(i);
    ss_diff += d * d;
    top = std::max(top, std::abs(double(host_out(i))));
    top_diff = std::max(top_diff, std::abs(d));
  }
  const double rate_bf16 = median(rates);
  std::printf(
      "{\"model\": \"%s_bf16\", \"samples\": %zu, \"samples_per_s\": %.0f, "
      "\"flops_per_sample\": %.0f, \"gflops\": %.2f, \"share_of_sgemm\": %.3f, "
      "\"native_bf16\": %s, \"rel_rms_vs_f32\": %.3g, \"max_diff_over_max_f32\": %.3g}\n",
      name, n, rate_bf16, flops, rate_bf16 * flops / 1e9, rate_bf16 * flops / 1e9 / sgemm,
      fluxrecon::models::NnInferenceBf16::native_bf16() ? "true" : "false", std::sqrt(ss_diff / ss),
      top_diff / top);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
    if (n == 0 || repeats < 1) {
      std::fprintf(stderr, "usage: bench_kernels [SAMPLES > 0] [REPEATS >= 1]\n");
      status = 2;
    } else {
      const double sgemm = sgemm_gflops(repeats);
      std::printf("{\"sgemm_gflops\": %.2f, \"size\": 1024, \"threads\": 1, \"kokkos\": \"%s\"}\n",
                  sgemm, Kokkos::DefaultExecutionSpace::name());
      NetworkSpec mlp;
      mlp.kind = NetworkKind::mlp;
      NetworkSpec lstm;
      lstm.kind = NetworkKind::lstm;
      NetworkSpec attention;
      attention.kind = NetworkKind::attention_lstm;
      attention.hidden_dim = 256;
      bench_model("mlp", mlp, n, repeats, sgemm);
      bench_model("lstm", lstm, n, repeats, sgemm);
      bench_model("attention_lstm", attention, n, repeats, sgemm);
      NetworkSpec gru;
      gru.kind = NetworkKind::gru;
      bench_model("gru", gru, n, repeats, sgemm);
    }
  }
  MPI_Finalize();
  return status;
}
