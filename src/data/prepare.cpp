#include "data/prepare.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "core/uninitialized.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "data/grid.hpp"
#include "data/sampling.hpp"
#include "data/stats.hpp"
#include "data/windows.hpp"
#include "data/year_reader.hpp"
#include "io/sample_store.hpp"
#include "kernels/sample_windows.hpp"

namespace fluxrecon::data {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Per series and point of a set, the observed months of the series' target
// year (spatial design); empty when every row of the series counts.
using ObservedMonths = std::vector<std::vector<std::uint16_t>>;

// Whether row `slot` of point `k` in series `si` is a training row: with
// per-year series (spatial design) only the observed months of the target
// year; otherwise every month of the period.
bool row_used(const ObservedMonths& observed, const Series& s, size_t si, size_t k,
              std::int64_t slot, int window) {
  if (observed.empty()) return true;
  if (slot < window - 1) return false;  // the previous year's context months
  const int month = (s.months.start + static_cast<int>(slot)) % 12;
  return (observed[si][k] >> month) & 1u;
}

// One-pass statistics of the features and the target over every training
// row (point x month) of the series, merged across ranks in (year, row)
// order so that they do not depend on the number of ranks.
io::Normalisation training_statistics(const std::vector<Series>& series, const Grid& grid,
                                      const std::vector<std::int64_t>& points,
                                      const ObservedMonths& observed, int window, MPI_Comm comm) {
  const int roles = series.empty() ? 1 : series.front().roles;
  const int predictors = roles - 1;
  const int globals = series.empty() ? 0 : series.front().global_count();
  const int features = predictors + globals + kPositionFeatures;
  const int columns = features + 1;
  KeyedStats partials;
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    for (size_t k = 0; k < points.size(); ++k) {
      const std::int64_t row = grid.row_begin + points[k] / grid.nx;
      const auto st = position_features(grid.lat[points[k]], grid.lon[points[k]]);
      for (std::int64_t slot = 0; slot < s.slots; ++slot) {
        if (!row_used(observed, s, si, k, slot, window)) continue;
        const int year = (s.months.start + static_cast<int>(slot)) / 12;
        auto& part = partials[static_cast<std::int64_t>(year) * grid.ny + row];
        if (part.empty()) part.resize(columns);
        const float* v = &s.values[(k * s.slots + slot) * roles];
        for (int f = 0; f < predictors; ++f)
          if (std::isfinite(v[f])) part[f].add(v[f]);
        for (int g = 0; g < globals; ++g) part[predictors + g].add(s.globals[slot * globals + g]);
        for (int f = 0; f < kPositionFeatures; ++f) part[predictors + globals + f].add(st[f]);
        if (std::isfinite(v[predictors])) part[features].add(v[predictors]);
      }
    }
  }
  const auto merged = merge_in_key_order(partials, columns, comm);
  io::Normalisation n;
  auto std_of = [](const RunningStats& s) {
    const double sd = std::sqrt(s.variance());
    // A constant column (e.g. an absent predictor) would divide by zero; it
    // carries no information, so it is scaled by 1 and becomes 0 after centring.
    return sd > 0 ? sd : 1.0;
  };
  for (int f = 0; f < features; ++f) {
    n.feature_mean.push_back(merged[f].mean);
    n.feature_std.push_back(std_of(merged[f]));
  }
  n.target_mean = merged[features].mean;
  n.target_std = std_of(merged[features]);
  FR_REQUIRE(merged[features].count > 1, "the training selection has fewer than 2 valid rows");
  return n;
}

struct SetSpec {
  std::string kind, path, experiment, region;
  std::vector<Series> series;
  std::vector<std::int64_t> points;  // local indices into the grid block
  std::vector<int> years;
  json selection;           // what decides the set's content (see set_selection)
  ObservedMonths observed;  // spatial design: the targets kept (see row_used)
};

json region_json(const Region& r) {
  json boxes = json::array();
  for (const auto& b : r.boxes) boxes.push_back({b.lat_min, b.lat_max, b.lon_min, b.lon_max});
  return {{"name", r.name}, {"boxes", boxes}};
}

// Everything of the dataset description that decides which windows a set of
// `kind` holds and how they are scaled (the files' contents aside), so that a
// rerun can tell a set prepared with other settings from a complete one. The
// validation and test sets are z-scored with the training statistics, so
// they carry the training set's selection too; a test set depends on its
// own experiment, region and year only, not on the other test settings.
json set_selection(const DatasetDescription& d, const std::string& kind,
                   const std::string& experiment, const Region& region, double fraction,
                   const std::vector<MonthInterval>& periods, const json& training) {
  const json variables = variables_json(d);
  json months = json::array();
  for (const auto& iv : periods) months.push_back({iv.start, iv.end});
  json features = {{"names", feature_names(d)}, {"time", {d.year_feature, d.month_features}}};
  for (const auto& g : d.series)
    features["series"].push_back(
        {g.name, fs::absolute(g.file).lexically_normal().string(), g.column, g.values});
  json s = {{"set", kind},
            {"directory", fs::absolute(d.directory).lexically_normal().string()},
            {"experiment", experiment},
            {"pattern", d.experiment(experiment).pattern},
            {"grid",
             {d.latitude, d.longitude, d.mask, d.cell_width, d.cell_height, d.time,
              d.drop_duplicate_points}},
            {"variables", variables},
            {"features", features},
            {"design", {d.design, d.sampling_mask, d.mask_pattern, d.mask_variable}},
            {"region", region_json(region)},
            {"fraction", fraction},
            {"months", months},
            {"seed", d.seed},
            {"window", d.window},
            {"missing_values", d.missing_values}};
  if (!training.is_null()) s["training"] = training;
  return s;
}

// Collective: `path` is complete and was prepared with `selection`; a set
// prepared with other settings (or without a record of them) is redone and
// counted in `stale` (the first one is named in the log).
bool set_current(const std::string& path, const json& selection, int& stale, MPI_Comm comm) {
  if (!output_complete(path, comm)) return false;
  int current = 0;
  if (mpi::rank(comm) == 0) {
    try {
      current = io::store_selection(io::read_metadata(path)) == selection.dump();
    } catch (const std::exception&) {
      current = 0;  // unreadable metadata: prepare it again
    }
    if (!current && stale == 0)
      log::info("prepare: ", path,
                " was prepared with other settings (dataset description, periods, region, "
                "sampling) or by an older version: preparing it again");
  }
  MPI_Bcast(&current, 1, MPI_INT, 0, comm);
  if (!current) ++stale;
  return current != 0;
}

// Writes the windows of `spec` (targets from slot window-1 of each series).
PreparedSet write_set(const SetSpec& spec, const Grid& grid, const io::Normalisation& norm,
                      const DatasetDescription& d, const PrepareOptions& opt,
                      const json& metadata_base, MPI_Comm comm) {
  PreparedSet out;
  out.path = spec.path;
  // Windows in (point, time) order; those touching a missing value are
  // dropped, or stop the run, as the dataset says.
  WindowIndex windows = enumerate_windows(spec.series, spec.points, grid, d, spec.experiment);
  if (!spec.observed.empty())
    filter_windows(windows, [&](std::int64_t i) {
      return row_used(spec.observed, spec.series[windows.series[i]], windows.series[i],
                      windows.point[i], windows.slot[i], d.window);
    });
  const std::string& first_problem = windows.first_problem;
  out.skipped_windows = windows.skipped;
  all_ranks_agree(comm, [&] {
    if (d.missing_values == "error" && !first_problem.empty()) FR_FAIL(first_problem);
  });
  out.skipped_windows = mpi::sum(out.skipped_windows, comm);
  const std::int64_t local = windows.size();
  const std::int64_t total = mpi::sum(local, comm);
  const std::int64_t offset = mpi::exclusive_prefix_sum(local, comm);
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(total > 0, "the ", spec.kind, " set (", spec.region, ", ", spec.experiment,
               ") is empty: no ocean point and complete window in the selection; check the region, "
               "the sampling fraction and the periods in ",
               d.origin);
  });
  out.samples = total;

  json meta = metadata_base;
  meta["set"] = spec.kind;
  meta["experiment"] = spec.experiment;
  meta["region"] = spec.region;
  meta["years"] = spec.years;
  meta["selection"] = spec.selection;
  meta["samples"] = total;
  meta["skipped_windows"] = out.skipped_windows;
  const std::vector<std::string> names = feature_names(d);
  const int width = static_cast<int>(names.size());

  AtomicOutput output(spec.path, comm);
  io::SampleStoreWriter writer(output.temp_path(), total, d.window, names, norm, meta.dump(), comm);
  const kernels::Normalisation kn = kernel_normalisation(norm);
  const std::vector<double> statics = point_statics(grid, spec.points);
  const std::int64_t chunk = std::max<std::int64_t>(1, opt.chunk_samples);
  const std::int64_t rounds = mpi::max((local + chunk - 1) / chunk, comm);
  io::SampleBlock block;
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::int64_t b0 = std::min(local, round * chunk), b1 = std::min(local, b0 + chunk);
    const std::int64_t n = b1 - b0;
    block.features.resize(static_cast<size_t>(n) * d.window * width);
    block.target.resize(n);
    block.lat.resize(n);
    block.lon.resize(n);
    block.year.resize(n);
    block.month.resize(n);
    block.location.resize(n);
    // Samples of one series at a time (the kernel indexes one series).
    std::int64_t i = b0;
    while (i < b1) {
      std::int64_t j = i;
      while (j < b1 && windows.series[j] == windows.series[i]) ++j;
      const auto& s = spec.series[windows.series[i]];
      assemble_windows(s, statics, windows, i, j - i, d.window, kn,
                       block.features.data() + (i - b0) * d.window * width,
                       block.target.data() + (i - b0));
      for (std::int64_t q = i; q < j; ++q) {
        const std::int64_t p = spec.points[windows.point[q]];
        const int month = s.months.start + windows.slot[q];
        block.lat[q - b0] = static_cast<float>(grid.lat[p]);
        block.lon[q - b0] = static_cast<float>(grid.lon[p]);
        block.year[q - b0] = month / 12;
        block.month[q - b0] = month % 12 + 1;
        block.location[q - b0] = grid.global_index(p);
      }
      i = j;
    }
    Kokkos::fence();
    const double t_store = wall_seconds();
    writer.write(offset + b0, block);
    out.store_seconds += wall_seconds() - t_store;
  }
  const double t_close = wall_seconds();
  writer.close();
  output.commit();
  out.store_seconds += wall_seconds() - t_close;
  return out;
}

std::string set_path(const PrepareOptions& opt, const std::string& name) {
  return (fs::path(opt.out_dir) / name).string();
}

// One call of prepare, in its phases: the dataset and its years, the input
// files checked, the grid and sampling mask, then the training set (and its
// statistics), the validation set, the test sets year by year, and the
// summary files.
class Preparation {
 public:
  Preparation(const config::Config& cfg, const PrepareOptions& opt, MPI_Comm comm)
      : cfg_(cfg), opt_(opt), comm_(comm), start_(wall_seconds()) {}

  PrepareSummary run() {
    all_ranks_agree(comm_, [&] {
      d_ = load_dataset(cfg_, opt_.data_dir);
      ensure_directory(opt_.out_dir);
    });
    spatial_ = d_.design == "spatial";
    choose_years();
    check_input_files();
    open_grid();
    train_selection_ = set_selection(d_, "train", d_.training_experiment, d_.train_region,
                                     d_.train_fraction, d_.train, json());
    progress_.emplace("prepare: years read", years_to_read(), "years", 5.0);
    prepare_train();
    if (opt_.validation) prepare_validation();
    if (opt_.test) {
      // Points of every test region, drawn once and shared by all years.
      std::vector<std::vector<std::int64_t>> drawn_points;
      for (const auto& region : d_.test_regions)
        drawn_points.push_back(select_locations(grid_, region, d_.test_fraction, d_.seed, comm_));
      for (int year : d_.test_years) prepare_test_year(year, drawn_points);
    }
    progress_->finish();
    finish_summary();
    return summary_;
  }

 private:
  // Spatial design: the training years are those of the training period that
  // are not validation years; each year is one series whose targets are the
  // cell-months observed in that year.
  void choose_years() {
    validation_years_ = period_years(d_.validation);
    for (int y : period_years(d_.train))
      if (!std::binary_search(validation_years_.begin(), validation_years_.end(), y))
        train_years_.push_back(y);
    all_ranks_agree(comm_, [&] {
      FR_REQUIRE(!spatial_ || !train_years_.empty(), d_.origin,
                 ": keys 'time.train' and 'time.validation': every training year is a validation "
                 "year, so no year is left to train on");
    });
  }

  // Every input file is checked before any work starts.
  void check_input_files() {
    std::vector<std::pair<std::string, int>> needed;
    auto need_year = [&](const std::string& experiment, int year) {
      needed.emplace_back(experiment, year);
      if (d_.window > 1) needed.emplace_back(experiment, year - 1);  // January's window
    };
    if (spatial_) {
      for (int y : opt_.train ? train_years_ : std::vector<int>{})
        need_year(d_.training_experiment, y);
      for (int y : opt_.validation ? validation_years_ : std::vector<int>{})
        need_year(d_.training_experiment, y);
    } else {
      for (const auto* period : {&d_.train, &d_.validation}) {
        if ((period == &d_.train && !opt_.train) || (period == &d_.validation && !opt_.validation))
          continue;
        for (const auto& iv : *period)
          for (int y = iv.first_year(); y <= iv.last_year(); ++y)
            needed.emplace_back(d_.training_experiment, y);
      }
    }
    for (const auto& e : d_.test_experiments)
      for (int y : opt_.test ? d_.test_years : std::vector<int>{}) need_year(e, y);
    require_files(d_, needed, comm_);
  }

  // The grid, the observation mask (spatial design), the reader and the
  // metadata every store carries.
  void open_grid() {
    {
      auto t = timers_.scope("grid");
      auto first = io::GridFile::open(
          d_.file_for(d_.training_experiment, d_.train.front().first_year()), comm_);
      grid_ = load_grid(*first, d_, comm_);
    }
    log::info("prepare ", d_.name, ": grid ", grid_.nx, " x ", grid_.ny, ", ", grid_.ocean_total,
              " ocean points (", grid_.duplicates_dropped,
              " duplicated halo/fold points dropped), ", mpi::size(comm_), " rank(s), ", d_.design,
              " design", spatial_ ? concat(" (mask: ", d_.sampling_mask, ")") : std::string());
    mask_.emplace(d_, grid_, comm_);
    if (spatial_ && d_.sampling_mask == "file") {
      std::vector<std::pair<std::string, int>> masks;
      for (int y : period_years(d_.train)) masks.emplace_back("mask", y);
      for (int y : validation_years_) masks.emplace_back("mask", y);
      require_files(mask_->mask_files(), masks, comm_);
    }
    reader_.emplace(d_, grid_, comm_);
    base_["dataset"] = d_.name;
    base_["source"] = d_.source;
    base_["dataset_config"] = d_.origin;
    base_["seed"] = d_.seed;
    base_["window"] = d_.window;
    base_["design"] = d_.design;
    base_["grid"] = {{"nx", grid_.nx}, {"ny", grid_.ny}};
    base_["target"] = {{"variable", d_.variables.back().file_name},
                       {"units", d_.target_units},
                       {"sign", d_.target_sign}};
    base_["software"] = std::string("fluxrecon ") + FLUXRECON_VERSION;
  }

  std::int64_t years_to_read() const {
    std::int64_t count = 0;
    if (spatial_) {
      count = static_cast<std::int64_t>(train_years_.size() + validation_years_.size());
    } else {
      for (const auto& iv : d_.train) count += iv.last_year() - iv.first_year() + 1;
      for (const auto& iv : d_.validation) count += iv.last_year() - iv.first_year() + 1;
    }
    return count + static_cast<std::int64_t>(d_.test_experiments.size() * d_.test_years.size());
  }

  // The training set and its statistics, or the statistics of a complete one.
  void prepare_train() {
    const std::string train_path = set_path(opt_, "train.h5");
    const bool train_done = !opt_.force && set_current(train_path, train_selection_, stale_, comm_);
    if (!spatial_) {
      train_points_ = select_locations(grid_, d_.train_region, d_.train_fraction, d_.seed, comm_);
      train_locations_ = mpi::sum(static_cast<std::int64_t>(train_points_.size()), comm_);
    }
    if (train_done) {
      norm_ = io::read_normalisation(train_path);
      summary_.sets.push_back({train_path, 0, 0, true});
      log::info("train set complete from an earlier run, reusing its statistics: ", train_path);
    }
    if (opt_.train && !train_done) {
      const SetSpec spec =
          spatial_ ? read_observed_set("train", train_path, train_years_, train_selection_)
                   : read_period_set("train", train_path, d_.train, train_selection_);
      {
        auto t = timers_.scope("statistics");
        all_ranks_agree(comm_, [&] {
          norm_ =
              training_statistics(spec.series, grid_, spec.points, spec.observed, d_.window, comm_);
        });
      }
      auto t = timers_.scope("write");
      summary_.sets.push_back(write_set(spec, grid_, norm_, d_, opt_, base_, comm_));
    }
    all_ranks_agree(comm_, [&] {
      FR_REQUIRE(opt_.train || train_done, "no training statistics: prepare the train set first (",
                 train_path, ")");
      FR_REQUIRE(norm_.feature_mean.size() == feature_names(d_).size(), train_path, " has ",
                 norm_.feature_mean.size(), " features but the dataset ", d_.origin, " gives ",
                 feature_names(d_).size(), "; prepare it again (--force)");
    });
  }

  void prepare_validation() {
    const std::string validation_path = set_path(opt_, "validation.h5");
    const json selection = set_selection(d_, "validation", d_.training_experiment, d_.train_region,
                                         d_.train_fraction, d_.validation, train_selection_);
    if (!opt_.force && set_current(validation_path, selection, stale_, comm_)) {
      summary_.sets.push_back({validation_path, 0, 0, true});
      return;
    }
    const SetSpec spec =
        spatial_ ? read_observed_set("validation", validation_path, validation_years_, selection)
                 : read_period_set("validation", validation_path, d_.validation, selection);
    auto t = timers_.scope("write");
    summary_.sets.push_back(write_set(spec, grid_, norm_, d_, opt_, base_, comm_));
  }

  // The test sets of one year: every experiment and region, read once per
  // experiment for the union of the regions' points.
  void prepare_test_year(int year, const std::vector<std::vector<std::int64_t>>& drawn_points) {
    // Spatial design: a test set holds the locations not observed in its
    // year, so that no test sample is also a training or validation sample.
    std::vector<std::vector<std::int64_t>> region_points = drawn_points;
    if (spatial_ && mask_->used_year(year)) {
      const auto observed = mask_->months(year);
      for (auto& points : region_points)
        points.erase(std::remove_if(points.begin(), points.end(),
                                    [&](std::int64_t p) { return observed[p] != 0; }),
                     points.end());
    }
    std::vector<std::int64_t> all_points;
    for (const auto& points : region_points)
      all_points.insert(all_points.end(), points.begin(), points.end());
    std::sort(all_points.begin(), all_points.end());
    all_points.erase(std::unique(all_points.begin(), all_points.end()), all_points.end());
    // January's window reaches back into the previous year.
    const MonthInterval months{month_index(year, 1) - (d_.window - 1), month_index(year, 12)};
    for (const auto& experiment : d_.test_experiments) {
      std::vector<std::string> paths;
      std::vector<json> selections;
      std::vector<int> done;
      for (const auto& region : d_.test_regions) {
        paths.push_back(
            set_path(opt_, concat("test_", experiment, "_", region.name, "_", year, ".h5")));
        selections.push_back(set_selection(d_, "test", experiment, region, d_.test_fraction,
                                           {months}, train_selection_));
        done.push_back(!opt_.force && set_current(paths.back(), selections.back(), stale_, comm_));
      }
      const bool all_done = std::all_of(done.begin(), done.end(), [](int x) { return x; });
      if (all_done) {
        for (const auto& p : paths) summary_.sets.push_back({p, 0, 0, true});
        progress_->advance();
        continue;
      }
      Series series;
      {
        auto t = timers_.scope("read");
        series = read_series(*reader_, experiment, months, all_points, nullptr);
      }
      progress_->advance();
      for (size_t r = 0; r < d_.test_regions.size(); ++r) {
        if (done[r]) {
          summary_.sets.push_back({paths[r], 0, 0, true});
          continue;
        }
        SetSpec spec{"test", paths[r],         experiment, d_.test_regions[r].name,
                     {},     region_points[r], {year},     selections[r],
                     {}};
        spec.series.push_back(subset_series(series, all_points, spec.points));
        auto t = timers_.scope("write");
        summary_.sets.push_back(write_set(spec, grid_, norm_, d_, opt_, base_, comm_));
      }
    }
  }

  void require_locations(const char* kind, std::int64_t locations) {
    all_ranks_agree(comm_, [&] {
      FR_REQUIRE(
          locations > 0, d_.origin, ": the ", kind,
          " selection is empty: no ocean point of region '", d_.train_region.name,
          "' is observed with sampling.fraction ", d_.train_fraction,
          spatial_ && d_.sampling_mask == "file" ? concat(" and the mask ", d_.mask_pattern) : "",
          // A mask file decides the observed cells: the fraction is not the cause.
          spatial_ && d_.sampling_mask == "file"
              ? concat("; the mask (variable '", d_.mask_variable,
                       "') observes no ocean cell of the region: check sampling.mask_file and "
                       "sampling.mask_variable, or choose another region")
              : std::string("; raise the fraction or choose another region"));
    });
  }

  // Temporal design: the same drawn locations over the periods.
  SetSpec read_period_set(const char* kind, const std::string& path,
                          const std::vector<MonthInterval>& period, const json& selection) {
    require_locations(kind, train_locations_);
    SetSpec spec{kind, path,          d_.training_experiment, d_.train_region.name,
                 {},   train_points_, period_years(period),   selection,
                 {}};
    auto t = timers_.scope("read");
    for (const auto& iv : period)
      spec.series.push_back(read_series(*reader_, spec.experiment, iv, spec.points, &*progress_));
    return spec;
  }

  // Spatial design: one series per year (with January's context months) of
  // the points observed in any of the years; the targets are the observed
  // cell-months of each year.
  SetSpec read_observed_set(const char* kind, const std::string& path,
                            const std::vector<int>& years, const json& selection) {
    SetSpec spec{kind,      path, d_.training_experiment, d_.train_region.name, {}, {}, years,
                 selection, {}};
    std::vector<std::vector<std::uint16_t>> bits;
    std::vector<std::uint8_t> any(static_cast<size_t>(grid_.local_points()), 0);
    for (int y : years) {
      bits.push_back(mask_->months(y));
      for (std::int64_t i = 0; i < grid_.local_points(); ++i) any[i] |= bits.back()[i] != 0;
    }
    for (std::int64_t i = 0; i < grid_.local_points(); ++i)
      if (any[i]) spec.points.push_back(i);
    const auto locations = mpi::sum(static_cast<std::int64_t>(spec.points.size()), comm_);
    require_locations(kind, locations);
    if (std::string(kind) == "train") train_locations_ = locations;
    for (const auto& b : bits) {
      spec.observed.emplace_back();
      for (const auto p : spec.points) spec.observed.back().push_back(b[p]);
    }
    auto t = timers_.scope("read");
    for (int y : years)
      spec.series.push_back(read_series(*reader_, spec.experiment,
                                        {month_index(y, 1) - (d_.window - 1), month_index(y, 12)},
                                        spec.points, &*progress_));
    return spec;
  }

  // Totals over the ranks, then the summary and the resolved configuration,
  // written last.
  void finish_summary() {
    summary_.bytes_read = mpi::sum(static_cast<std::uint64_t>(reader_->bytes_read()), comm_);
    summary_.read_seconds = mpi::max(timers_.seconds("read"), comm_);
    summary_.io_seconds = mpi::max(reader_->io_seconds(), comm_);
    double store_seconds = 0;
    for (const auto& set : summary_.sets) store_seconds += set.store_seconds;
    summary_.store_seconds = mpi::max(store_seconds, comm_);
    for (const auto& s : summary_.sets) summary_.samples += s.samples;
    summary_.seconds = mpi::max(wall_seconds() - start_, comm_);
    if (stale_ > 1)
      log::info("prepare: ", stale_, " complete set(s) had other settings and were prepared again");
    timers_.report(comm_, "prepare");
    summary_.summary_path = set_path(opt_, "prepare_summary.json");
    all_ranks_agree(comm_, [&] {
      if (mpi::rank(comm_) != 0) return;
      write_text_atomically(summary_.summary_path, summary_json().dump(2) + "\n");
      write_text_atomically(set_path(opt_, "prepare_config.yaml"), cfg_.to_yaml());
    });
  }

  json summary_json() const {
    json js;
    js["dataset"] = d_.name;
    js["config"] = d_.origin;
    js["ranks"] = mpi::size(comm_);
    js["grid"] = {{"nx", grid_.nx},
                  {"ny", grid_.ny},
                  {"ocean_points", grid_.ocean_total},
                  {"duplicates_dropped", grid_.duplicates_dropped}};
    js["training_locations"] = train_locations_;
    js["statistics"] = {{"features", feature_names(d_)},
                        {"feature_mean", norm_.feature_mean},
                        {"feature_std", norm_.feature_std},
                        {"target_mean", norm_.target_mean},
                        {"target_std", norm_.target_std}};
    js["sampling"] = {{"design", d_.design},
                      {"mask", d_.design == "spatial" ? d_.sampling_mask : "fixed"},
                      {"fraction", d_.train_fraction},
                      {"test_fraction", d_.test_fraction},
                      {"seed", d_.seed},
                      {"window", d_.window},
                      {"missing_values", d_.missing_values}};
    for (const auto& s : summary_.sets)
      js["sets"].push_back({{"path", s.path},
                            {"samples", s.samples},
                            {"skipped_windows", s.skipped_windows},
                            {"reused", s.reused}});
    js["timings_s"] = {{"total", summary_.seconds},
                       {"read", summary_.read_seconds},
                       {"file_reads", summary_.io_seconds},
                       {"store_writes", summary_.store_seconds}};
    js["bytes_read"] = summary_.bytes_read;
    return js;
  }

  const config::Config& cfg_;
  const PrepareOptions& opt_;
  const MPI_Comm comm_;
  const double start_;
  Timers timers_;
  PrepareSummary summary_;
  DatasetDescription d_;
  bool spatial_ = false;
  std::vector<int> validation_years_, train_years_;
  Grid grid_;
  std::optional<ObservationMask> mask_;
  std::optional<YearReader> reader_;
  std::optional<Progress> progress_;
  json base_, train_selection_;
  io::Normalisation norm_;
  int stale_ = 0;                           // complete sets prepared with other settings, redone
  std::vector<std::int64_t> train_points_;  // temporal design
  std::int64_t train_locations_ = 0;
};

}  // namespace

PrepareSummary prepare(const config::Config& cfg, const PrepareOptions& opt, MPI_Comm comm) {
  return Preparation(cfg, opt, comm).run();
}

std::string prepare_summary_line(const PrepareSummary& s, const std::string& out_dir) {
  int written = 0, reused = 0;
  for (const auto& set : s.sets) (set.reused ? reused : written)++;
  const double mb = static_cast<double>(s.bytes_read) / 1e6;
  return concat("prepare: wrote ", written, " set(s) (", reused, " already complete) with ",
                s.samples, " samples to ", out_dir, " in ", log::seconds(s.seconds), " (",
                static_cast<long long>(s.seconds > 0 ? s.samples / s.seconds : 0),
                " samples/s; read ", static_cast<long long>(mb), " MB at ",
                static_cast<long long>(s.read_seconds > 0 ? mb / s.read_seconds : 0), " MB/s)");
}

}  // namespace fluxrecon::data
