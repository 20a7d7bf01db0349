// Inference of the neural models (MLP, LSTM, attention LSTM, GRU) with the
// Kokkos kernels of kernels/nn_*.hpp: validates a PyTorch-named state dict
// against the network spec, packs the weights once into the kernels' layout
// in the execution space's memory, and predicts batches of normalised windows.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>

#include "kernels/nn_attention_lstm.hpp"
#include "kernels/nn_gru.hpp"
#include "kernels/nn_lstm.hpp"
#include "kernels/nn_mlp.hpp"
#include "models/network_spec.hpp"

namespace fluxrecon::models {

class NnInference {
 public:
  using ExecSpace = Kokkos::DefaultExecutionSpace;
  using MemSpace = ExecSpace::memory_space;
  using DeviceFloats = Kokkos::View<float*, MemSpace>;
  using ConstDeviceFloats = Kokkos::View<const float*, MemSpace>;

  // Throws fluxrecon::Error for an unusable spec or a state dict that lacks
  // a key of the spec or has a wrong shape (keys the spec does not use are
  // ignored). `batch` bounds the windows copied to the device at a time when
  // the execution space cannot read host memory.
  NnInference(const models::NetworkSpec& spec, const models::StateDict& weights,
              std::size_t batch = std::size_t(1) << 16);

  // Checks only, as the constructor does.
  static void validate(const models::NetworkSpec& spec, const models::StateDict& weights);

  const models::NetworkSpec& spec() const { return spec_; }

  // out[i] = the model's prediction (normalised target units) for
  // windows[i] = [window][n_features] (normalised, oldest step first).
  // Host pointers; returns when the results are in `out`.
  void predict(const float* windows, std::size_t n, float* out) const;

  // The same, attention_lstm only, also writing the input attention alpha
  // [n][window][n_features] (each step sums to 1 over the features) and the
  // temporal attention beta [n][window] (sums to 1 over the steps).
  void predict_with_attention(const float* windows, std::size_t n, float* out, float* alpha,
                              float* beta) const;

  // Views in the execution space's memory: windows [n*window*n_features],
  // out [n]; alpha and beta may be empty (attention_lstm only). Launches the
  // kernels without a fence.
  void predict_device(ConstDeviceFloats windows, DeviceFloats out, DeviceFloats alpha = {},
                      DeviceFloats beta = {}) const;

  // Floating-point operations per sample that the kernels perform in their
  // products (2 per multiply-add; activations and padding not counted).
  double flops_per_sample() const;

 private:
  void run(const float* windows, std::size_t n, float* out, float* alpha, float* beta) const;

  models::NetworkSpec spec_;
  std::size_t batch_;
  DeviceFloats params_;
  kernels::nn::MlpLayout mlp_;
  kernels::nn::LstmLayout lstm_;
  kernels::nn::AttentionLstmLayout attention_;
  kernels::nn::GruLayout gru_;
};

}  // namespace fluxrecon::models
