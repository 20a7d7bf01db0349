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

void tanh_in_place(float* values, std::size_t count) {
  if (count == 0) return;
  // One primitive per size, built on first use (batch sizes repeat).
  static std::map<std::size_t, dnnl::eltwise_forward> primitives;
  const auto d = desc({static_cast<dnnl::memory::dim>(count)}, tag::a);
  auto& p = primitives[count];
  if (!p)
    p = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::eltwise_tanh, d),
        engine()));
  auto m = view(d, values);
  p.execute(stream(), {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
  stream().wait();
}

}  // namespace fluxrecon::models::dnnl_util
