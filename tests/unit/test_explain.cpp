// The explanation methods (src/explain/) against analytic references:
// KernelSHAP equals the exact Shapley values (brute force) and, on a linear
// model, w (x - E x) even with sampled coalitions; every method is efficient
// (values sum to f(x) - E f); TimeSHAP and the attention scores rank first
// the one cell that matters in a synthetic sequence task (lag 2 of one
// variable).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "explain/methods.hpp"
#include "explain/shapley.hpp"
#include "explain/timeshap.hpp"
#include "models/network_spec.hpp"
#include "models/nn_inference.hpp"
#include "support/random_networks.hpp"

namespace {

namespace ex = fluxrecon::explain;
using fluxrecon::models::NetworkKind;
using fluxrecon::models::NetworkSpec;
using fluxrecon::models::NnInference;
using fluxrecon::models::StateDict;

std::vector<float> normal_values(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// The seed's flat layout of a small window: T = 3, 4 features, 2 dynamic.
std::vector<std::string> names4() { return {"SST", "SAL", "lat_sin", "lat_cos"}; }

TEST(KernelShap, EqualsTheExactShapleyValuesOfANonlinearModel) {
  const int cells = 5;
  ex::Players players;
  for (int i = 0; i < cells; ++i) {
    players.names.push_back("x" + std::to_string(i));
    players.owner.push_back(i);
  }
  const auto bg_rows = normal_values(3 * cells, 7);
  const auto background = ex::uniform_background(bg_rows, cells);
  const auto x = normal_values(cells, 8);
  auto f = [](const float* v) {
    return std::tanh(v[0] * v[1]) + v[2] * v[2] * v[3] + 0.5 * std::sin(v[4]) + v[0];
  };
  const ex::BatchPredict predict = [&](const float* in, std::int64_t n, float* out) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(f(in + i * cells));
  };
  const auto a = ex::kernel_shap(x.data(), players, background, predict, {});
  EXPECT_TRUE(a.exact);
  EXPECT_EQ(a.coalitions, 30);
  // Brute force: phi_i = sum over S not holding i of |S|!(M-|S|-1)!/M! (v(S+i) - v(S)).
  auto value = [&](unsigned s) {
    double v = 0;
    for (int b = 0; b < 3; ++b) {
      float in[cells];
      for (int k = 0; k < cells; ++k) in[k] = (s >> k) & 1u ? x[k] : bg_rows[b * cells + k];
      v += f(in) / 3.0;
    }
    return v;
  };
  const double fact[] = {1, 1, 2, 6, 24, 120};
  for (int i = 0; i < cells; ++i) {
    double phi = 0;
    for (unsigned s = 0; s < 32; ++s) {
      if ((s >> i) & 1u) continue;
      const int size = __builtin_popcount(s);
      phi += fact[size] * fact[cells - size - 1] / fact[cells] * (value(s | 1u << i) - value(s));
    }
    EXPECT_NEAR(a.values[static_cast<size_t>(i)], phi, 2e-6) << "player " << i;
  }
}

TEST(KernelShap, LinearModelGivesTheAnalyticValuesWithSampledCoalitions) {
  // The seed's 44 flat inputs (window 4, 10 dynamic + 4 position features):
  // 2^44 coalitions, so the design samples; a linear model is still exact.
  const int window = 4, features = 14, dynamic = 10, cells = window * features;
  std::vector<std::string> names;
  for (int f = 0; f < features; ++f) names.push_back("f" + std::to_string(f));
  const auto layout = ex::flat_layout(window, names, dynamic);
  ASSERT_EQ(layout.players.count(), 44);
  const auto w = normal_values(static_cast<size_t>(cells), 1);
  const auto bg = normal_values(static_cast<size_t>(40 * cells), 2);
  const auto x = normal_values(static_cast<size_t>(cells), 3, 2.0f);
  const ex::BatchPredict predict = [&](const float* in, std::int64_t n, float* out) {
    for (std::int64_t i = 0; i < n; ++i) {
      double y = 0.25;
      for (int c = 0; c < cells; ++c) y += w[c] * in[i * cells + c];
      out[i] = static_cast<float>(y);
    }
  };
  ex::KernelShapOptions o;
  o.coalitions = 400;
  o.seed = 9;
  const auto a =
      ex::kernel_shap(x.data(), layout.players, ex::uniform_background(bg, cells), predict, o);
  EXPECT_FALSE(a.exact);
  EXPECT_EQ(a.evaluations, (a.coalitions + 1) * 40 + 1);
  std::vector<double> expected(44, 0.0);
  for (int c = 0; c < cells; ++c) {
    double mean = 0;
    for (int b = 0; b < 40; ++b) mean += bg[static_cast<size_t>(b * cells + c)] / 40.0;
    expected[static_cast<size_t>(layout.players.owner[static_cast<size_t>(c)])] +=
        w[static_cast<size_t>(c)] * (x[static_cast<size_t>(c)] - mean);
  }
  for (int j = 0; j < 44; ++j)
    EXPECT_NEAR(a.values[static_cast<size_t>(j)], expected[static_cast<size_t>(j)], 2e-4)
        << layout.players.names[static_cast<size_t>(j)];
  EXPECT_NEAR(sum(a.values), a.prediction - a.expected, 1e-9);
  // Grouped by variable and lag, the sums are kept.
  const auto v = ex::by_variable(layout, a.values, features);
  const auto l = ex::by_lag(layout, a.values, window);
  double position = 0;
  for (int f = dynamic; f < features; ++f) position += v[static_cast<size_t>(f)];
  EXPECT_NEAR(sum(v), sum(a.values), 1e-9);
  EXPECT_NEAR(sum(l) + position, sum(a.values), 1e-9);
  EXPECT_EQ(layout.players.names[0], "f0 (t-3)");
  EXPECT_EQ(layout.players.names[39], "f9 (t)");
}

TEST(KernelShap, MlpKernelsAreEfficientWithAKmeansBackground) {
  NetworkSpec spec;
  spec.kind = NetworkKind::mlp;
  spec.hidden_dims = {32, 16};
  const NnInference net(spec, test_util::random_weights(spec, 4));
  const int cells = spec.window * spec.n_features;
  std::vector<std::string> names;
  for (int f = 0; f < spec.n_features; ++f) names.push_back("f" + std::to_string(f));
  const auto layout = ex::flat_layout(spec.window, names, spec.n_dynamic);
  const ex::BatchPredict predict = [&](const float* in, std::int64_t n, float* out) {
    net.predict(in, static_cast<std::size_t>(n), out);
  };
  const auto full =
      ex::uniform_background(normal_values(static_cast<size_t>(200 * cells), 5), cells);
  const auto summary = ex::kmeans_background(full, cells, 10, 1);
  ASSERT_EQ(summary.size(), 10);
  EXPECT_NEAR(std::accumulate(summary.weights.begin(), summary.weights.end(), 0.0), 1.0, 1e-12);
  const auto x = normal_values(static_cast<size_t>(cells), 6);
  ex::KernelShapOptions o;
  o.coalitions = 300;
  o.max_rows = 1000;  // several predict calls
  const auto a = ex::kernel_shap(x.data(), layout.players, summary, predict, o);
  float fx = 0;
  net.predict(x.data(), 1, &fx);
  EXPECT_FLOAT_EQ(static_cast<float>(a.prediction), fx);
  EXPECT_NEAR(sum(a.values), a.prediction - a.expected, 1e-6);
  // The same seed gives the same values (ranks explain instances alone).
  const auto b = ex::kernel_shap(x.data(), layout.players, summary, predict, o);
  EXPECT_EQ(a.values, b.values);
}

// The synthetic sequence task: only lag 2 (step 1 of 4) of variable 2 matters.
constexpr int kSteps = 4, kFeatures = 5, kVariable = 2, kStep = 1;

TEST(TimeShap, RanksTheOneRelevantCellFirstAtEveryLevel) {
  const ex::BatchPredict predict = [](const float* in, std::int64_t n, float* out) {
    for (std::int64_t i = 0; i < n; ++i)
      out[i] = 2.0f * std::tanh(in[(i * kSteps + kStep) * kFeatures + kVariable]) + 0.1f;
  };
  const auto bg = normal_values(static_cast<size_t>(50 * kSteps * kFeatures), 11);
  const auto baseline = ex::median_event(bg, kSteps, kFeatures);
  for (double tolerance : {0.0, 0.01}) {
    auto x = normal_values(static_cast<size_t>(kSteps * kFeatures), 12);
    x[kStep * kFeatures + kVariable] = 1.5f;
    ex::TimeShapOptions o;
    o.tolerance = tolerance;
    const auto r = ex::time_shap(x.data(), baseline, kSteps, kFeatures, predict, o);
    const double delta = r.prediction - r.expected;
    EXPECT_EQ(r.pruned, tolerance > 0 ? 1 : 0);  // event 0 is irrelevant
    double events = r.event_pruned;
    int top_event = -1;
    for (int t = r.pruned; t < kSteps; ++t) {
      events += r.event[static_cast<size_t>(t)];
      if (top_event < 0 || std::fabs(r.event[static_cast<size_t>(t)]) >
                               std::fabs(r.event[static_cast<size_t>(top_event)]))
        top_event = t;
    }
    EXPECT_EQ(top_event, kStep);
    const auto top_feature =
        std::max_element(r.feature.begin(), r.feature.end(),
                         [](double a, double b) { return std::fabs(a) < std::fabs(b); });
    EXPECT_EQ(top_feature - r.feature.begin(), kVariable);
    int top_cell = -1;
    double cells = r.cell_other + r.cell_pruned;
    for (int c = 0; c < kSteps * kFeatures; ++c) {
      const double v = r.cell[static_cast<size_t>(c)];
      if (std::isnan(v)) continue;
      cells += v;
      if (top_cell < 0 || std::fabs(v) > std::fabs(r.cell[static_cast<size_t>(top_cell)]))
        top_cell = c;
    }
    EXPECT_EQ(top_cell, kStep * kFeatures + kVariable);
    // Efficiency at every level.
    EXPECT_NEAR(events, delta, 1e-6);
    EXPECT_NEAR(sum(r.feature) + r.feature_pruned, delta, 1e-6);
    EXPECT_NEAR(cells, delta, 1e-6);
    EXPECT_NEAR(r.cell[static_cast<size_t>(kStep * kFeatures + kVariable)], delta, 1e-5);
  }
}

TEST(TimeShap, LstmKernelsAreEfficientWithTopCellsAndSampledCoalitions) {
  NetworkSpec spec;
  spec.kind = NetworkKind::lstm;
  spec.hidden_dim = 16;
  spec.num_layers = 2;
  const NnInference net(spec, test_util::random_weights(spec, 13));
  const ex::BatchPredict predict = [&](const float* in, std::int64_t n, float* out) {
    net.predict(in, static_cast<std::size_t>(n), out);
  };
  const int cells = spec.window * spec.n_features;
  const auto baseline = ex::median_event(normal_values(static_cast<size_t>(30 * cells), 14),
                                         spec.window, spec.n_features);
  const auto x = normal_values(static_cast<size_t>(cells), 15, 2.0f);
  ex::TimeShapOptions o;
  o.cell_samples = 400;  // 56 cells: sampled
  o.top_events = 2;
  o.top_features = 5;
  const auto r = ex::time_shap(x.data(), baseline, spec.window, spec.n_features, predict, o);
  const double delta = r.prediction - r.expected;
  double events = r.event_pruned, cellsum = r.cell_other + r.cell_pruned;
  int singles = 0;
  for (double v : r.event)
    if (!std::isnan(v)) events += v;
  for (double v : r.cell)
    if (!std::isnan(v)) {
      cellsum += v;
      ++singles;
    }
  EXPECT_EQ(singles, 10);
  EXPECT_NEAR(events, delta, 1e-5);
  EXPECT_NEAR(sum(r.feature) + r.feature_pruned, delta, 1e-5);
  EXPECT_NEAR(cellsum, delta, 1e-5);
  EXPECT_GT(r.evaluations, 400);
}

// An attention LSTM built by hand for the synthetic task: its input attention
// puts most weight on variable kVariable (V's bias) and its temporal attention
// on step kStep (two units whose states grow at different rates, so that
// w_s . h_t peaks at that step); its output ignores the inputs.
StateDict attention_weights_for_the_task(const NetworkSpec& spec) {
  const std::size_t f = static_cast<std::size_t>(spec.n_features), h = 2;
  auto zeros = [](std::vector<std::size_t> shape) {
    fluxrecon::models::Tensor t;
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    t.shape = std::move(shape);
    t.values.assign(n, 0.0f);
    return t;
  };
  StateDict d;
  d["attention.W.weight"] = zeros({h, 2 * h});
  d["attention.W.bias"] = zeros({h});
  d["attention.U.weight"] = zeros({h, f});
  d["attention.U.bias"] = zeros({h});
  d["attention.V.weight"] = zeros({f, h});
  d["attention.V.bias"] = zeros({f});
  d["attention.V.bias"].values[kVariable] = 4.0f;
  d["lstm_cell.weight_ih"] = zeros({4 * h, f});
  d["lstm_cell.weight_hh"] = zeros({4 * h, h});
  d["lstm_cell.bias_ih"] = zeros({4 * h});
  d["lstm_cell.bias_hh"] = zeros({4 * h});
  // Gates i, f, g, o: i, f, o open; g = 1 for unit 0 and 0.1 for unit 1, so
  // c_t = (t + 1) g and h_t = tanh(c_t).
  auto& b = d["lstm_cell.bias_ih"].values;
  for (std::size_t u = 0; u < h; ++u) b[u] = b[h + u] = b[3 * h + u] = 12.0f;
  b[2 * h] = 12.0f;
  b[2 * h + 1] = static_cast<float>(std::atanh(0.1));
  d["temporal_attention.weight"] = zeros({1, h});
  d["temporal_attention.weight"].values = {40.0f, -40.0f};
  d["temporal_attention.bias"] = zeros({1});
  d["fc1.weight"] = zeros({1, h});
  d["fc1.weight"].values = {1.0f, 1.0f};
  d["fc1.bias"] = zeros({1});
  return d;
}

TEST(AttentionScores, RankTheRelevantCellFirstAndSumToOne) {
  NetworkSpec spec;
  spec.kind = NetworkKind::attention_lstm;
  spec.window = kSteps;
  spec.n_features = kFeatures;
  spec.n_dynamic = kFeatures - 4;
  spec.hidden_dim = 2;
  const NnInference net(spec, attention_weights_for_the_task(spec));
  const int n = 20;
  const auto x = normal_values(static_cast<size_t>(n * kSteps * kFeatures), 16);
  const auto s = ex::attention_scores(net, x.data(), n);
  std::vector<double> mean(kSteps * kFeatures, 0.0);
  for (int i = 0; i < n; ++i) {
    double total = 0, beta = 0;
    for (int c = 0; c < kSteps * kFeatures; ++c) {
      total += s.gamma[static_cast<size_t>(i * kSteps * kFeatures + c)];
      mean[static_cast<size_t>(c)] += s.gamma[static_cast<size_t>(i * kSteps * kFeatures + c)] / n;
    }
    for (int t = 0; t < kSteps; ++t) beta += s.beta[static_cast<size_t>(i * kSteps + t)];
    EXPECT_NEAR(total, 1.0, 1e-5);
    EXPECT_NEAR(beta, 1.0, 1e-5);
  }
  const auto top = std::max_element(mean.begin(), mean.end()) - mean.begin();
  EXPECT_EQ(top, kStep * kFeatures + kVariable);
  EXPECT_GT(mean[kStep * kFeatures + kVariable], 0.5);
  // The attention scores go with the kernel's own predictions.
  std::vector<float> y(n);
  net.predict(x.data(), n, y.data());
  EXPECT_EQ(s.prediction, y);
}

TEST(ExplainLayout, MedianEventIsNumpysMedian) {
  // Two windows of 2 steps x 1 feature: events 4, 1, 3, 2 -> median 2.5.
  EXPECT_EQ(ex::median_event({4, 1, 3, 2}, 2, 1), std::vector<float>{2.5f});
  EXPECT_EQ(ex::median_event({4, 1, 3, 2, 5, 0}, 2, 1), std::vector<float>{2.5f});
  EXPECT_EQ(ex::median_event({4, 1, 3, 9, 5, 0}, 3, 1), std::vector<float>{3.5f});
  EXPECT_EQ(ex::lag_label(0), "t");
  EXPECT_EQ(ex::lag_label(3), "t-3");
  const auto l = ex::flat_layout(3, names4(), 2);
  EXPECT_EQ(l.players.count(), 8);
  EXPECT_EQ(l.players.names[6], "lat_sin");
  // Position features own their cells at every step.
  EXPECT_EQ(l.players.owner[2], 6);
  EXPECT_EQ(l.players.owner[2 * 4 + 3], 7);
}

}  // namespace
