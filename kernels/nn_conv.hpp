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

// concat_pool that also records, per (sample, channel), the index of the
// maximum in its plane (the first one on ties) for the backward pass.
inline void concat_pool_argmax(const float* x, int n, int c, std::size_t plane, float* y,
                               int* argmax) {
  concat_pool(x, n, c, plane, y);
  for (std::size_t sc = 0; sc < std::size_t(n) * c; ++sc) {
    const float* in = x + sc * plane;
    std::size_t best = 0;
    for (std::size_t i = 1; i < plane; ++i)
      if (in[i] > in[best]) best = i;
    argmax[sc] = static_cast<int>(best);
  }
}

// Gradient of concat_pool: dy (n, 2c) -> dx (n, c, plane), overwritten.
inline void concat_pool_backward(const float* dy, const int* argmax, int n, int c,
                                 std::size_t plane, float* dx) {
  for (int s = 0; s < n; ++s)
    for (int ch = 0; ch < c; ++ch) {
      const std::size_t sc = std::size_t(s) * c + ch;
      const float avg = dy[std::size_t(s) * 2 * c + c + ch] / float(plane);
      float* out = dx + sc * plane;
      for (std::size_t i = 0; i < plane; ++i) out[i] = avg;
      out[argmax[sc]] += dy[std::size_t(s) * 2 * c + ch];
    }
}

// Gradient of average_pool: dy (n, c) -> dx (n, c, plane), overwritten.
inline void average_pool_backward(const float* dy, int n, int c, std::size_t plane, float* dx) {
  for (std::size_t sc = 0; sc < std::size_t(n) * c; ++sc)
    for (std::size_t i = 0; i < plane; ++i) dx[sc * plane + i] = dy[sc] / float(plane);
}

// ReLU's gradient from its output: g = 0 where out <= 0.
inline void relu_backward(float* g, const float* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) g[i] = out[i] > 0.0f ? g[i] : 0.0f;
}

inline void relu_in_place(float* y, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) y[i] = std::max(y[i], 0.0f);
}

inline void multiply_in_place(float* y, const float* mask, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) y[i] *= mask[i];
}

// convml_tt's triplet loss over a batch of `n` embeddings of `dims`:
// mean(relu(|a - p|^2 - |a - d|^2 + margin)) with p the neighbour and d the
// distant tile. Writes dL/da, dL/dp, dL/dd (each n x dims) and returns the
// loss; `near`/`far` (may be null) get the batch means of the two distances.
inline double triplet_loss(const float* a, const float* p, const float* d, int n, int dims,
                           double margin, float* da, float* dp, float* dd, double* near = nullptr,
                           double* far = nullptr) {
  double loss = 0.0, sum_near = 0.0, sum_far = 0.0;
  for (int s = 0; s < n; ++s) {
    const std::size_t at = std::size_t(s) * dims;
    double l_near = 0.0, l_far = 0.0;
    for (int k = 0; k < dims; ++k) {
      const double e = double(a[at + k]) - p[at + k], f = double(a[at + k]) - d[at + k];
      l_near += e * e;
      l_far += f * f;
    }
    sum_near += l_near;
    sum_far += l_far;
    const double value = l_near - l_far + margin;
    const bool active = value > 0.0;
    if (active) loss += value;
    const float scale = active ? float(2.0 / n) : 0.0f;
    for (int k = 0; k < dims; ++k) {
      const float e = a[at + k] - p[at + k], f = a[at + k] - d[at + k];
      da[at + k] = scale * (e - f);
      dp[at + k] = -scale * e;
      dd[at + k] = scale * f;
    }
  }
  if (near) *near = sum_near / n;
  if (far) *far = sum_far / n;
  return loss / n;
}

}  // namespace fluxrecon::kernels::conv
