#include "models/dnnl_util.hpp"

#include <map>

namespace fluxrecon::models::dnnl_util {

dnnl::engine& engine() {
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

void reorder(const dnnl::memory& from, const dnnl::memory& to) {
  dnnl::reorder(from, to).execute(stream(), const_cast<dnnl::memory&>(from),
                                  const_cast<dnnl::memory&>(to));
  stream().wait();
}

namespace {
// One eltwise primitive per (algorithm, size), built on first use (batch
// and block sizes repeat).
dnnl::eltwise_forward& eltwise(dnnl::algorithm algorithm, std::size_t count) {
  static std::map<std::pair<dnnl::algorithm, std::size_t>, dnnl::eltwise_forward> primitives;
  auto& p = primitives[{algorithm, count}];
  if (!p)
    p = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, algorithm,
                                    desc({static_cast<dnnl::memory::dim>(count)}, tag::a)),
        engine()));
  return p;
}
}  // namespace

void tanh_in_place(float* values, std::size_t count) {
  if (count == 0) return;
  auto m = view(desc({static_cast<dnnl::memory::dim>(count)}, tag::a), values);
  eltwise(dnnl::algorithm::eltwise_tanh, count)
      .execute(stream(), {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
  stream().wait();
}

void sqrt_into(const float* src, float* dst, std::size_t count) {
  if (count == 0) return;
  const auto d = desc({static_cast<dnnl::memory::dim>(count)}, tag::a);
  eltwise(dnnl::algorithm::eltwise_sqrt, count)
      .execute(stream(), {{DNNL_ARG_SRC, view(d, src)}, {DNNL_ARG_DST, view(d, dst)}});
  stream().wait();
}

}  // namespace fluxrecon::models::dnnl_util
