// Element-wise pieces of the convolutional embedding encoder
// (models/conv_encoder.hpp) that oneDNN's primitives do not cover in one
// step: batch normalisation with running statistics (inference), global
// max and average pooling (AdaptiveConcatPool2d(1)) and the residual add.
// Activations are NCHW float32, row-major.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace fluxrecon::kernels::conv {

// y = (x - mean) / sqrt(var + eps) * weight + bias per channel of (n, c,
// plane), then max(y, 0) when `relu`. In place when y == x.
inline void batch_norm_inference(const float* x, int n, int c, std::size_t plane,
                                 const float* weight, const float* bias, const float* mean,
                                 const float* var, float eps, bool relu, float* y) {
  for (int ch = 0; ch < c; ++ch) {
    const float scale = weight[ch] / std::sqrt(var[ch] + eps);
    const float shift = bias[ch] - mean[ch] * scale;
    for (int s = 0; s < n; ++s) {
      const std::size_t at = (static_cast<std::size_t>(s) * c + ch) * plane;
      const float* in = x + at;
      float* out = y + at;
      if (relu)
        for (std::size_t i = 0; i < plane; ++i) out[i] = std::max(in[i] * scale + shift, 0.0f);
      else
        for (std::size_t i = 0; i < plane; ++i) out[i] = in[i] * scale + shift;
    }
  }
}

// y += r, then max(y, 0) when `relu`.
inline void add_in_place(float* y, const float* r, std::size_t count, bool relu) {
  if (relu)
    for (std::size_t i = 0; i < count; ++i) y[i] = std::max(y[i] + r[i], 0.0f);
  else
    for (std::size_t i = 0; i < count; ++i) y[i] += r[i];
}

// (n, c, plane) -> (n, 2c): per sample the c channel maxima, then the c
// channel means (fastai's AdaptiveConcatPool2d order: max first).
inline void concat_pool(const float* x, int n, int c, std::size_t plane, float* y) {
  for (int s = 0; s < n; ++s)
    for (int ch = 0; ch < c; ++ch) {
      const float* in = x + (static_cast<std::size_t>(s) * c + ch) * plane;
      float top = in[0];
      double sum = 0.0;
      for (std::size_t i = 0; i < plane; ++i) {
        top = std::max(top, in[i]);
        sum += in[i];
      }
      y[static_cast<std::size_t>(s) * 2 * c + ch] = top;
      y[static_cast<std::size_t>(s) * 2 * c + c + ch] = static_cast<float>(sum / double(plane));
    }
}

// (n, c, plane) -> (n, c): per channel means (AdaptiveAvgPool2d(1) + Flatten).
inline void average_pool(const float* x, int n, int c, std::size_t plane, float* y) {
  for (int s = 0; s < n; ++s)
    for (int ch = 0; ch < c; ++ch) {
      const float* in = x + (static_cast<std::size_t>(s) * c + ch) * plane;
      double sum = 0.0;
      for (std::size_t i = 0; i < plane; ++i) sum += in[i];
      y[static_cast<std::size_t>(s) * c + ch] = static_cast<float>(sum / double(plane));
    }
}

}  // namespace fluxrecon::kernels::conv
