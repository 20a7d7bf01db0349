#include "recon/reconstruct.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>

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

  int written = 0, reused = 0;
  std::int64_t samples = 0, points_written = 0;
  std::uint64_t bytes_read = 0;  // by this rank's year reader
  double file_read_seconds = 0;  // of which in the file reads (the rest: transposition)
  std::exception_ptr failure;
  try {
    data::Grid grid;
    CellAreas areas;
    std::string units;
    {
      auto t = timers.scope("grid");
      auto file = io::GridFile::open(d.file_for(mine.front().experiment, mine.front().year), group);
      grid = data::load_grid(*file, d, group, regions);  // rows balanced by the regions' points
      areas = cell_areas(*file, d, grid, group);
      // Units: the file's own when the dataset does not convert the target.
      const auto& target = d.variables[d.target_role()];
      if (target.scale == 1.0 && target.offset == 0.0)
        units = file->text_attribute(target.file_name, "units").value_or("");
      if (units.empty()) units = d.target_units;
      if (d.pco2.enabled) units = "mol m-2 s-1";  // the bulk formula's (and route.flux's)
    }
    // Every ocean point of each region (the same in every year), and their union.
    std::vector<std::vector<std::int64_t>> region_points;
    std::vector<std::int64_t> all_points;
    for (const auto& region : regions) {
      region_points.push_back(data::select_locations(grid, region, 1.0, d.seed, group));
      all_points.insert(all_points.end(), region_points.back().begin(), region_points.back().end());
    }
    const std::string grid_checksum = input_grid_checksum(grid, group);
    std::vector<Crop> crops;
    for (size_t r = 0; r < regions.size(); ++r)
      crops.push_back(crop_of(regions[r], region_points[r], grid,
                              d.file_for(mine.front().experiment, mine.front().year), group));
    std::sort(all_points.begin(), all_points.end());
    all_points.erase(std::unique(all_points.begin(), all_points.end()), all_points.end());
    std::int64_t expected = 0;  // this rank's windows, for the progress line
    for (const auto& p : region_points) expected += static_cast<std::int64_t>(p.size());
    expected *= static_cast<std::int64_t>(mine.size() * models.size()) *
                (12 - (opt.start_april ? d.window - 1 : 0));
    Progress progress("reconstruct: windows predicted (rank 0)", expected, "samples", 10.0);

    data::YearReader reader(d, grid, group);
    data::ObservationMask observation(d, grid, group);
    std::unique_ptr<FormulaReader> formula_reader;  // pCO2 route only
    if (d.pco2.enabled) formula_reader = std::make_unique<FormulaReader>(d, grid, group);
    const std::int64_t batch = std::max<std::int64_t>(1, opt.batch);
    std::vector<float> features(static_cast<size_t>(batch) * d.window *
                                data::feature_names(d).size()),
        target(static_cast<size_t>(batch)), predicted(static_cast<size_t>(batch));
    // Reused chunk after chunk and year after year.
    data::Series series;
    // Fields of the target: the flux, or on the pCO2 route the pCO2 that
    // becomes a flux before the caches are written.
    std::vector<std::vector<float>> simulated(regions.size()),
        reconstructed(regions.size() * models.size());
    std::vector<FormulaInputs> formula_inputs(regions.size());
    std::vector<float> simulated_flux, reconstructed_flux;
    int task_index = 0;
    for (const auto& task : mine) {
      ++task_index;
      // Which caches this task still needs.
      std::vector<std::vector<std::string>> paths(regions.size());
      bool any = false;
      for (size_t r = 0; r < regions.size(); ++r)
        for (const auto& m : models) {
          paths[r].push_back(
              (fs::path(opt.out_dir) /
               io::flux_cache::file_name(m.cache_name, regions[r].name, task.experiment, task.year))
                  .string());
          const bool done = !opt.force && cache_current(paths[r].back(), cache_source(m),
                                                        opt.start_april ? d.window : 1, crops[r],
                                                        grid_checksum, group);
          if (done) {
            paths[r].back().clear();
            ++reused;
            progress.advance(
                expected / static_cast<std::int64_t>(mine.size() * models.size() * regions.size()));
          }
          any = any || !paths[r].back().empty();
        }
      if (!any) {
        log::info("reconstruct: ", task.experiment, " ", task.year,
                  ": every cache is complete from an earlier run (--force redoes them)");
        continue;
      }
      // January's windows reach back into the previous year unless starting later.
      const int january = data::month_index(task.year, 1);
      const data::MonthInterval months{opt.start_april ? january : january - (d.window - 1),
                                       data::month_index(task.year, 12)};
      const int january_slot = january - months.start;
      const auto needed = [&](size_t r, size_t mi) { return !paths[r][mi].empty(); };
      const size_t n_models = models.size();
      const auto region_needed = [&](size_t r) {
        for (size_t mi = 0; mi < n_models; ++mi)
          if (needed(r, mi)) return true;
        return false;
      };
      for (size_t r = 0; r < regions.size(); ++r) {
        if (!region_needed(r)) continue;
        const auto cells = static_cast<size_t>(12 * crops[r].plane());
        simulated[r].assign(cells, io::flux_cache::kFill);
        if (d.pco2.enabled)
          formula_inputs[r].reset(cells, !d.pco2.flux.file_name.empty(), io::flux_cache::kFill);
        for (size_t mi = 0; mi < n_models; ++mi)
          if (needed(r, mi)) reconstructed[r * n_models + mi].assign(cells, io::flux_cache::kFill);
      }
      // Spatial design: the year's observed locations, marked in every month.
      std::vector<std::vector<signed char>> sampled(regions.size());
      if (d.design == "spatial") {
        const auto observed = observation.months(task.year);
        for (size_t r = 0; r < regions.size(); ++r) {
          if (!region_needed(r)) continue;
          const Crop& crop = crops[r];
          sampled[r].assign(static_cast<size_t>(12 * crop.plane()), 0);
          for (const auto p : region_points[r])
            if (observed[p])
              for (int m = 0; m < 12; ++m) sampled[r][m * crop.plane() + crop.index(p, grid)] = 1;
        }
      }
      std::vector<std::int64_t> windows_of(regions.size() * n_models, 0),
          skipped_of(regions.size());
      // A rank-local failure (e.g. in XGBoost) is agreed on before the
      // collective writes, so that no rank waits there alone; the failed
      // rank still takes part in the chunks' collective reads.
      std::exception_ptr predict_failure;

      // The points in chunks of consecutive (row-ordered) points: each chunk's
      // series is read, windowed and predicted in a buffer reused from chunk to
      // chunk, so memory does not grow with the grid and no year takes fresh
      // pages for a whole series. Every rank of the group takes part in as
      // many collective reads as the rank with the most chunks.
      const std::int64_t chunk = std::max<std::int64_t>(1, opt.chunk_points);
      const std::int64_t n_all = static_cast<std::int64_t>(all_points.size());
      const std::int64_t chunks = mpi::max((n_all + chunk - 1) / chunk, group);
      std::vector<std::int64_t> chunk_points;
      for (std::int64_t c = 0; c < chunks; ++c) {
        const std::int64_t p0 = std::min(n_all, c * chunk), p1 = std::min(n_all, p0 + chunk);
        chunk_points.assign(all_points.begin() + p0, all_points.begin() + p1);
        {
          auto t = timers.scope("read");
          data::read_series_into(reader, task.experiment, months, chunk_points, nullptr, series);
          if (formula_reader) formula_reader->read(task.experiment, task.year, chunk_points);
        }
        for (size_t r = 0; r < regions.size(); ++r) {
          if (!region_needed(r)) continue;
          // The region's points in this chunk (both lists ascending).
          const auto& all_of_region = region_points[r];
          const auto lo = chunk_points.empty()
                              ? all_of_region.end()
                              : std::lower_bound(all_of_region.begin(), all_of_region.end(),
                                                 chunk_points.front());
          const auto hi = chunk_points.empty()
                              ? all_of_region.end()
                              : std::upper_bound(lo, all_of_region.end(), chunk_points.back());
          const std::vector<std::int64_t> points(lo, hi);
          data::Series subset;  // the region's rows, unless it has every point of the chunk
          const data::Series& sub = points.size() == chunk_points.size() ? series : subset;
          data::WindowIndex windows;
          std::vector<double> statics;
          {
            auto t = timers.scope("windows");
            if (points.size() != chunk_points.size())
              subset = data::subset_series(series, chunk_points, points);
            windows = data::enumerate_windows(sub, points, grid, d, task.experiment);
            statics = data::point_statics(grid, points);
          }
          all_ranks_agree(group, [&] {
            if (d.missing_values == "error" && !windows.first_problem.empty())
              FR_FAIL(windows.first_problem);
          });
          skipped_of[r] += windows.skipped;
          const Crop& crop = crops[r];
          const std::int64_t plane = crop.plane();
          std::vector<std::int64_t> at(points.size());  // the points' indices in the crop plane
          for (size_t k = 0; k < points.size(); ++k) at[k] = crop.index(points[k], grid);
          for (size_t k = 0; k < points.size(); ++k)
            for (int m = 0; m < 12; ++m) {
              const float v =
                  sub.values[(k * sub.slots + january_slot + m) * sub.roles + d.target_role()];
              if (std::isfinite(v)) simulated[r][m * plane + at[k]] = v;
            }
          if (formula_reader)
            for (size_t k = 0; k < points.size(); ++k) {
              const auto in_chunk =
                  std::lower_bound(chunk_points.begin(), chunk_points.end(), points[k]) -
                  chunk_points.begin();
              formula_reader->file(in_chunk, sub.values.data() + k * sub.slots * sub.roles,
                                   sub.roles, january_slot, at[k], plane, formula_inputs[r]);
            }
          for (size_t mi = 0; mi < n_models; ++mi) {
            if (!needed(r, mi) || predict_failure) continue;
            const Model& model = models[mi];
            const kernels::Normalisation kn = data::kernel_normalisation(model.norm);
            auto& out = reconstructed[r * n_models + mi];
            windows_of[r * n_models + mi] += windows.size();
            if (model.formula_only) {  // the simulated pCO2 of the same windows
              for (std::int64_t i = 0; i < windows.size(); ++i) {
                const std::int64_t k = windows.point[i];
                const int month = windows.slot[i] - january_slot;
                out[month * plane + at[k]] =
                    sub.values[(k * sub.slots + windows.slot[i]) * sub.roles + d.target_role()];
              }
              progress.advance(windows.size());
              continue;
            }
            try {
              for (std::int64_t i = 0; i < windows.size(); i += batch) {
                const std::int64_t n = std::min(batch, windows.size() - i);
                {
                  auto t = timers.scope("windows");
                  data::assemble_windows(sub, statics, windows, i, n, d.window, kn, features.data(),
                                         target.data());
                  Kokkos::fence();
                }
                {
                  auto t = timers.scope("predict");
                  model.predict(features.data(), n, predicted.data());
                }
                for (std::int64_t q = 0; q < n; ++q) {
                  const int month = windows.slot[i + q] - january_slot;  // 0..11
                  out[month * plane + at[windows.point[i + q]]] = static_cast<float>(
                      predicted[q] * model.norm.target_std + model.norm.target_mean);
                }
                progress.advance(n);
              }
            } catch (...) {
              predict_failure = std::current_exception();
            }
          }
        }
      }
      all_ranks_agree(group, [&] {
        if (predict_failure) std::rethrow_exception(predict_failure);
      });

      for (size_t r = 0; r < regions.size(); ++r) {
        if (!region_needed(r)) continue;
        const std::int64_t skipped = mpi::sum(skipped_of[r], group);
        static const std::vector<float> none;
        if (d.pco2.enabled) {  // the simulated flux: the file's, or the formula's
          check_formula_inputs(d, formula_inputs[r], io::flux_cache::kFill, group);
          if (d.pco2.flux.file_name.empty())
            flux_from_pco2(d.pco2, formula_inputs[r], simulated[r], io::flux_cache::kFill,
                           simulated_flux);
          else
            simulated_flux = formula_inputs[r].flux;
        }
        for (size_t mi = 0; mi < n_models; ++mi) {
          if (!needed(r, mi)) continue;
          const CacheSource source = cache_source(models[mi]);
          CacheContext context{d,      grid,  grid_checksum,   crops[r],
                               source, areas, task.experiment, regions[r].name,
                               "",     units, task.year,       opt.start_april ? d.window : 1};
          for (const auto& b : regions[r].boxes)
            context.region_boxes +=
                concat(context.region_boxes.empty() ? "" : "; ", "lat [", b.lat_min, ", ",
                       b.lat_max, "], lon [", b.lon_min, ", ", b.lon_max, "]");
          if (context.region_boxes.empty()) context.region_boxes = "everywhere";
          const std::int64_t mine_windows = windows_of[r * n_models + mi];
          context.samples = mpi::sum(mine_windows, group);
          context.skipped = skipped;
          {
            auto t = timers.scope("write");
            const auto& field = reconstructed[r * n_models + mi];
            if (d.pco2.enabled) {
              flux_from_pco2(d.pco2, formula_inputs[r], field, io::flux_cache::kFill,
                             reconstructed_flux);
              write_cache(paths[r][mi], context,
                          {simulated_flux, reconstructed_flux, sampled[r], simulated[r], field},
                          group);
            } else {
              write_cache(paths[r][mi], context, {simulated[r], field, sampled[r], none, none},
                          group);
            }
          }
          ++written;
          samples += mine_windows;
          points_written += mpi::sum(static_cast<std::int64_t>(region_points[r].size()), group);
          log::debug("reconstruct: ", fs::path(paths[r][mi]).filename().string(), " (",
                     context.samples, " windows", skipped ? concat(", ", skipped, " skipped") : "",
                     "), year ", task_index, "/", mine.size(), " of rank 0's group");
        }
      }
    }
    progress.finish();
    bytes_read = reader.bytes_read();
    file_read_seconds = reader.io_seconds();
  } catch (...) {
    failure = std::current_exception();
  }
  MPI_Comm_free(&group);
  all_ranks_agree(comm, [&] {
    if (failure) std::rethrow_exception(failure);
  });

  // Counts per group are the same on its ranks: sum one rank per group.
  summary.caches_written = mpi::sum(group_rank == 0 ? written : 0, comm);
  summary.caches_reused = mpi::sum(group_rank == 0 ? reused : 0, comm);
  summary.points = mpi::sum(group_rank == 0 ? points_written : std::int64_t{0}, comm);
  summary.samples = mpi::sum(samples, comm);
  summary.predict_seconds = mpi::max(timers.seconds("predict"), comm);
  summary.read_seconds = mpi::max(timers.seconds("read"), comm);
  summary.write_seconds = mpi::max(timers.seconds("write"), comm);
  summary.bytes_read = static_cast<double>(mpi::sum(static_cast<std::int64_t>(bytes_read), comm));
  log::info("reconstruct: read ", log::bytes(summary.bytes_read), " of input fields over ", ranks,
            " rank(s); file reads ", log::seconds(mpi::max(file_read_seconds, comm)),
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
