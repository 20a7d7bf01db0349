#include "recon/reconstruct.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "core/atomic_file.hpp"
#include "core/checksum.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "data/grid.hpp"
#include "data/sampling.hpp"
#include "data/windows.hpp"
#include "data/year_reader.hpp"
#include "io/flux_cache_format.hpp"
#include "io/grid_file.hpp"
#include "models/registry.hpp"
#include "recon/cache_write.hpp"
#include "recon/cell_area.hpp"
#include "recon/pco2_fields.hpp"

namespace fluxrecon::recon {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A model file loaded on every rank, with what the cache needs to know of it.
struct Model {
  std::string name, path, checksum;
  // The name its caches carry: the pCO2 route's are <name>_pco2, beside the
  // direct flux models' caches. `formula_only`: the route's reference, the
  // bulk formula on the simulated pCO2 (no model file).
  std::string cache_name;
  bool formula_only = false;
  std::string route;  // route_settings() for the pCO2 route, else empty
  io::Normalisation norm;
  int window = 0;
  std::unique_ptr<models::LoadedModel> loaded;  // null for the formula-only reference

  // Predictions (z-scored target) of `n` z-scored windows [n][window][features].
  void predict(const float* windows, std::int64_t n, float* out) const {
    loaded->predict(windows, n, out);
  }
};

// The models asked for: every file present for "all", else each named one
// (a missing file is an error).
std::vector<Model> load_models(const ReconstructOptions& opt, const data::DatasetDescription& d,
                               MPI_Comm comm) {
  std::vector<std::string> names;
  all_ranks_agree(comm, [&] { names = models::models_in(opt.models_dir, opt.models); });
  std::vector<Model> out;
  all_ranks_agree(comm, [&] {
    for (const auto& n : names) {
      Model m;
      m.name = n;
      m.path = (fs::path(opt.models_dir) / models::model_file_name(n)).string();
      m.loaded = std::make_unique<models::LoadedModel>(models::LoadedModel::load(n, m.path));
      m.loaded->check_dataset(d);
      m.norm = m.loaded->normalisation();
      m.window = m.loaded->window();
      out.push_back(std::move(m));
    }
  });
  for (auto& m : out) {
    std::string sum;
    all_ranks_agree(comm, [&] {
      if (mpi::rank(comm) == 0) sum = file_checksum(m.path);
    });
    m.checksum = mpi::broadcast(sum, 0, comm);
    m.cache_name = d.pco2.enabled ? m.name + "_pco2" : m.name;
  }
  if (d.pco2.enabled) {
    // The route's ceiling: the formula on the simulated pCO2, scored like a model.
    Model formula;
    formula.name = formula.cache_name = "simulated_pco2";
    formula.formula_only = true;
    formula.path = "(bulk formula on the simulated pCO2)";
    formula.window = d.window;
    out.push_back(std::move(formula));
    const std::string settings = route_settings(d);
    for (auto& m : out) {
      m.route = settings;
      if (m.formula_only) m.checksum = text_checksum(settings);  // its "model file"
    }
  }
  return out;
}

// Checks that the years exist and that January's windows have their
// previous year (unless the caller starts in April).
void check_years(const data::DatasetDescription& d, const ReconstructOptions& opt, MPI_Comm comm) {
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(opt.first_year <= opt.last_year, "--years ", opt.first_year, ":", opt.last_year,
               ": the last year is before the first");
    for (const auto& e : opt.experiments) {
      for (int y = opt.first_year; y <= opt.last_year; ++y) {
        const std::string path = d.file_for(e, y);
        FR_REQUIRE(fs::is_regular_file(path), "year ", y, " of experiment ", e,
                   " is outside the data: no input file '", path, "' (dataset ", d.origin, ")");
        if (d.window > 1 && !opt.start_april) {
          const std::string before = d.file_for(e, y - 1);
          FR_REQUIRE(fs::is_regular_file(before), "year ", y, " of experiment ", e,
                     ": January's window needs the last ", d.window - 1, " months of ", y - 1,
                     ", but '", before, "' is missing; pass --start-april to reconstruct from ",
                     "month ", d.window, " on (earlier months get the fill value)");
        }
        const int january = data::month_index(y, 1);
        data::require_series_months(
            d, {opt.start_april ? january : january - (d.window - 1), data::month_index(y, 12)});
        if (d.pco2.enabled && !d.pco2.pco2_air_series.values.empty())
          for (int m = 1; m <= 12; ++m) d.pco2.pco2_air_series.at(data::month_index(y, m));
      }
    }
  });
}

struct Task {
  std::string experiment;
  int year;
};

CacheSource cache_source(const Model& m) { return {m.cache_name, m.path, m.checksum, m.route}; }

// The work of one group of ranks: its (experiment, year) tasks over the
// group's grid decomposition. Phases: the grid and regions once, then per
// task the caches still needed, the fields, the sampling mask, the chunks
// of points read and predicted, and the caches written.
class GroupReconstruction {
 public:
  GroupReconstruction(const data::DatasetDescription& d, const std::vector<data::Region>& regions,
                      const std::vector<Model>& models, const ReconstructOptions& opt,
                      const std::vector<Task>& mine, Timers& timers, MPI_Comm group)
      : d_(d),
        regions_(regions),
        models_(models),
        opt_(opt),
        mine_(mine),
        timers_(timers),
        group_(group),
        n_models_(models.size()) {}

  void run() {
    open_grid();
    // This rank's windows, for the progress line.
    expected_ = 0;
    for (const auto& p : region_points_) expected_ += static_cast<std::int64_t>(p.size());
    expected_ *= static_cast<std::int64_t>(mine_.size() * n_models_) *
                 (12 - (opt_.start_april ? d_.window - 1 : 0));
    progress_.emplace("reconstruct: windows predicted (rank 0)", expected_, "samples", 10.0);
    reader_.emplace(d_, grid_, group_);
    observation_.emplace(d_, grid_, group_);
    if (d_.pco2.enabled) formula_reader_ = std::make_unique<FormulaReader>(d_, grid_, group_);
    batch_ = std::max<std::int64_t>(1, opt_.batch);
    features_.resize(static_cast<size_t>(batch_) * d_.window * data::feature_names(d_).size());
    target_.resize(static_cast<size_t>(batch_));
    predicted_.resize(static_cast<size_t>(batch_));
    simulated_.resize(regions_.size());
    reconstructed_.resize(regions_.size() * n_models_);
    formula_inputs_.resize(regions_.size());
    int task_index = 0;
    for (const auto& task : mine_) {
      ++task_index;
      if (!find_needed_caches(task)) {
        log::info("reconstruct: ", task.experiment, " ", task.year,
                  ": every cache is complete from an earlier run (--force redoes them)");
        continue;
      }
      reset_fields();
      mark_sampled(task.year);
      predict_task(task);
      write_caches(task, task_index);
    }
    progress_->finish();
    bytes_read = reader_->bytes_read();
    file_read_seconds = reader_->io_seconds();
  }

  // This rank's counts (those of caches are the same on every rank of the group).
  int written = 0, reused = 0;
  std::int64_t samples = 0, points_written = 0;
  std::uint64_t bytes_read = 0;  // by this rank's year reader
  double file_read_seconds = 0;  // of which in the file reads (the rest: transposition)

 private:
  bool needed(size_t r, size_t mi) const { return !paths_[r][mi].empty(); }
  bool region_needed(size_t r) const {
    for (size_t mi = 0; mi < n_models_; ++mi)
      if (needed(r, mi)) return true;
    return false;
  }

  // The grid (rows balanced by the regions' points), cell areas, units, every
  // ocean point of each region (the same in every year) and their union, and
  // the regions' crops.
  void open_grid() {
    {
      auto t = timers_.scope("grid");
      auto file =
          io::GridFile::open(d_.file_for(mine_.front().experiment, mine_.front().year), group_);
      grid_ = data::load_grid(*file, d_, group_, regions_);
      areas_ = cell_areas(*file, d_, grid_, group_);
      // Units: the file's own when the dataset does not convert the target.
      const auto& target = d_.variables[d_.target_role()];
      if (target.scale == 1.0 && target.offset == 0.0)
        units_ = file->text_attribute(target.file_name, "units").value_or("");
      if (units_.empty()) units_ = d_.target_units;
      if (d_.pco2.enabled) units_ = "mol m-2 s-1";  // the bulk formula's (and route.flux's)
    }
    for (const auto& region : regions_) {
      region_points_.push_back(data::select_locations(grid_, region, 1.0, d_.seed, group_));
      all_points_.insert(all_points_.end(), region_points_.back().begin(),
                         region_points_.back().end());
    }
    grid_checksum_ = input_grid_checksum(grid_, group_);
    for (size_t r = 0; r < regions_.size(); ++r)
      crops_.push_back(crop_of(regions_[r], region_points_[r], grid_,
                               d_.file_for(mine_.front().experiment, mine_.front().year), group_));
    std::sort(all_points_.begin(), all_points_.end());
    all_points_.erase(std::unique(all_points_.begin(), all_points_.end()), all_points_.end());
  }

  // Which caches the task still needs (paths_; empty = complete); false when none.
  bool find_needed_caches(const Task& task) {
    paths_.assign(regions_.size(), {});
    bool any = false;
    for (size_t r = 0; r < regions_.size(); ++r)
      for (const auto& m : models_) {
        paths_[r].push_back(
            (fs::path(opt_.out_dir) /
             io::flux_cache::file_name(m.cache_name, regions_[r].name, task.experiment, task.year))
                .string());
        const bool done = !opt_.force && cache_current(paths_[r].back(), cache_source(m),
                                                       opt_.start_april ? d_.window : 1, crops_[r],
                                                       grid_checksum_, group_);
        if (done) {
          paths_[r].back().clear();
          ++reused;
          progress_->advance(expected_ /
                             static_cast<std::int64_t>(mine_.size() * n_models_ * regions_.size()));
        }
        any = any || !paths_[r].back().empty();
      }
    return any;
  }

  void reset_fields() {
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (!region_needed(r)) continue;
      const auto cells = static_cast<size_t>(12 * crops_[r].plane());
      simulated_[r].assign(cells, io::flux_cache::kFill);
      if (d_.pco2.enabled)
        formula_inputs_[r].reset(cells, !d_.pco2.flux.file_name.empty(), io::flux_cache::kFill);
      for (size_t mi = 0; mi < n_models_; ++mi)
        if (needed(r, mi)) reconstructed_[r * n_models_ + mi].assign(cells, io::flux_cache::kFill);
    }
    windows_of_.assign(regions_.size() * n_models_, 0);
    skipped_of_.assign(regions_.size(), 0);
  }

  // Spatial design: the year's observed locations, marked in every month.
  void mark_sampled(int year) {
    sampled_.assign(regions_.size(), {});
    if (d_.design != "spatial") return;
    const auto observed = observation_->months(year);
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (!region_needed(r)) continue;
      const Crop& crop = crops_[r];
      sampled_[r].assign(static_cast<size_t>(12 * crop.plane()), 0);
      for (const auto p : region_points_[r])
        if (observed[p])
          for (int m = 0; m < 12; ++m) sampled_[r][m * crop.plane() + crop.index(p, grid_)] = 1;
    }
  }

  // The points in chunks of consecutive (row-ordered) points: each chunk's
  // series is read, windowed and predicted in a buffer reused from chunk to
  // chunk, so memory does not grow with the grid and no year takes fresh
  // pages for a whole series. Every rank of the group takes part in as
  // many collective reads as the rank with the most chunks.
  void predict_task(const Task& task) {
    // January's windows reach back into the previous year unless starting later.
    const int january = data::month_index(task.year, 1);
    const data::MonthInterval months{opt_.start_april ? january : january - (d_.window - 1),
                                     data::month_index(task.year, 12)};
    const int january_slot = january - months.start;
    // A rank-local failure (e.g. in XGBoost) is agreed on before the
    // collective writes, so that no rank waits there alone; the failed
    // rank still takes part in the chunks' collective reads.
    std::exception_ptr predict_failure;
    const std::int64_t chunk = std::max<std::int64_t>(1, opt_.chunk_points);
    const std::int64_t n_all = static_cast<std::int64_t>(all_points_.size());
    const std::int64_t chunks = mpi::max((n_all + chunk - 1) / chunk, group_);
    std::vector<std::int64_t> chunk_points;
    for (std::int64_t c = 0; c < chunks; ++c) {
      const std::int64_t p0 = std::min(n_all, c * chunk), p1 = std::min(n_all, p0 + chunk);
      chunk_points.assign(all_points_.begin() + p0, all_points_.begin() + p1);
      {
        auto t = timers_.scope("read");
        data::read_series_into(*reader_, task.experiment, months, chunk_points, nullptr, series_);
        if (formula_reader_) formula_reader_->read(task.experiment, task.year, chunk_points);
      }
      for (size_t r = 0; r < regions_.size(); ++r)
        if (region_needed(r))
          predict_region_chunk(task, r, chunk_points, january_slot, predict_failure);
    }
    all_ranks_agree(group_, [&] {
      if (predict_failure) std::rethrow_exception(predict_failure);
    });
  }

  // Region r's points of the chunk just read: their simulated field, the
  // pCO2 route's formula inputs, and every needed model's predictions.
  void predict_region_chunk(const Task& task, size_t r,
                            const std::vector<std::int64_t>& chunk_points, int january_slot,
                            std::exception_ptr& predict_failure) {
    // The region's points in this chunk (both lists ascending).
    const auto& all_of_region = region_points_[r];
    const auto lo =
        chunk_points.empty()
            ? all_of_region.end()
            : std::lower_bound(all_of_region.begin(), all_of_region.end(), chunk_points.front());
    const auto hi = chunk_points.empty()
                        ? all_of_region.end()
                        : std::upper_bound(lo, all_of_region.end(), chunk_points.back());
    const std::vector<std::int64_t> points(lo, hi);
    data::Series subset;  // the region's rows, unless it has every point of the chunk
    const data::Series& sub = points.size() == chunk_points.size() ? series_ : subset;
    data::WindowIndex windows;
    std::vector<double> statics;
    {
      auto t = timers_.scope("windows");
      if (points.size() != chunk_points.size())
        subset = data::subset_series(series_, chunk_points, points);
      windows = data::enumerate_windows(sub, points, grid_, d_, task.experiment);
      statics = data::point_statics(grid_, points);
    }
    all_ranks_agree(group_, [&] {
      if (d_.missing_values == "error" && !windows.first_problem.empty())
        FR_FAIL(windows.first_problem);
    });
    skipped_of_[r] += windows.skipped;
    const Crop& crop = crops_[r];
    const std::int64_t plane = crop.plane();
    std::vector<std::int64_t> at(points.size());  // the points' indices in the crop plane
    for (size_t k = 0; k < points.size(); ++k) at[k] = crop.index(points[k], grid_);
    for (size_t k = 0; k < points.size(); ++k)
      for (int m = 0; m < 12; ++m) {
        const float v =
            sub.values[(k * sub.slots + january_slot + m) * sub.roles + d_.target_role()];
        if (std::isfinite(v)) simulated_[r][m * plane + at[k]] = v;
      }
    if (formula_reader_)
      for (size_t k = 0; k < points.size(); ++k) {
        const auto in_chunk =
            std::lower_bound(chunk_points.begin(), chunk_points.end(), points[k]) -
            chunk_points.begin();
        formula_reader_->file(in_chunk, sub.values.data() + k * sub.slots * sub.roles, sub.roles,
                              january_slot, at[k], plane, formula_inputs_[r]);
      }
    for (size_t mi = 0; mi < n_models_; ++mi) {
      if (!needed(r, mi) || predict_failure) continue;
      const Model& model = models_[mi];
      auto& out = reconstructed_[r * n_models_ + mi];
      windows_of_[r * n_models_ + mi] += windows.size();
      if (model.formula_only) {  // the simulated pCO2 of the same windows
        for (std::int64_t i = 0; i < windows.size(); ++i) {
          const std::int64_t k = windows.point[i];
          const int month = windows.slot[i] - january_slot;
          out[month * plane + at[k]] =
              sub.values[(k * sub.slots + windows.slot[i]) * sub.roles + d_.target_role()];
        }
        progress_->advance(windows.size());
        continue;
      }
      try {
        predict_windows(model, sub, statics, windows, at, plane, january_slot, out);
      } catch (...) {
        predict_failure = std::current_exception();
      }
    }
  }

  // The model's predictions of the windows, in batches, into the field `out`.
  void predict_windows(const Model& model, const data::Series& sub,
                       const std::vector<double>& statics, const data::WindowIndex& windows,
                       const std::vector<std::int64_t>& at, std::int64_t plane, int january_slot,
                       std::vector<float>& out) {
    const kernels::Normalisation kn = data::kernel_normalisation(model.norm);
    for (std::int64_t i = 0; i < windows.size(); i += batch_) {
      const std::int64_t n = std::min(batch_, windows.size() - i);
      {
        auto t = timers_.scope("windows");
        data::assemble_windows(sub, statics, windows, i, n, d_.window, kn, features_.data(),
                               target_.data());
        Kokkos::fence();
      }
      {
        auto t = timers_.scope("predict");
        model.predict(features_.data(), n, predicted_.data());
      }
      for (std::int64_t q = 0; q < n; ++q) {
        const int month = windows.slot[i + q] - january_slot;  // 0..11
        out[month * plane + at[windows.point[i + q]]] =
            static_cast<float>(predicted_[q] * model.norm.target_std + model.norm.target_mean);
      }
      progress_->advance(n);
    }
  }

  // Collective over the group: the task's needed caches.
  void write_caches(const Task& task, int task_index) {
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (!region_needed(r)) continue;
      const std::int64_t skipped = mpi::sum(skipped_of_[r], group_);
      static const std::vector<float> none;
      if (d_.pco2.enabled) {  // the simulated flux: the file's, or the formula's
        check_formula_inputs(d_, formula_inputs_[r], io::flux_cache::kFill, group_);
        if (d_.pco2.flux.file_name.empty())
          flux_from_pco2(d_.pco2, formula_inputs_[r], simulated_[r], io::flux_cache::kFill,
                         simulated_flux_);
        else
          simulated_flux_ = formula_inputs_[r].flux;
      }
      for (size_t mi = 0; mi < n_models_; ++mi) {
        if (!needed(r, mi)) continue;
        const CacheSource source = cache_source(models_[mi]);
        CacheContext context{d_,     grid_,  grid_checksum_,  crops_[r],
                             source, areas_, task.experiment, regions_[r].name,
                             "",     units_, task.year,       opt_.start_april ? d_.window : 1};
        for (const auto& b : regions_[r].boxes)
          context.region_boxes +=
              concat(context.region_boxes.empty() ? "" : "; ", "lat [", b.lat_min, ", ", b.lat_max,
                     "], lon [", b.lon_min, ", ", b.lon_max, "]");
        if (context.region_boxes.empty()) context.region_boxes = "everywhere";
        const std::int64_t mine_windows = windows_of_[r * n_models_ + mi];
        context.samples = mpi::sum(mine_windows, group_);
        context.skipped = skipped;
        {
          auto t = timers_.scope("write");
          const auto& field = reconstructed_[r * n_models_ + mi];
          if (d_.pco2.enabled) {
            flux_from_pco2(d_.pco2, formula_inputs_[r], field, io::flux_cache::kFill,
                           reconstructed_flux_);
            write_cache(paths_[r][mi], context,
                        {simulated_flux_, reconstructed_flux_, sampled_[r], simulated_[r], field},
                        group_);
          } else {
            write_cache(paths_[r][mi], context, {simulated_[r], field, sampled_[r], none, none},
                        group_);
          }
        }
        ++written;
        samples += mine_windows;
        points_written += mpi::sum(static_cast<std::int64_t>(region_points_[r].size()), group_);
        log::debug("reconstruct: ", fs::path(paths_[r][mi]).filename().string(), " (",
                   context.samples, " windows", skipped ? concat(", ", skipped, " skipped") : "",
                   "), year ", task_index, "/", mine_.size(), " of rank 0's group");
      }
    }
  }

  const data::DatasetDescription& d_;
  const std::vector<data::Region>& regions_;
  const std::vector<Model>& models_;
  const ReconstructOptions& opt_;
  const std::vector<Task>& mine_;
  Timers& timers_;
  const MPI_Comm group_;
  const size_t n_models_;

  data::Grid grid_;
  CellAreas areas_;
  std::string units_, grid_checksum_;
  std::vector<std::vector<std::int64_t>> region_points_;
  std::vector<std::int64_t> all_points_;
  std::vector<Crop> crops_;
  std::int64_t expected_ = 0;
  std::optional<Progress> progress_;
  std::optional<data::YearReader> reader_;
  std::optional<data::ObservationMask> observation_;
  std::unique_ptr<FormulaReader> formula_reader_;  // pCO2 route only
  std::int64_t batch_ = 1;
  std::vector<float> features_, target_, predicted_;
  // Reused chunk after chunk and year after year.
  data::Series series_;
  // Per task: the caches' paths per region and model (empty: complete).
  std::vector<std::vector<std::string>> paths_;
  // Fields of the target: the flux, or on the pCO2 route the pCO2 that
  // becomes a flux before the caches are written.
  std::vector<std::vector<float>> simulated_, reconstructed_;
  std::vector<FormulaInputs> formula_inputs_;
  std::vector<float> simulated_flux_, reconstructed_flux_;
  std::vector<std::vector<signed char>> sampled_;
  std::vector<std::int64_t> windows_of_, skipped_of_;
};

}  // namespace

ReconstructSummary reconstruct(const config::Config& cfg, const ReconstructOptions& opt,
                               MPI_Comm comm) {
  const double t_start = wall_seconds();
  ReconstructSummary summary;
  Timers timers;
  for (const char* name : {"grid", "read", "windows", "predict", "write"}) timers.add(name, 0);
  data::DatasetDescription d;
  std::vector<data::Region> regions;
  all_ranks_agree(comm, [&] {
    d = data::load_dataset(cfg, opt.data_dir);
    FR_REQUIRE(!opt.experiments.empty(), "reconstruct: no experiment given");
    for (const auto& e : opt.experiments) d.experiment(e);
    FR_REQUIRE(!opt.regions.empty(), "reconstruct: no region given");
    for (const auto& r : opt.regions) regions.push_back(data::resolve_region(cfg, r));
    FR_REQUIRE(!opt.out_dir.empty(), "reconstruct: no output directory given");
    ensure_directory(opt.out_dir);
  });
  check_years(d, opt, comm);
  const std::vector<Model> models = load_models(opt, d, comm);
  for (const auto& m : models) summary.models.push_back(m.cache_name);

  // Groups of ranks take different (experiment, year) tasks.
  std::vector<Task> tasks;
  for (const auto& e : opt.experiments)
    for (int y = opt.first_year; y <= opt.last_year; ++y) tasks.push_back({e, y});
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  const int wanted = opt.year_groups > 0 ? opt.year_groups : static_cast<int>(tasks.size());
  const int groups = std::max(1, std::min({wanted, ranks, static_cast<int>(tasks.size())}));
  const int color = static_cast<int>(static_cast<std::int64_t>(me) * groups / ranks);
  MPI_Comm group;
  MPI_Comm_split(comm, color, me, &group);
  const int group_rank = mpi::rank(group);
  summary.groups = groups;
  std::vector<Task> mine;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (static_cast<int>(i % groups) == color) mine.push_back(tasks[i]);

  log::info("reconstruct ", d.name, ": ", models.size(), " model(s), ", opt.experiments.size(),
            " experiment(s), ", regions.size(), " region(s), years ", opt.first_year, "-",
            opt.last_year, " on ", ranks, " rank(s) in ", groups, " group(s)",
            opt.start_april
                ? concat("; --start-april: months 1-", d.window - 1, " get the fill value")
                : "");

  GroupReconstruction work(d, regions, models, opt, mine, timers, group);
  std::exception_ptr failure;
  try {
    work.run();
  } catch (...) {
    failure = std::current_exception();
  }
  MPI_Comm_free(&group);
  all_ranks_agree(comm, [&] {
    if (failure) std::rethrow_exception(failure);
  });

  // Counts per group are the same on its ranks: sum one rank per group.
  summary.caches_written = mpi::sum(group_rank == 0 ? work.written : 0, comm);
  summary.caches_reused = mpi::sum(group_rank == 0 ? work.reused : 0, comm);
  summary.points = mpi::sum(group_rank == 0 ? work.points_written : std::int64_t{0}, comm);
  summary.samples = mpi::sum(work.samples, comm);
  summary.predict_seconds = mpi::max(timers.seconds("predict"), comm);
  summary.read_seconds = mpi::max(timers.seconds("read"), comm);
  summary.write_seconds = mpi::max(timers.seconds("write"), comm);
  summary.bytes_read =
      static_cast<double>(mpi::sum(static_cast<std::int64_t>(work.bytes_read), comm));
  log::info("reconstruct: read ", log::bytes(summary.bytes_read), " of input fields over ", ranks,
            " rank(s); file reads ", log::seconds(mpi::max(work.file_read_seconds, comm)),
            " of the read time (max over ranks; the rest is ordering the values by point)");
  summary.seconds = mpi::max(wall_seconds() - t_start, comm);
  timers.report(comm, "reconstruct");
  return summary;
}

std::string reconstruct_summary_line(const ReconstructSummary& s, const std::string& out_dir) {
  std::string names;
  for (const auto& n : s.models) names += (names.empty() ? "" : ",") + n;
  return concat("reconstruct: wrote ", s.caches_written, " cache(s) (", s.caches_reused,
                " already complete) for ", names, " to ", out_dir, " in ", log::seconds(s.seconds),
                ": ", s.samples, " windows, ",
                static_cast<long long>(s.seconds > 0 ? s.samples / s.seconds : 0),
                " samples/s overall, ",
                static_cast<long long>(s.predict_seconds > 0 ? s.samples / s.predict_seconds : 0),
                " samples/s in prediction; read ", log::seconds(s.read_seconds), ", write ",
                log::seconds(s.write_seconds), "; ", s.groups, " rank group(s)");
}

}  // namespace fluxrecon::recon
