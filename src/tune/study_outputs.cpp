// The files a finished study leaves in its folder: best_params.yaml,
// trials.csv, optimisation_history.png, param_importance.png.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "models/registry.hpp"
#include "plot/plots.hpp"
#include "tune/study.hpp"

namespace fluxrecon::tune {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const double kNaN = std::nan("");

std::string external_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return log::number(v.get<double>());
  return v.dump();
}

void emit(YAML::Emitter& out, const json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : j) emit(out, v);
    out << YAML::EndSeq;
  } else if (j.is_boolean()) {
    out << j.get<bool>();
  } else if (j.is_number_integer()) {
    out << j.get<long long>();
  } else if (j.is_number()) {
    out << log::number(j.get<double>());
  } else {
    out << j.get<std::string>();
  }
}

// Ranks (1..n, ties averaged) of `v`.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[order[k]] = 0.5 * double(i + j) + 1.0;
    i = j + 1;
  }
  return r;
}

std::string best_params_text(const SearchSpace& space, const Trial& best, int max_epochs) {
  const json overrides = space.model_overrides(best.params);
  YAML::Emitter out;
  emit(out, overrides);
  std::ostringstream text;
  text << "# Best parameters of the " << space.study().model << " study of " << space.origin()
       << ":\n# trial " << best.number << ", validation MSE (z-scored) " << log::number(best.value)
       << "; the space's fixed keys and the trial's parameters.\n";
  if (max_epochs > 0)
    text << "# The trials ran at most " << max_epochs
         << " epochs/rounds (--epochs); this file keeps the configured count.\n";
  text << "# Keys left out keep the seed's values (fluxrecon train --params).\n"
       << out.c_str() << "\n";
  // Checked as `train --params` will read it, before it is written.
  config::Config::from_text(text.str(), models::model_schema(space.study().model),
                            "best_params.yaml");
  return text.str();
}

std::string trials_csv(const SearchSpace& space, const std::vector<Trial>& trials) {
  std::ostringstream csv;
  csv << "number,state,value,last_step";
  for (const auto& p : space.params()) csv << "," << p.name;
  csv << "\n";
  for (const auto& t : trials) {
    csv << t.number << "," << state_name(t.state) << "," << log::number(t.value) << ",";
    if (const auto step = t.last_step()) csv << *step;
    for (const auto& p : space.params()) {
      csv << ",";
      const auto it = t.params.find(p.name);
      if (it != t.params.end()) csv << external_text(p.to_external(it->second));
    }
    csv << "\n";
  }
  return csv.str();
}

// Points joined by nothing: a NaN between two points breaks plot_lines' line,
// so each point is drawn alone, as a marker.
void add_point(plot::Series& s, double x, double y) {
  if (!s.x.empty()) {
    s.x.push_back(x - 0.5);
    s.y.push_back(kNaN);
  }
  s.x.push_back(x);
  s.y.push_back(y);
}

void plot_history(const std::string& path, const SearchSpace& space,
                  const std::vector<Trial>& trials) {
  plot::Series complete{"complete trial", {}, {}, {}, true};
  plot::Series pruned{"pruned trial (last value)", {}, {}, {}, true};
  plot::Series best{"best so far", {}, {}, {}, false};
  double best_value = kNaN;
  bool positive = true;
  for (const auto& t : trials) {
    const double x = t.number;
    if (t.state == TrialState::complete && std::isfinite(t.value)) {
      add_point(complete, x, t.value);
      if (std::isnan(best_value) || t.value < best_value) best_value = t.value;
      positive = positive && t.value > 0;
    } else if (t.state == TrialState::pruned && std::isfinite(t.value)) {
      add_point(pruned, x, t.value);
      positive = positive && t.value > 0;
    }
    // A step line: flat until a trial improves on it.
    if (!best.y.empty() && best.y.back() != best_value) {
      best.x.push_back(x);
      best.y.push_back(best.y.back());
    }
    if (!std::isnan(best_value)) {
      best.x.push_back(x);
      best.y.push_back(best_value);
    }
  }
  plot::LinePlot plot;
  plot.title = concat(space.study().model, " study: validation MSE per trial");
  plot.xlabel = "trial";
  plot.ylabel = "validation MSE (z-scored)";
  plot.integer_x = true;
  plot.log_y = positive;
  plot.series.push_back(complete);
  if (!pruned.x.empty()) plot.series.push_back(pruned);
  plot.series.push_back(best);
  plot::plot_lines(path, plot);
}

}  // namespace

std::vector<double> param_importance(const SearchSpace& space, const std::vector<Trial>& trials) {
  std::vector<double> out;
  for (const auto& p : space.params()) {
    std::vector<double> x, y;
    for (const auto& t : trials) {
      const auto it = t.params.find(p.name);
      if (t.state != TrialState::complete || !std::isfinite(t.value) || it == t.params.end())
        continue;
      x.push_back(p.is_numeric() ? p.to_transformed(it->second) : it->second);
      y.push_back(t.value);
    }
    const size_t n = x.size();
    if (n < 3) {
      out.push_back(kNaN);
      continue;
    }
    // Bin index per trial: the choice, or the equal-count bin of its rank.
    std::vector<int> bin(n);
    int n_bins = 0;
    if (!p.is_numeric()) {
      for (size_t i = 0; i < n; ++i) bin[i] = static_cast<int>(x[i]);
      n_bins = static_cast<int>(p.choices.size());
    } else {
      n_bins = std::max(1, std::min(5, static_cast<int>(std::sqrt(double(n)))));
      const auto rx = ranks(x);
      for (size_t i = 0; i < n; ++i)
        bin[i] = std::min(n_bins - 1, static_cast<int>((rx[i] - 1.0) * n_bins / double(n)));
    }
    // Ranks of the values: one diverged trial does not decide the importance.
    const auto ry = ranks(y);
    const double mean = std::accumulate(ry.begin(), ry.end(), 0.0) / double(n);
    std::vector<double> sum(n_bins, 0.0), cnt(n_bins, 0.0);
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      sum[bin[i]] += ry[i];
      cnt[bin[i]] += 1;
      total += (ry[i] - mean) * (ry[i] - mean);
    }
    double between = 0;
    int used = 0;
    for (int b = 0; b < n_bins; ++b) {
      if (cnt[b] == 0) continue;
      ++used;
      const double m = sum[b] / cnt[b];
      between += cnt[b] * (m - mean) * (m - mean);
    }
    if (used < 2 || total <= 0 || static_cast<int>(n) <= used) {
      out.push_back(used < 2 ? kNaN : 0.0);
      continue;
    }
    const double within_ms = (total - between) / double(static_cast<int>(n) - used);
    out.push_back(std::max(0.0, (between - (used - 1) * within_ms) / total));
  }
  return out;
}

std::vector<std::string> write_study_outputs(const SearchSpace& space,
                                             const std::vector<Trial>& trials,
                                             const std::string& out_dir, int max_epochs) {
  std::vector<std::string> written;
  const auto path = [&](const char* name) { return (fs::path(out_dir) / name).string(); };
  write_text_atomically(path("trials.csv"), trials_csv(space, trials));
  written.push_back(path("trials.csv"));
  const Trial* best = best_trial(trials, Direction::minimize);
  if (!best) return written;  // nothing complete: no parameters, nothing to plot
  write_text_atomically(path("best_params.yaml"), best_params_text(space, *best, max_epochs));
  written.push_back(path("best_params.yaml"));
  plot_history(path("optimisation_history.png"), space, trials);
  written.push_back(path("optimisation_history.png"));
  const auto importance = param_importance(space, trials);
  if (std::any_of(importance.begin(), importance.end(),
                  [](double v) { return std::isfinite(v); })) {
    plot::BarChart chart;
    chart.title = concat(space.study().model, " study: parameter importance");
    chart.ylabel = "share of value-rank variance explained";
    std::vector<double> values;
    for (size_t i = 0; i < importance.size(); ++i) {
      chart.groups.push_back(space.params()[i].name);
      values.push_back(importance[i]);
    }
    chart.series.push_back({"importance", values});
    plot::plot_bars(path("param_importance.png"), chart);
    written.push_back(path("param_importance.png"));
  }
  return written;
}

}  // namespace fluxrecon::tune
