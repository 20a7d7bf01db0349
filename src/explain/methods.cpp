#include "explain/methods.hpp"

#include <Kokkos_Core.hpp>

#include "core/error.hpp"
#include "kernels/explain.hpp"
#include "kernels/flatten.hpp"
#include "models/network.hpp"
#include "models/nn_inference.hpp"
#include "models/xgboost_model.hpp"

namespace fluxrecon::explain {

std::string lag_label(int lag) { return lag == 0 ? "t" : "t-" + std::to_string(lag); }

FlatLayout flat_layout(int window, const std::vector<std::string>& names, int dynamic) {
  const int features = static_cast<int>(names.size());
  FR_REQUIRE(window >= 1 && dynamic >= 0 && dynamic <= features,
             "explain: a flat layout of window ", window, " with ", dynamic, " of ", features,
             " features dynamic");
  FlatLayout l;
  l.players.owner.assign(static_cast<size_t>(window * features), 0);
  for (int t = 0; t < window; ++t)
    for (int f = 0; f < dynamic; ++f) {
      l.players.owner[static_cast<size_t>(t * features + f)] = l.players.count();
      l.players.names.push_back(names[static_cast<size_t>(f)] + " (" + lag_label(window - 1 - t) +
                                ")");
      l.variable.push_back(f);
      l.lag.push_back(window - 1 - t);
    }
  for (int f = dynamic; f < features; ++f) {
    for (int t = 0; t < window; ++t)
      l.players.owner[static_cast<size_t>(t * features + f)] = l.players.count();
    l.players.names.push_back(names[static_cast<size_t>(f)]);
    l.variable.push_back(f);
    l.lag.push_back(-1);
  }
  return l;
}

std::vector<double> by_variable(const FlatLayout& layout, const std::vector<double>& values,
                                int features) {
  return group_sums(values, layout.variable, features);
}

std::vector<double> by_lag(const FlatLayout& layout, const std::vector<double>& values,
                           int window) {
  return group_sums(values, layout.lag, window);
}

TreeShap tree_shap(const models::XgboostModel& model, const float* windows, std::int64_t n,
                   bool interactions) {
  TreeShap r;
  if (n <= 0) return r;
  const int width = model.width(), window = model.window(), dynamic = model.dynamic();
  std::vector<float> flat(static_cast<size_t>(n) * static_cast<size_t>(width));
  Kokkos::parallel_for("flatten_windows",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
                       kernels::FlattenWindows{windows, window, flat.data(), dynamic});
  Kokkos::fence();
  const auto c = model.contributions(flat.data(), n);
  FR_REQUIRE(c.size() == static_cast<size_t>(n) * static_cast<size_t>(width + 1),
             "XGBoost returned ", c.size(), " SHAP values for ", n, " rows of ", width, " inputs");
  r.values.resize(static_cast<size_t>(n) * static_cast<size_t>(width));
  r.bias.resize(static_cast<size_t>(n));
  r.prediction = model.predict(flat.data(), n);
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = c.data() + i * (width + 1);
    std::copy(row, row + width, r.values.begin() + i * width);
    r.bias[static_cast<size_t>(i)] = row[width];
  }
  if (interactions) {
    r.interactions = model.interactions(flat.data(), n);
    FR_REQUIRE(r.interactions.size() ==
                   static_cast<size_t>(n) * static_cast<size_t>(width + 1) * (width + 1),
               "XGBoost returned ", r.interactions.size(), " SHAP interaction values for ", n,
               " rows of ", width, " inputs");
  }
  return r;
}

AttentionScores attention_scores(const models::NnInference& net, const float* windows,
                                 std::int64_t n) {
  const auto& spec = net.spec();
  FR_REQUIRE(spec.kind == models::NetworkKind::attention_lstm,
             "explain: attention scores exist only for attention_lstm, not ",
             models::kind_name(spec.kind));
  AttentionScores s;
  const auto un = static_cast<size_t>(std::max<std::int64_t>(n, 0));
  const size_t cells = static_cast<size_t>(spec.window) * static_cast<size_t>(spec.n_features);
  s.prediction.resize(un);
  s.alpha.resize(un * cells);
  s.beta.resize(un * static_cast<size_t>(spec.window));
  s.gamma.resize(un * cells);
  if (n <= 0) return s;
  net.predict_with_attention(windows, un, s.prediction.data(), s.alpha.data(), s.beta.data());
  Kokkos::parallel_for("fluxrecon::explain::attention_product",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
                       kernels::AttentionProduct{s.alpha.data(), s.beta.data(), s.gamma.data(),
                                                 spec.window, spec.n_features});
  Kokkos::fence();
  return s;
}

}  // namespace fluxrecon::explain
