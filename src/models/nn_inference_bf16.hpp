// Optional reduced-precision inference of the MLP, the LSTM and the GRU through
// oneDNN in bfloat16 (weights and activations in bf16, accumulation, biases
// and the output in float32), host CPU only. Where the CPU has AVX512-BF16
// oneDNN's bf16 kernels run about twice the float32 rate; elsewhere oneDNN
// emulates them (slower). The accuracy loss against the float32 kernels is
// reported by tools/bench-kernels.sh. The float32 Kokkos path (NnInference)
// stays the default.
#pragma once

#include <cstddef>
#include <memory>

#include "models/network_spec.hpp"

namespace fluxrecon::models {

class NnInferenceBf16 {
 public:
  // Validates as NnInference does; the attention LSTM is not supported
  // (fluxrecon::Error). `batch`: samples per oneDNN call (512 was the
  // fastest for the seed's LSTM here: larger batches leave the caches).
  NnInferenceBf16(const models::NetworkSpec& spec, const models::StateDict& weights,
                  int batch = 512);
  ~NnInferenceBf16();
  NnInferenceBf16(const NnInferenceBf16&) = delete;
  NnInferenceBf16& operator=(const NnInferenceBf16&) = delete;

  // True when oneDNN runs bf16 natively on this CPU (avx512_core_bf16 or later).
  static bool native_bf16();

  const models::NetworkSpec& spec() const;

  // As NnInference::predict (host pointers). Uses internal buffers: one
  // call at a time per object.
  void predict(const float* windows, std::size_t n, float* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluxrecon::models
