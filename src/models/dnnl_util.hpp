// oneDNN plumbing shared by the neural layers: one CPU engine and stream, and
// memory objects over the project's own buffers (no copies).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace fluxrecon::models::dnnl_util {

using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

dnnl::engine& engine();
dnnl::stream& stream();

inline dnnl::memory::desc desc(const dims& shape, tag format) {
  return dnnl::memory::desc(shape, dnnl::memory::data_type::f32, format);
}
// A memory object viewing `data` (not owned). `data` may be null for an
// object whose buffer is set later with set_data_handle.
inline dnnl::memory view(const dnnl::memory::desc& d, const float* data) {
  return dnnl::memory(d, engine(), const_cast<float*>(data));
}
// A memory object that owns its buffer.
inline dnnl::memory owned(const dnnl::memory::desc& d) { return dnnl::memory(d, engine()); }

// Reorders `from` into `to` (layouts may differ) and waits.
void reorder(const dnnl::memory& from, const dnnl::memory& to);

// tanh of `count` values in place through oneDNN's vectorised eltwise
// primitive (std::tanh is a scalar libm call, slower than the GEMMs here).
void tanh_in_place(float* values, std::size_t count);
// dst = sqrt(src), `count` values, through the same eltwise primitive (the
// compiler cannot vectorise std::sqrt while it may set errno).
void sqrt_into(const float* src, float* dst, std::size_t count);

// Runs `body` and converts oneDNN's exceptions into fluxrecon::Error naming
// `what` (oneDNN reports e.g. unsupported shapes this way).
template <class Body>
void guarded(const char* what, Body&& body);

}  // namespace fluxrecon::models::dnnl_util

#include "core/error.hpp"

template <class Body>
void fluxrecon::models::dnnl_util::guarded(const char* what, Body&& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    FR_FAIL("oneDNN failed in ", what, ": ", e.what(), " (status ", static_cast<int>(e.status),
            ")");
  }
}
