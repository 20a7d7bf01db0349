// Building blocks of the neural inference kernels (nn_mlp.hpp, nn_lstm.hpp,
// nn_attention_lstm.hpp): a register-blocked dense product over a block of
// points and float32 activations that the compiler vectorises.
//
// Layout: a block holds kBlockPoints points; every activation of a block is
// stored feature-major, [feature][point], so the innermost loop runs over
// points (SIMD lanes) and a weight is a broadcast scalar. Weights are packed
// per block of kRowBlock output rows as [row block][k][row in block] (the
// transposed weight, contiguous in k), so one row block streams through its
// weights once per block of points while its kRowBlock x kBlockPoints
// accumulators stay in registers.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace fluxrecon::kernels::nn {

// Points per block and output rows per register block, sized so that the
// kRowBlock x kBlockPoints accumulators stay in vector registers: 16 of the
// 32 AVX-512 registers, or 12 of the 16 AVX2 registers elsewhere. The
// choice must not differ between a GPU build's host and device passes (the
// host packs the weights), hence the backend test.
#if defined(__AVX512F__) && !defined(KOKKOS_ENABLE_CUDA) && !defined(KOKKOS_ENABLE_HIP) && \
    !defined(KOKKOS_ENABLE_SYCL)
constexpr int kBlockPoints = 32;
constexpr int kRowBlock = 8;  // LSTM: 2 units x 4 gates
#else
constexpr int kBlockPoints = 24;
constexpr int kRowBlock = 4;  // LSTM: 1 unit x 4 gates
#endif
constexpr int kAlignFloats = 16;  // 64-byte alignment of scratch arrays

KOKKOS_INLINE_FUNCTION constexpr int round_up(int value, int multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// a * b + c, fused where the target has FMA (the build uses ISO C++, where
// the compiler does not contract on its own).
KOKKOS_FORCEINLINE_FUNCTION float madd(float a, float b, float c) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__) || defined(__FMA__)
  return fmaf(a, b, c);
#else
  return a * b + c;
#endif
}

// exp(x) for float32 within about 2 ulp on [-87, 88] (clamped outside):
// x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7
// (truncation error below 1e-8), 2^n assembled in the exponent bits.
// Branch-free and without float-to-int conversions (after a clamp those
// keep GCC from if-converting under -ftrapping-math), so loops over points
// vectorise.
KOKKOS_FORCEINLINE_FUNCTION float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Adding 1.5 * 2^23 rounds x / ln2 to the integer n, which then sits in
  // the low mantissa bits of `shifted`.
  constexpr float kShift = 12582912.0f;
  constexpr std::int32_t kShiftBits = 0x4B400000;
  const float shifted = x * 1.44269504f + kShift;
  const float n = shifted - kShift;
  std::int32_t n_bits;
  memcpy(&n_bits, &shifted, sizeof n_bits);
  // ln 2 split in a part with few mantissa bits (n * hi is exact) and the rest.
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
  float p = 1.0f / 5040.0f;
  p = madd(p, r, 1.0f / 720.0f);
  p = madd(p, r, 1.0f / 120.0f);
  p = madd(p, r, 1.0f / 24.0f);
  p = madd(p, r, 1.0f / 6.0f);
  p = madd(p, r, 0.5f);
  p = madd(p, r, 1.0f);
  p = madd(p, r, 1.0f);
  const std::int32_t bits = (n_bits - kShiftBits + 127) * (1 << 23);
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

KOKKOS_FORCEINLINE_FUNCTION float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

// tanh through e^(-2|x|): absolute error about 1e-7 everywhere.
KOKKOS_FORCEINLINE_FUNCTION float tanh_approx(float x) {
  const float t = exp_approx(-2.0f * fabsf(x));
  const float v = (1.0f - t) / (1.0f + t);
  return x < 0.0f ? -v : v;
}

// One operand of a dense product: `len` features of a block, [len][kBlockPoints].
struct DenseInput {
  const float* x;
  int len;
};

// acc[r][p] = bias[r] + sum over the inputs, in order, of w[k][r] * x[k][p]
// for one row block. `w` is the row block's packed weights [k][R] whose k
// runs over all inputs of the layer; passing only the leading inputs skips
// the products of operands known to be zero.
template <int R>
KOKKOS_FORCEINLINE_FUNCTION void dense_rows(const float* w, const float* bias,
                                            const DenseInput* inputs, int n_inputs,
                                            float (&acc)[R][kBlockPoints]) {
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < kBlockPoints; ++p) acc[r][p] = bias[r];
  for (int s = 0; s < n_inputs; ++s) {
    const float* x = inputs[s].x;
    for (int k = 0; k < inputs[s].len; ++k, w += R, x += kBlockPoints) {
      for (int r = 0; r < R; ++r) {
        const float wr = w[r];
        for (int p = 0; p < kBlockPoints; ++p) acc[r][p] = madd(wr, x[p], acc[r][p]);
      }
    }
  }
}

// y[p] = b + sum_k w[k] x[k][p]: a single output row (heads of the networks).
KOKKOS_FORCEINLINE_FUNCTION void dense_one_row(const float* w, float b, const float* x, int len,
                                               float* y) {
  float acc[kBlockPoints];
  for (int p = 0; p < kBlockPoints; ++p) acc[p] = b;
  for (int k = 0; k < len; ++k, x += kBlockPoints)
    for (int p = 0; p < kBlockPoints; ++p) acc[p] = madd(w[k], x[p], acc[p]);
  for (int p = 0; p < kBlockPoints; ++p) y[p] = acc[p];
}

// Hands out 64-byte aligned float arrays from a team's scratch memory.
class ScratchArena {
 public:
  KOKKOS_INLINE_FUNCTION explicit ScratchArena(void* base)
      : next_(reinterpret_cast<std::uintptr_t>(base)) {}
  KOKKOS_INLINE_FUNCTION float* take(int floats) {
    const std::uintptr_t align = kAlignFloats * sizeof(float);
    next_ = (next_ + align - 1) / align * align;
    float* out = reinterpret_cast<float*>(next_);
    next_ += static_cast<std::uintptr_t>(floats) * sizeof(float);
    return out;
  }
  // Bytes to request for arrays totalling `floats` in `arrays` pieces.
  KOKKOS_INLINE_FUNCTION static constexpr std::size_t bytes_for(std::size_t floats, int arrays) {
    return (floats + static_cast<std::size_t>(arrays + 1) * kAlignFloats) * sizeof(float);
  }

 private:
  std::uintptr_t next_;
};

// Copies the points [first, first + kBlockPoints) of windows [n][steps][features]
// into x[step][feature][point], zero beyond n.
KOKKOS_INLINE_FUNCTION void gather_windows(const float* windows, std::int64_t n, std::int64_t first,
                                           int steps, int features, float* x) {
  for (int p = 0; p < kBlockPoints; ++p) {
    const std::int64_t s = first + p;
    if (s < n) {
      const float* in = windows + s * steps * features;
      for (int tf = 0; tf < steps * features; ++tf) x[tf * kBlockPoints + p] = in[tf];
    } else {
      for (int tf = 0; tf < steps * features; ++tf) x[tf * kBlockPoints + p] = 0.0f;
    }
  }
}

}  // namespace fluxrecon::kernels::nn
