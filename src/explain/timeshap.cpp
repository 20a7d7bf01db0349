#include "explain/timeshap.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.hpp"

namespace fluxrecon::explain {
namespace {

std::string event_name(int t, int steps) { return "event -" + std::to_string(steps - t); }

// Indices of the `top` largest |v| among `candidates` (all when top <= 0),
// ascending.
std::vector<int> top_of(const std::vector<double>& v, std::vector<int> candidates, int top) {
  if (top > 0 && top < static_cast<int>(candidates.size())) {
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
      return std::fabs(v[static_cast<size_t>(a)]) > std::fabs(v[static_cast<size_t>(b)]);
    });
    candidates.resize(static_cast<size_t>(top));
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

}  // namespace

std::vector<float> median_event(const std::vector<float>& background, int steps, int features) {
  const size_t events = background.size() / static_cast<size_t>(features);
  FR_REQUIRE(steps >= 1 && features >= 1 && events >= 1 &&
                 background.size() % (static_cast<size_t>(steps) * features) == 0,
             "TimeSHAP: a background of ", background.size(), " values is not whole windows of ",
             steps, " x ", features);
  std::vector<float> median(static_cast<size_t>(features)), column(events);
  for (int f = 0; f < features; ++f) {
    for (size_t e = 0; e < events; ++e)
      column[e] = background[e * features + static_cast<size_t>(f)];
    const size_t mid = events / 2;
    std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid),
                     column.end());
    float m = column[mid];
    if (events % 2 == 0) {  // the mean of the two middle values, as numpy
      const float below =
          *std::max_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid));
      m = static_cast<float>(0.5 * (static_cast<double>(below) + m));
    }
    median[static_cast<size_t>(f)] = m;
  }
  return median;
}

TimeShapResult time_shap(const float* instance, const std::vector<float>& baseline, int steps,
                         int features, const BatchPredict& predict, const TimeShapOptions& o) {
  FR_REQUIRE(static_cast<int>(baseline.size()) == features, "TimeSHAP: a baseline event of ",
             baseline.size(), " values for ", features, " features");
  const int cells = steps * features;
  TimeShapResult r;
  r.steps = steps;
  r.features = features;
  Background base;
  for (int t = 0; t < steps; ++t)
    base.rows.insert(base.rows.end(), baseline.begin(), baseline.end());
  base.weights = {1.0};
  auto cell = [&](int t, int f) { return static_cast<size_t>(t * features + f); };

  // Temporal pruning: v(old), v(recent) of every split in one batch.
  if (o.tolerance > 0 && steps > 1) {
    std::vector<float> rows;
    for (int i = steps - 1; i >= 1; --i)
      for (int keep_old = 1; keep_old >= 0; --keep_old)
        for (int t = 0; t < steps; ++t)
          for (int f = 0; f < features; ++f)
            rows.push_back((t < i) == (keep_old == 1) ? instance[cell(t, f)]
                                                      : base.rows[cell(t, f)]);
    rows.insert(rows.end(), instance, instance + cells);
    rows.insert(rows.end(), base.rows.begin(), base.rows.end());
    std::vector<float> out(rows.size() / static_cast<size_t>(cells));
    predict(rows.data(), static_cast<std::int64_t>(out.size()), out.data());
    r.evaluations += static_cast<std::int64_t>(out.size());
    const double fx = out[out.size() - 2], f0 = out.back();
    for (int i = steps - 1, k = 0; i >= 1; --i, k += 2) {
      const double v_old = out[static_cast<size_t>(k)], v_recent = out[static_cast<size_t>(k) + 1];
      const double old_value = 0.5 * ((v_old - f0) + (fx - v_recent));
      if (std::fabs(old_value) < o.tolerance) {
        r.pruned = i;
        break;
      }
    }
  }
  const int p = r.pruned;

  auto run = [&](Players players, std::int64_t samples, std::uint64_t salt) {
    KernelShapOptions k;
    k.coalitions = samples;
    k.seed = o.seed * 0x9E3779B97F4A7C15ull + salt;
    k.max_rows = o.max_rows;
    const auto a = kernel_shap(instance, players, base, predict, k);
    r.evaluations += a.evaluations;
    r.prediction = a.prediction;
    r.expected = a.expected;
    return a.values;
  };

  // Event level.
  Players ev;
  ev.owner.assign(static_cast<size_t>(cells), 0);
  for (int t = p; t < steps; ++t) {
    for (int f = 0; f < features; ++f) ev.owner[cell(t, f)] = ev.count();
    ev.names.push_back(event_name(t, steps));
  }
  if (p > 0) {
    for (int t = 0; t < p; ++t)
      for (int f = 0; f < features; ++f) ev.owner[cell(t, f)] = ev.count();
    ev.names.push_back("pruned events");
  }
  const auto event_values = run(ev, o.event_samples, 1);
  r.event.assign(static_cast<size_t>(steps), std::nan(""));
  for (int t = p; t < steps; ++t)
    r.event[static_cast<size_t>(t)] = event_values[static_cast<size_t>(t - p)];
  r.event_pruned = p > 0 ? event_values.back() : 0.0;

  // Feature level.
  Players fe;
  fe.owner.assign(static_cast<size_t>(cells), 0);
  for (int f = 0; f < features; ++f) {
    fe.names.push_back("feature " + std::to_string(f));
    for (int t = p; t < steps; ++t) fe.owner[cell(t, f)] = f;
  }
  if (p > 0) {
    for (int t = 0; t < p; ++t)
      for (int f = 0; f < features; ++f) fe.owner[cell(t, f)] = features;
    fe.names.push_back("pruned events");
  }
  r.feature = run(fe, o.feature_samples, 2);
  r.feature_pruned = p > 0 ? r.feature.back() : 0.0;
  r.feature.resize(static_cast<size_t>(features));

  // Cell level: the top events x top features one by one, the rest grouped.
  std::vector<int> kept(static_cast<size_t>(steps - p)),
      all_features(static_cast<size_t>(features));
  std::iota(kept.begin(), kept.end(), p);
  std::iota(all_features.begin(), all_features.end(), 0);
  const auto events = top_of(r.event, kept, o.top_events);
  const auto feats = top_of(r.feature, all_features, o.top_features);
  Players ce;
  ce.owner.assign(static_cast<size_t>(cells), -1);
  std::vector<std::pair<int, int>> single;  // (t, f) of the cell players
  for (int t : events)
    for (int f : feats) {
      ce.owner[cell(t, f)] = ce.count();
      ce.names.push_back(event_name(t, steps) + " x feature " + std::to_string(f));
      single.emplace_back(t, f);
    }
  auto group = [&](const std::string& name, auto owns) {
    int id = -1;
    for (int t = 0; t < steps; ++t)
      for (int f = 0; f < features; ++f)
        if (ce.owner[cell(t, f)] < 0 && owns(t, f)) {
          if (id < 0) {
            id = ce.count();
            ce.names.push_back(name);
          }
          ce.owner[cell(t, f)] = id;
        }
  };
  for (int t : events)
    group(event_name(t, steps) + " x other features", [&](int tt, int) { return tt == t; });
  for (int f : feats)
    group("other events x feature " + std::to_string(f),
          [&](int tt, int ff) { return ff == f && tt >= p; });
  group("other events x other features", [&](int tt, int) { return tt >= p; });
  const int before_pruned = ce.count();
  group("pruned events", [](int, int) { return true; });
  const auto cell_values = run(ce, o.cell_samples, 3);
  r.cell.assign(static_cast<size_t>(cells), std::nan(""));
  for (size_t i = 0; i < single.size(); ++i)
    r.cell[cell(single[i].first, single[i].second)] = cell_values[i];
  for (int i = static_cast<int>(single.size()); i < before_pruned; ++i)
    r.cell_other += cell_values[static_cast<size_t>(i)];
  for (int i = before_pruned; i < ce.count(); ++i)
    r.cell_pruned += cell_values[static_cast<size_t>(i)];
  return r;
}

}  // namespace fluxrecon::explain
