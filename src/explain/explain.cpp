#include "explain/explain.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "explain/methods.hpp"
#include "explain/outputs.hpp"
#include "explain/timeshap.hpp"
#include "io/sample_store.hpp"
#include "models/nn_inference.hpp"
#include "models/registry.hpp"
#include "models/xgboost_model.hpp"

namespace fluxrecon::explain {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A store read in shards (each rank its contiguous part of the samples) with
// the lat, lon, year and month of every sample gathered on every rank (16
// bytes a sample), so that every rank draws the same samples and only their
// windows are exchanged: no rank holds a whole training set.
struct Store {
  io::SampleShard shard;
  io::SampleBlock index;  // lat, lon, year, month of every sample; no features
  int window = 0, features = 0;
  std::string path, region;
  int cells() const { return window * features; }
};

// Collective.
Store read_store(const std::string& path, MPI_Comm comm) {
  Store s;
  s.path = path;
  s.shard = io::read_sample_shard(path, comm);
  s.window = s.shard.window;
  s.features = static_cast<int>(s.shard.feature_names.size());
  s.index.lat = mpi::allgatherv(s.shard.block.lat, comm);
  s.index.lon = mpi::allgatherv(s.shard.block.lon, comm);
  s.index.year = mpi::allgatherv(s.shard.block.year, comm);
  s.index.month = mpi::allgatherv(s.shard.block.month, comm);
  s.index.target.resize(s.index.month.size());  // size() counts the samples
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(s.index.size() > 0 && s.window > 0 && s.features > 0, "sample store '", path,
               "' holds no samples");
  });
  try {
    const json meta = json::parse(s.shard.metadata);
    s.region = meta.value("region", std::string());
  } catch (const json::exception&) {
    s.region.clear();  // an older store: the CSV leaves the region empty
  }
  return s;
}

// Collective: the windows of the samples `rows` (ascending global indices,
// the same on every rank), [rows][window][features] on every rank.
std::vector<float> fetch(const Store& s, const std::vector<std::int64_t>& rows, MPI_Comm comm) {
  const auto cells = static_cast<size_t>(s.cells());
  const std::int64_t lo = s.shard.offset, hi = lo + s.shard.block.size();
  std::vector<float> mine;
  for (const auto r : rows)
    if (r >= lo && r < hi)
      mine.insert(
          mine.end(),
          s.shard.block.features.begin() + static_cast<std::ptrdiff_t>((r - lo) * cells),
          s.shard.block.features.begin() + static_cast<std::ptrdiff_t>((r - lo + 1) * cells));
  // Shards are contiguous in rank order, so the concatenation is in row order.
  return mpi::allgatherv(mine, comm);
}

// Indices of `b` (ascending) in `months` (empty = all), `count` of them drawn
// with `seed` (0 = all).
std::vector<std::int64_t> draw(const io::SampleBlock& b, const std::vector<int>& months,
                               std::int64_t count, std::uint64_t seed,
                               const std::function<bool(std::int64_t)>& keep = nullptr) {
  std::vector<std::int64_t> eligible;
  for (std::int64_t i = 0; i < b.size(); ++i) {
    const int m = b.month[static_cast<size_t>(i)];
    if (!months.empty() && std::find(months.begin(), months.end(), m) == months.end()) continue;
    if (keep && !keep(i)) continue;
    eligible.push_back(i);
  }
  if (count > 0 && count < static_cast<std::int64_t>(eligible.size())) {
    std::mt19937_64 rng(seed);
    std::shuffle(eligible.begin(), eligible.end(), rng);
    eligible.resize(static_cast<size_t>(count));
    std::sort(eligible.begin(), eligible.end());
  }
  return eligible;
}

// Collective: the background windows of each month: up to `o.background`
// training samples of that month in the instances' lat/lon box (of that
// month anywhere when none is inside).
std::map<int, std::vector<float>> backgrounds(const Store& train, const Store& instances,
                                              const std::vector<int>& months,
                                              const ExplainOptions& o, MPI_Comm comm) {
  const auto& ib = instances.index;
  const float lat0 = *std::min_element(ib.lat.begin(), ib.lat.end()),
              lat1 = *std::max_element(ib.lat.begin(), ib.lat.end()),
              lon0 = *std::min_element(ib.lon.begin(), ib.lon.end()),
              lon1 = *std::max_element(ib.lon.begin(), ib.lon.end());
  const auto& tb = train.index;
  auto inside = [&](std::int64_t i) {
    const float lat = tb.lat[static_cast<size_t>(i)], lon = tb.lon[static_cast<size_t>(i)];
    return lat >= lat0 && lat <= lat1 && lon >= lon0 && lon <= lon1;
  };
  std::map<int, std::vector<std::int64_t>> rows;
  std::vector<std::int64_t> all;
  all_ranks_agree(comm, [&] {
    for (const int month : months) {
      const std::uint64_t seed = o.seed * 1000003ull + static_cast<std::uint64_t>(month);
      auto r = draw(tb, {month}, o.background, seed, inside);
      if (r.empty()) r = draw(tb, {month}, o.background, seed);
      FR_REQUIRE(!r.empty(), "explain: the training set '", train.path, "' has no sample of month ",
                 month, " for the background");
      all.insert(all.end(), r.begin(), r.end());
      rows[month] = std::move(r);
    }
  });
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  const auto windows = fetch(train, all, comm);
  const auto cells = static_cast<size_t>(train.cells());
  std::map<int, std::vector<float>> out;
  for (const auto& [month, r] : rows) {
    auto& w = out[month];
    for (const auto i : r) {
      const auto at =
          static_cast<size_t>(std::lower_bound(all.begin(), all.end(), i) - all.begin());
      w.insert(w.end(), windows.begin() + static_cast<std::ptrdiff_t>(at * cells),
               windows.begin() + static_cast<std::ptrdiff_t>((at + 1) * cells));
    }
  }
  return out;
}

std::uint64_t instance_seed(std::uint64_t seed, std::int64_t store_index) {
  std::uint64_t h = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(store_index);
  h ^= h >> 31;
  return h * 0xBF58476D1CE4E5B9ull;
}

// The explanations of one model on this rank's block [lo, hi) of instances.
class ModelExplainer {
 public:
  // `windows`: those of the instances `picked` of `instances`, in order;
  // `backgrounds`: the background windows of each of their months.
  ModelExplainer(const models::LoadedModel& model, const ExplainOptions& o, const Store& instances,
                 const std::vector<std::int64_t>& picked, const std::vector<float>& windows,
                 const std::map<int, std::vector<float>>& backgrounds)
      : m_(model),
        o_(o),
        inst_(instances),
        picked_(picked),
        windows_(windows),
        backgrounds_(backgrounds) {
    std::vector<std::string> lags;
    for (int t = 0; t < m_.window(); ++t) lags.push_back(lag_label(m_.window() - 1 - t));
    lags_ = lags;
    for (int t = 0; t < m_.window(); ++t)
      for (const auto& f : m_.features())
        cells_.push_back(f + " (" + lags_[static_cast<size_t>(t)] + ")");
  }

  std::vector<Table> run(std::int64_t lo, std::int64_t hi, std::int64_t& evaluations) {
    const auto& info = m_.info();
    if (m_.xgboost() != nullptr) {  // xgboost and random_forest
      evaluations += hi - lo;  // exact: one pass of the trees per instance, no perturbed inputs
      return tree(lo, hi);
    }
    if (!info.sequence) return kernel(lo, hi, evaluations);
    auto tables = timeshap(lo, hi, evaluations);
    if (info.kind == models::ModelKind::attention_lstm) tables.push_back(attention(lo, hi));
    return tables;
  }

 private:
  int cells() const { return m_.window() * m_.n_features(); }
  BatchPredict predictor() const {
    return [this](const float* in, std::int64_t n, float* out) { m_.predict(in, n, out); };
  }

  const std::vector<float>& background(int month) const {
    const auto it = backgrounds_.find(month);
    FR_REQUIRE(it != backgrounds_.end(), "internal: explain has no background of month ", month);
    return it->second;
  }

  int month_of(std::int64_t k) const {
    return inst_.index.month[static_cast<size_t>(picked_[static_cast<size_t>(k)])];
  }
  const float* window_of(std::int64_t k) const { return windows_.data() + k * cells(); }

  // The windows of instances [lo, hi), contiguous.
  std::vector<float> block_windows(std::int64_t lo, std::int64_t hi) const {
    return std::vector<float>(windows_.begin() + lo * cells(), windows_.begin() + hi * cells());
  }

  std::vector<Table> kernel(std::int64_t lo, std::int64_t hi, std::int64_t& evaluations) {
    const auto layout = flat_layout(m_.window(), m_.features(), m_.n_dynamic());
    Table values{"kernel_shap", with_head(layout.players.names), {}};
    Table variables{"kernel_shap_by_variable", with_head(m_.features()), {}};
    Table lags{"kernel_shap_by_lag", with_head(lags_), {}};
    std::map<int, Background> summaries;
    for (std::int64_t k = lo; k < hi; ++k) {
      const int month = month_of(k);
      if (!summaries.count(month))
        summaries[month] = kmeans_background(uniform_background(background(month), cells()),
                                             cells(), o_.kmeans, o_.seed + month);
      KernelShapOptions ko;
      ko.coalitions = o_.coalitions;
      ko.seed = instance_seed(o_.seed, picked_[static_cast<size_t>(k)]);
      const auto a = kernel_shap(window_of(k), layout.players, summaries[month], predictor(), ko);
      evaluations += a.evaluations;
      append(values, a.prediction, a.expected, a.values);
      append(variables, a.prediction, a.expected, by_variable(layout, a.values, m_.n_features()));
      std::vector<double> l = by_lag(layout, a.values, m_.window());
      std::reverse(l.begin(), l.end());  // oldest lag first, as the columns
      append(lags, a.prediction, a.expected, l);
    }
    return {values, variables, lags};
  }

  std::vector<Table> tree(std::int64_t lo, std::int64_t hi) {
    const auto layout = flat_layout(m_.window(), m_.features(), m_.n_dynamic());
    Table values{"tree_shap", with_head(layout.players.names), {}};
    Table variables{"tree_shap_by_variable", with_head(m_.features()), {}};
    Table lags{"tree_shap_by_lag", with_head(lags_), {}};
    Table pairs{"tree_shap_interactions", {}, {}};
    if (o_.interactions) {
      auto names = layout.players.names;
      names.push_back("bias");
      for (const auto& a : names)
        for (const auto& b : names) pairs.columns.push_back(a + " x " + b);
    }
    const std::int64_t n = hi - lo;
    const auto windows = block_windows(lo, hi);
    const auto r = tree_shap(*m_.xgboost(), windows.data(), n, o_.interactions);
    const size_t width = layout.players.names.size();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::vector<double> v(r.values.begin() + static_cast<std::ptrdiff_t>(i * width),
                                  r.values.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
      const double y = r.prediction[static_cast<size_t>(i)], e = r.bias[static_cast<size_t>(i)];
      append(values, y, e, v);
      append(variables, y, e, by_variable(layout, v, m_.n_features()));
      std::vector<double> l = by_lag(layout, v, m_.window());
      std::reverse(l.begin(), l.end());
      append(lags, y, e, l);
      if (o_.interactions) {
        const size_t w2 = (width + 1) * (width + 1);
        pairs.values.insert(pairs.values.end(),
                            r.interactions.begin() + static_cast<std::ptrdiff_t>(i * w2),
                            r.interactions.begin() + static_cast<std::ptrdiff_t>((i + 1) * w2));
      }
    }
    std::vector<Table> out{values, variables, lags};
    if (o_.interactions) out.push_back(pairs);
    return out;
  }

  std::vector<Table> timeshap(std::int64_t lo, std::int64_t hi, std::int64_t& evaluations) {
    auto lag_cols = lags_;
    lag_cols.push_back("pruned");
    auto feature_cols = m_.features();
    feature_cols.push_back("pruned");
    auto cell_cols = cells_;
    cell_cols.push_back("other");
    cell_cols.push_back("pruned");
    Table events{"timeshap_event", with_head(lag_cols), {}};
    Table features{"timeshap_feature", with_head(feature_cols), {}};
    Table cells{"timeshap_cell", with_head(cell_cols), {}};
    std::map<int, std::vector<float>> baselines;
    for (std::int64_t k = lo; k < hi; ++k) {
      const int month = month_of(k);
      if (!baselines.count(month))
        baselines[month] = median_event(background(month), m_.window(), m_.n_features());
      TimeShapOptions to;
      to.tolerance = o_.tolerance;
      to.event_samples = to.feature_samples = to.cell_samples = o_.timeshap_samples;
      to.top_events = o_.top_events;
      to.top_features = o_.top_features;
      to.seed = instance_seed(o_.seed, picked_[static_cast<size_t>(k)]);
      const auto r =
          time_shap(window_of(k), baselines[month], m_.window(), m_.n_features(), predictor(), to);
      evaluations += r.evaluations;
      auto e = r.event;
      e.push_back(r.event_pruned);
      append(events, r.prediction, r.expected, e);
      auto f = r.feature;
      f.push_back(r.feature_pruned);
      append(features, r.prediction, r.expected, f);
      auto c = r.cell;
      c.push_back(r.cell_other);
      c.push_back(r.cell_pruned);
      append(cells, r.prediction, r.expected, c);
    }
    return {events, features, cells};
  }

  Table attention(std::int64_t lo, std::int64_t hi) {
    Table t{"attention", with_head(cells_), {}};
    const std::int64_t n = hi - lo;
    if (n <= 0) return t;
    const auto windows = block_windows(lo, hi);
    const auto s = attention_scores(*m_.neural(), windows.data(), n);
    for (std::int64_t i = 0; i < n; ++i)
      append(
          t, s.prediction[static_cast<size_t>(i)], std::nan(""),
          std::vector<double>(s.gamma.begin() + i * cells(), s.gamma.begin() + (i + 1) * cells()));
    return t;
  }

  static std::vector<std::string> with_head(const std::vector<std::string>& columns) {
    std::vector<std::string> c{"prediction", "expected"};
    c.insert(c.end(), columns.begin(), columns.end());
    return c;
  }
  static void append(Table& t, double prediction, double expected, const std::vector<double>& v) {
    t.values.push_back(prediction);
    t.values.push_back(expected);
    t.values.insert(t.values.end(), v.begin(), v.end());
  }

  const models::LoadedModel& m_;
  const ExplainOptions& o_;
  const Store& inst_;
  const std::vector<std::int64_t>& picked_;
  const std::vector<float>& windows_;
  const std::map<int, std::vector<float>>& backgrounds_;
  std::vector<std::string> lags_, cells_;
};

json options_json(const ExplainOptions& o, const std::string& model) {
  return {{"model", model},
          {"samples", fs::absolute(o.samples_dir).string()},
          {"set", o.set},
          {"months", o.months},
          {"instances", o.instances},
          {"background", o.background},
          {"kmeans", o.kmeans},
          {"coalitions", o.coalitions},
          {"timeshap_samples", o.timeshap_samples},
          {"tolerance", o.tolerance},
          {"top_events", o.top_events},
          {"top_features", o.top_features},
          {"interactions", o.interactions},
          {"seed", o.seed}};
}

}  // namespace

std::string rate_text(double count, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", seconds > 0 ? count / seconds : 0.0);
  return buf;
}

ExplainSummary explain(const ExplainOptions& o, MPI_Comm comm) {
  const double start = wall_seconds();
  ExplainSummary summary;
  const std::string set_path = (fs::path(o.samples_dir) / (o.set + ".h5")).string();
  const std::string train_path = (fs::path(o.samples_dir) / "train.h5").string();
  std::vector<std::string> names;
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(o.instances >= 0 && o.background >= 1 && o.kmeans >= 0 && o.coalitions >= 0 &&
                   o.timeshap_samples >= 0 && o.tolerance >= 0 && o.top_events >= 0 &&
                   o.top_features >= 0,
               "explain: --instances, --kmeans, --coalitions, --timeshap-samples, --tolerance, "
               "--top-events and --top-features must be >= 0 and --background >= 1");
    for (int m : o.months)
      FR_REQUIRE(m >= 1 && m <= 12, "explain: --months ", m, " is not a month (1-12)");
    FR_REQUIRE(fs::is_regular_file(set_path), "explain: no sample store '", set_path, "' (--set ",
               o.set, "; prepare writes validation and test_<experiment>_<region>_", "<year>)");
    FR_REQUIRE(fs::is_regular_file(train_path), "explain: no training set '", train_path,
               "' for the background");
    names = models::models_in(o.models_dir, o.models);
    ensure_directory(o.out_dir);
  });
  const Store instances = read_store(set_path, comm), train = read_store(train_path, comm);
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(train.window == instances.window && train.features == instances.features,
               "explain: '", set_path, "' holds windows of ", instances.window, " x ",
               instances.features, " but '", train_path, "' of ", train.window, " x ",
               train.features);
  });
  const auto picked = draw(instances.index, o.months, o.instances, o.seed);
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(!picked.empty(), "explain: '", set_path, "' has no sample in the months asked for");
  });
  // The instances' windows and their months' backgrounds, on every rank.
  const auto windows = fetch(instances, picked, comm);
  std::vector<int> months;
  for (const auto i : picked) months.push_back(instances.index.month[static_cast<size_t>(i)]);
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  const auto background = backgrounds(train, instances, months, o, comm);
  const auto n = static_cast<std::int64_t>(picked.size());
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  const std::int64_t lo = n * me / ranks, hi = n * (me + 1) / ranks;
  log::info("explain: ", names.size(), " model(s), ", n, " instance(s) of ", set_path, " on ",
            ranks, " rank(s), backgrounds of up to ", o.background, " training samples per month",
            o.kmeans ? concat(" (k-means summary of ", o.kmeans, ")") : "");

  for (const auto& name : names) {
    const std::string model_path =
        (fs::path(o.models_dir) / models::model_file_name(name)).string();
    const std::string nc_path = (fs::path(o.out_dir) / ("explain_" + name + ".nc")).string();
    const std::string opt_path = (fs::path(o.out_dir) / ("explain_" + name + ".json")).string();
    const std::string opt_text = options_json(o, name).dump(2) + "\n";
    int done = 0;
    if (me == 0 && !o.force && output_complete(nc_path) && output_complete(opt_path)) {
      std::ifstream in(opt_path);
      std::stringstream text;
      text << in.rdbuf();
      done = text.str() == opt_text;
    }
    MPI_Bcast(&done, 1, MPI_INT, 0, comm);
    if (done) {
      log::info("explain ", name, ": ", nc_path,
                " is complete for these options (--force redoes it)");
      ++summary.reused;
      continue;
    }
    std::unique_ptr<models::LoadedModel> model;
    all_ranks_agree(comm, [&] {
      model = std::make_unique<models::LoadedModel>(models::LoadedModel::load(name, model_path));
      FR_REQUIRE(model->window() == instances.window && model->n_features() == instances.features,
                 "explain: model file '", model_path, "' reads windows of ", model->window(), " x ",
                 model->n_features(), " but '", set_path, "' holds ", instances.window, " x ",
                 instances.features, "; explain it on the samples it was trained on");
    });
    std::vector<Table> tables;
    std::int64_t evaluations = 0;
    std::exception_ptr failure;
    const double t0 = wall_seconds();
    try {
      ModelExplainer explainer(*model, o, instances, picked, windows, background);
      tables = explainer.run(lo, hi, evaluations);
    } catch (...) {
      failure = std::current_exception();
    }
    all_ranks_agree(comm, [&] {
      if (failure) std::rethrow_exception(failure);
    });
    const double seconds = mpi::max(wall_seconds() - t0, comm);
    for (auto& t : tables) t.values = mpi::allgatherv(t.values, comm);
    evaluations = mpi::sum(evaluations, comm);
    OutputContext context{name,     set_path,        instances.region,   &instances.index, &picked,
                          &windows, model->window(), model->n_dynamic(), model->features()};
    std::vector<std::string> written;
    all_ranks_agree(comm, [&] {
      if (me != 0) return;
      written = write_outputs(o.out_dir, context, tables);
      write_text_atomically(opt_path, opt_text);
    });
    summary.models.push_back(name);
    summary.files.insert(summary.files.end(), written.begin(), written.end());
    summary.instances += n;
    summary.evaluations += evaluations;
    summary.explain_seconds += seconds;
    log::info("explain ", name, ": ", n, " instance(s) in ", log::seconds(seconds), " (",
              rate_text(static_cast<double>(n), seconds), " instances/s, ", n ? evaluations / n : 0,
              " model evaluations per instance) -> ", nc_path);
  }
  summary.seconds = mpi::max(wall_seconds() - start, comm);
  return summary;
}

}  // namespace fluxrecon::explain
