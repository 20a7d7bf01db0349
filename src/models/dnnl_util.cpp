#include "models/dnnl_util.hpp"

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

}  // namespace fluxrecon::models::dnnl_util
