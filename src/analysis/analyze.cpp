// `fluxrecon analyze`: reads the caches by row blocks, reduces the moments
// of every (model, region, experiment, year), gathers the map fields and the
// scatter sample on rank 0, and hands them to write_analysis().
#include "analysis/analyze.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "analysis/analyze_results.hpp"
#include "analysis/climatology.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "data/grid.hpp"

namespace fluxrecon::analysis {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Points aimed at in each density scatter (a sample of every cell, all years).
constexpr long long kScatterPoints = 300000;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void check_options(const AnalyzeOptions& o) {
  FR_REQUIRE(!o.caches_dir.empty(), "analyze: --caches is required");
  FR_REQUIRE(!o.out_dir.empty(), "analyze: --out is required");
  FR_REQUIRE((o.first_year == 0) == (o.last_year == 0) && o.first_year <= o.last_year,
             "analyze: years ", o.first_year, ":", o.last_year, " are not a range A:B with A <= B");
  FR_REQUIRE(!o.map_months.empty(), "analyze: no map months given (expected months 1-12)");
  for (int m : o.map_months)
    FR_REQUIRE(m >= 1 && m <= kMonths, "analyze: map month ", m, " is not a month 1-12");
  for (const auto& p : o.provenance)
    FR_REQUIRE(p.find('=') != std::string::npos && p.find('=') > 0, "analyze: provenance entry '",
               p, "' is not KIND=PATH");
  if (!o.tune_dir.empty()) tune_studies(o.tune_dir);  // throws when it holds no study
  if (!o.models_dir.empty())
    FR_REQUIRE(fs::is_directory(o.models_dir), "analyze: --models '", o.models_dir,
               "' is not a directory");
  if (!o.samples_dir.empty()) {
    FR_REQUIRE(fs::is_directory(o.samples_dir), "analyze: --samples '", o.samples_dir,
               "' is not a directory (expected the output folder of fluxrecon prepare)");
    const std::string train = training_store_path(o.samples_dir);
    FR_REQUIRE(fs::is_regular_file(train), "analyze: --samples '", o.samples_dir,
               "' holds no training samples '", train,
               "' (expected the output folder of fluxrecon prepare): the climatology baseline "
               "needs them");
  }
}

// Keeps the sets the options ask for; a requested name without caches is an
// error that lists what the folder holds.
std::vector<CacheSet> select_sets(std::vector<CacheSet> sets, const AnalyzeOptions& o) {
  auto pick = [&](const std::vector<std::string>& wanted, const char* what,
                  std::string CacheSet::*field) {
    if (wanted.empty()) return;
    std::set<std::string> present;
    for (const auto& s : sets) present.insert(s.*field);
    for (const auto& w : wanted)
      FR_REQUIRE(present.count(w), "analyze: no caches of ", what, " '", w, "' in '", o.caches_dir,
                 "' (it holds ", what, "s: ", joined({present.begin(), present.end()}), ")");
    sets.erase(std::remove_if(sets.begin(), sets.end(),
                              [&](const CacheSet& s) {
                                return std::find(wanted.begin(), wanted.end(), s.*field) ==
                                       wanted.end();
                              }),
               sets.end());
  };
  pick(o.models, "model", &CacheSet::model);
  pick(o.regions, "region", &CacheSet::region);
  pick(o.experiments, "experiment", &CacheSet::experiment);
  if (!o.samples_dir.empty())
    for (const auto& s : sets)
      FR_REQUIRE(s.model != kBaselineName, "analyze: '", o.caches_dir, "' holds caches of a model ",
                 "named '", kBaselineName, "' (e.g. '", s.years.begin()->second.path,
                 "'), the name of the baseline of --samples");
  for (auto& s : sets) {
    if (o.first_year != 0) {
      require_years(s, o.first_year, o.last_year, o.caches_dir);
      for (auto it = s.years.begin(); it != s.years.end();)
        it = (it->first < o.first_year || it->first > o.last_year) ? s.years.erase(it)
                                                                   : std::next(it);
    } else {
      // Without a range the years found must still be contiguous.
      require_years(s, s.years.begin()->first, s.years.rbegin()->first, o.caches_dir);
    }
  }
  return sets;
}

void require_same_units(const std::vector<CacheSet>& sets) {
  const CacheInfo* first = nullptr;
  for (const auto& s : sets)
    for (const auto& [year, info] : s.years) {
      if (!first) first = &info;
      FR_REQUIRE(info.units == first->units, "analyze: caches '", first->path, "' and '", info.path,
                 "' store the flux in different units ('", first->units, "' and '", info.units,
                 "'); analyse caches of one reconstruction setup together");
    }
}

// Identifies the inputs and settings of an analysis: a rerun with the same
// fingerprint finds its outputs complete.
std::string fingerprint(const std::vector<CacheSet>& sets, const AnalyzeOptions& o) {
  json j;
  for (const auto& s : sets)
    for (const auto& [year, info] : s.years) {
      struct stat st {};
      ::stat(info.path.c_str(), &st);
      j["caches"].push_back(
          {info.path, static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtime)});
    }
  j["months"] = o.map_months;
  j["years"] = {o.first_year, o.last_year};
  j["models_dir"] = o.models_dir;
  j["provenance"] = o.provenance;
  if (o.self_contained_report) j["self_contained_report"] = true;  // older markers match
  // The explanations' figures: a newer explain run redoes the report.
  if (!o.explain_dir.empty()) {
    const fs::path figures = fs::path(o.explain_dir) / "figures";
    std::vector<std::string> pngs;
    if (fs::is_directory(figures))
      for (const auto& e : fs::directory_iterator(figures))
        if (e.path().extension() == ".png") pngs.push_back(e.path().string());
    std::sort(pngs.begin(), pngs.end());
    for (const auto& p : pngs) {
      struct stat st {};
      ::stat(p.c_str(), &st);
      j["explain"].push_back(
          {p, static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtime)});
    }
  }
  // The studies' trials by content, not time: a rerun of a finished study
  // rewrites the same files, a continued one redoes the report.
  if (!o.tune_dir.empty())
    for (const auto& study : tune_studies(o.tune_dir)) {
      std::ifstream in(fs::path(study) / "trials.csv");
      std::stringstream text;
      text << in.rdbuf();
      j["tune"].push_back({study, std::to_string(std::hash<std::string>{}(text.str()))});
    }
  if (!o.samples_dir.empty()) {
    const std::string train = training_store_path(o.samples_dir);
    struct stat st {};
    ::stat(train.c_str(), &st);
    j["samples"] = {train, static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtime)};
  }
  return j.dump();
}

// Row block of this rank: contiguous rows, the first ny % size ranks one more.
std::pair<int, int> my_rows(int ny, MPI_Comm comm) {
  const int rank = mpi::rank(comm), size = mpi::size(comm);
  const int begin = static_cast<int>(static_cast<long long>(ny) * rank / size);
  const int end = static_cast<int>(static_cast<long long>(ny) * (rank + 1) / size);
  return {begin, end - begin};
}

// `root` receives the rows of every rank in rank order = row order.
std::vector<float> gather_rows(const float* mine, int count, int root, MPI_Comm comm) {
  const int size = mpi::size(comm);
  std::vector<int> counts(size), displs(size, 0);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm);
  std::vector<float> all;
  if (mpi::rank(comm) == root) {
    for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
    all.resize(static_cast<std::size_t>(displs[size - 1] + counts[size - 1]));
  }
  MPI_Gatherv(mine, count, MPI_FLOAT, all.data(), counts.data(), displs.data(), MPI_FLOAT, root,
              comm);
  return all;
}

double shown(float mol_m2_s) {
  return std::isfinite(mol_m2_s) ? mol_m2_s * kSecondsPerYear : std::nan("");
}

// A cell-month is in the scatter sample when its hash falls on the stride:
// the same cells whatever the row split.
bool sampled(int year, int month, std::int64_t cell, long long stride) {
  std::uint64_t h = (static_cast<std::uint64_t>(year) * 12 + month) * 0x9E3779B97F4A7C15ull ^
                    static_cast<std::uint64_t>(cell) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  return h % static_cast<std::uint64_t>(stride) == 0;
}

void add_scatter_sample(const CacheBlock& b, SetResult& r, int owner, MPI_Comm comm) {
  const int nx = b.info.nx;
  // Cells are numbered in the input grid, so that a cell's hash does not
  // depend on the rank's rows nor on where a regional cache's box starts.
  const std::int64_t input_nx = b.info.input_nx;
  for (int m = 0; m < kMonths; ++m) {
    std::vector<float> pairs;
    for (int j = 0; j < b.rows; ++j)
      for (int i = 0; i < nx; ++i) {
        const std::size_t k = (static_cast<std::size_t>(m) * b.rows + j) * nx + i;
        const float s = b.simulated[k], x = b.reconstructed[k];
        const std::int64_t cell =
            static_cast<std::int64_t>(b.info.y_offset + b.row_begin + j) * input_nx +
            b.info.x_offset + i;
        if (std::isfinite(s) && std::isfinite(x) &&
            sampled(b.info.year, m, cell, r.scatter_stride)) {
          pairs.push_back(s);
          pairs.push_back(x);
        }
      }
    const auto all = gather_rows(pairs.data(), static_cast<int>(pairs.size()), owner, comm);
    for (std::size_t p = 0; p + 1 < all.size(); p += 2) {
      r.scatter_simulated.push_back(shown(all[p]));
      r.scatter_reconstructed.push_back(shown(all[p + 1]));
    }
  }
}

void add_maps(const CacheBlock& b, const std::vector<int>& months, SetResult& r, int owner,
              MPI_Comm comm) {
  const std::size_t plane = static_cast<std::size_t>(b.rows) * b.info.nx;
  for (int month : months) {
    const std::size_t offset = static_cast<std::size_t>(month - 1) * plane;
    for (int which = 0; which < 2; ++which) {
      const auto& field = which == 0 ? b.simulated : b.reconstructed;
      const auto all = gather_rows(field.data() + offset, static_cast<int>(plane), owner, comm);
      std::vector<double> values(all.size());
      std::transform(all.begin(), all.end(), values.begin(), shown);
      if (mpi::rank(comm) == owner)
        (which == 0 ? r.map_simulated : r.map_reconstructed).push_back(std::move(values));
    }
  }
}

// Each rank checksums a share of the caches; everyone gets every entry.
std::vector<ProvenanceEntry> describe_caches(const std::vector<SetResult>& sets, MPI_Comm comm) {
  std::vector<const CacheInfo*> caches;
  for (const auto& s : sets)
    if (!s.baseline)
      for (const auto& [year, info] : s.set.years) caches.push_back(&info);
  json mine = json::array();
  const int rank = mpi::rank(comm), size = mpi::size(comm);
  for (std::size_t c = static_cast<std::size_t>(rank); c < caches.size(); c += size) {
    const CacheInfo& i = *caches[c];
    const auto e =
        describe_input("cache", i.path,
                       "model " + i.model + ", region " + i.region + ", experiment " +
                           i.experiment + ", year " + std::to_string(i.year) + "; model file " +
                           i.model_file + " (" + i.model_file_checksum + "); " + i.software);
    mine.push_back({c, e.kind, e.path, e.detail, e.size, e.modified, e.checksum});
  }
  const std::string text = mine.dump() + "\n";
  const auto all = mpi::allgatherv(std::vector<char>(text.begin(), text.end()), comm);
  std::vector<ProvenanceEntry> out(caches.size());
  std::istringstream in(std::string(all.begin(), all.end()));
  for (std::string line; std::getline(in, line);)
    for (const auto& e : json::parse(line))
      out[e[0].get<std::size_t>()] = {e[1], e[2], e[3], e[4], e[5], e[6]};
  return out;
}

std::vector<ProvenanceEntry> describe_other_inputs(const std::vector<SetResult>& sets,
                                                   const AnalyzeOptions& o) {
  std::vector<ProvenanceEntry> out;
  std::map<std::string, std::string> model_files;  // path -> checksum recorded in the caches
  for (const auto& s : sets)
    for (const auto& [year, info] : s.set.years)
      if (!info.model_file.empty()) model_files[info.model_file] = info.model_file_checksum;
  for (const auto& [path, checksum] : model_files)
    out.push_back(
        describe_input("model file", path, "checksum recorded in the caches: " + checksum));
  std::set<std::string> datasets;  // the dataset descriptions the caches were made from
  for (const auto& s : sets)
    for (const auto& [year, info] : s.set.years)
      if (!info.dataset_config.empty()) datasets.insert(info.dataset_config);
  for (const auto& path : datasets)
    out.push_back(describe_input("dataset config", path, "recorded in the caches"));
  for (const auto& p : o.provenance) {
    const auto eq = p.find('=');
    out.push_back(describe_input(p.substr(0, eq), p.substr(eq + 1)));
  }
  if (!o.samples_dir.empty())
    out.push_back(describe_input("training samples", training_store_path(o.samples_dir),
                                 "the climatology baseline (--samples)"));
  if (!o.tune_dir.empty())
    for (const auto& study : tune_studies(o.tune_dir))
      out.push_back(describe_input("tune study", (fs::path(study) / "journal.jsonl").string(),
                                   "hyperparameter search (--tune)"));
  return out;
}

// Every rank draws the figures of the sets it owns; rank 0 gets the list.
void draw_owned_set_figures(const AnalyzeOptions& options, AnalysisResults& results,
                            MPI_Comm comm) {
  json mine = json::array();
  all_ranks_agree(comm, [&] {
    for (std::size_t k = 0; k < results.sets.size(); ++k) {
      if (results.sets[k].baseline || owner_of_set(k, results.ranks) != mpi::rank(comm)) continue;
      json figures = json::array();
      for (const auto& f : draw_set_figures(options, results.sets[k].grid, results.sets[k]))
        figures.push_back(json::array({f.png_path, f.caption}));
      mine.push_back({k, figures});
    }
  });
  const std::string text = mine.dump() + "\n";
  const auto all = mpi::allgatherv(std::vector<char>(text.begin(), text.end()), comm);
  results.set_figures.assign(results.sets.size(), {});
  std::istringstream in(std::string(all.begin(), all.end()));
  for (std::string line; std::getline(in, line);)
    for (const auto& set : json::parse(line))
      for (const auto& f : set[1])
        results.set_figures[set[0].get<std::size_t>()].push_back({f[0], f[1]});
}

// The climatology as a pseudo-model per (region, experiment): the moments of
// the region's first model set (its cells), after every model.
void add_baseline_sets(AnalysisResults& results) {
  std::vector<SetResult> added;
  for (const auto& r : results.sets) {
    const bool seen = std::any_of(added.begin(), added.end(), [&](const SetResult& b) {
      return b.set.region == r.set.region && b.set.experiment == r.set.experiment;
    });
    if (seen) continue;
    SetResult b;
    b.set = r.set;
    b.set.model = kBaselineName;
    b.baseline = true;
    b.never_sampled = r.never_sampled;
    b.masked_cell_months = r.masked_cell_months;
    b.years = r.baseline_years;
    b.map_year = r.map_year;
    added.push_back(std::move(b));
  }
  for (auto& b : added) results.sets.push_back(std::move(b));
}

// The inputs fingerprint of a complete earlier analysis in the same folder
// ("" when there is none or its marker does not read).
std::string previous_inputs(const std::string& marker, const AnalyzeOptions& options,
                            MPI_Comm comm) {
  std::string previous;
  if (!options.force && output_complete(marker, comm)) {
    all_ranks_agree(comm, [&] {
      if (mpi::rank(comm) != 0) return;
      std::ifstream in(marker);
      std::stringstream text;
      text << in.rdbuf();
      const json j = json::parse(text.str(), nullptr, false);  // unreadable = not complete
      if (!j.is_discarded() && j.is_object()) previous = j.value("inputs", std::string());
    });
    previous = mpi::broadcast(previous, 0, comm);
  }
  return previous;
}

// The climatology baseline of --samples (none without), checked against the
// flux the caches score, and recorded in the results.
std::optional<ClimatologyBaseline> load_baseline(const AnalyzeOptions& options,
                                                 const std::vector<CacheSet>& sets,
                                                 AnalysisResults& results, MPI_Comm comm) {
  std::optional<ClimatologyBaseline> baseline;
  if (!options.samples_dir.empty()) {
    baseline.emplace(read_climatology(training_store_path(options.samples_dir), comm));
    const Climatology& c = baseline->climatology();
    // The baseline is the climatology of the flux the caches score: a pCO2
    // route's samples (target spco2) give no flux baseline.
    all_ranks_agree(comm, [&] {
      for (const auto& set : sets) {
        const std::string& flux = set.years.begin()->second.simulated_variable;
        FR_REQUIRE(c.target_variable.empty() || flux.empty() || c.target_variable == flux,
                   "analyze: --samples: the training samples '", c.path, "' have the target '",
                   c.target_variable, "' but the caches of model ", set.model, " score the flux '",
                   flux, "'; pass the samples of the dataset whose target is '", flux,
                   "' (for the pCO2 route, those of the direct flux models)");
      }
    });
    results.baseline = true;
    results.baseline_store = c.path;
    results.baseline_samples = c.samples;
    results.baseline_locations = static_cast<std::int64_t>(c.location.size());
    results.baseline_first_year = c.first_year;
    results.baseline_last_year = c.last_year;
    results.baseline_months_without_data = baseline->months_without_data();
    log::info("analyze: climatology baseline from ", c.path, ": ", c.samples, " samples at ",
              c.location.size(), " locations, years ", c.first_year, "-", c.last_year);
    if (!results.baseline_months_without_data.empty())
      log::info("analyze: warning: the training samples hold no month ",
                results.baseline_months_without_data.front(),
                (results.baseline_months_without_data.size() > 1 ? " (and others)" : ""),
                ": the climatology has no value for such months");
  } else {
    log::info("analyze: no --samples given: no climatology baseline in this analysis");
  }
  return baseline;
}

// Collective: one (model, region, experiment) set's caches read in row
// blocks and reduced to its yearly moments (and the baseline's), its scatter
// sample and maps (on the rank that owns the set's figures).
SetResult score_set(const CacheSet& set, const AnalyzeOptions& options,
                    const AnalysisResults& results,
                    const std::optional<ClimatologyBaseline>& baseline,
                    std::map<std::string, std::vector<int>>& nearest_of_region,
                    AnalyzeSummary& summary, Progress& progress, MPI_Comm comm) {
  const int owner = owner_of_set(results.sets.size(), results.ranks);
  SetResult r;
  r.set = set;
  r.map_year = set.years.rbegin()->first;
  // The set's grid (every cache of a region has the same one).
  const int ny = set.years.begin()->second.ny, nx = set.years.begin()->second.nx;
  // Not a structured binding: lambdas below capture them (C++17).
  const std::pair<int, int> my_part = my_rows(ny, comm);
  const int row_begin = my_part.first, rows = my_part.second;
  std::vector<double> centre_areas;  // when a cache has no cell_area
  const long long cells = 12LL * ny * nx * static_cast<long long>(set.years.size());
  r.scatter_stride = std::max(1LL, cells / kScatterPoints);
  Moments set_total;
  for (const auto& [year, info] : set.years) {
    CacheBlock b = read_cache_block(info.path, row_begin, rows, comm);
    if (info.has_sampled) {
      r.never_sampled = true;
      r.masked_cell_months += mpi::sum(apply_sampling_mask(b), comm);
    }
    if (r.grid.lat.empty() && mpi::rank(comm) == owner) {  // only the owner draws maps
      r.grid.ny = ny;
      r.grid.nx = nx;
      r.grid.lat.assign(b.lat.begin(), b.lat.end());
      r.grid.lon.assign(b.lon.begin(), b.lon.end());
    }
    std::vector<double> area = b.area;
    if (area.empty()) {
      if (centre_areas.empty()) centre_areas = data::cell_areas_from_centres(b.lat, b.lon, ny, nx);
      area.assign(centre_areas.begin() + static_cast<std::ptrdiff_t>(row_begin) * nx,
                  centre_areas.begin() + static_cast<std::ptrdiff_t>(row_begin + rows) * nx);
    }
    if (baseline) {
      FluxBlock with_baseline;
      all_ranks_agree(comm, [&] {
        auto nearest = nearest_of_region.find(set.region);
        if (nearest == nearest_of_region.end())
          nearest = nearest_of_region
                        .emplace(set.region, baseline->nearest(b.lat, b.lon, row_begin, rows, nx))
                        .first;
        with_baseline = flux_block(b, area);
        with_baseline.reconstructed = baseline->field(b, nearest->second);
      });
      r.baseline_years.push_back(reduce_year(with_baseline, comm, info.path));
    }
    r.years.push_back(reduce_year(flux_block(b, std::move(area)), comm, info.path));
    set_total.merge(total(r.years.back()));
    summary.cell_months += static_cast<std::int64_t>(kMonths) * ny * nx;
    add_scatter_sample(b, r, owner, comm);
    if (year == r.map_year) add_maps(b, options.map_months, r, owner, comm);
    progress.advance();
  }
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(
        set_total.count > 0, "analyze: model ", set.model, ", region ", set.region, ", experiment ",
        set.experiment,
        ": the region has no cell with both a simulated and a reconstructed value in "
        "its caches (e.g. '",
        set.years.begin()->second.path, "'): an empty region",
        r.never_sampled ? " (after leaving out the sampled cells of its `sampled` mask)" : "");
    if (set_total.unmatched > 0)
      log::info("analyze: warning: model ", set.model, ", region ", set.region, ": ",
                set_total.unmatched, " cell-months have only one of the two values (skipped)");
    if (r.never_sampled)
      log::info("analyze: model ", set.model, ", region ", set.region, ", experiment ",
                set.experiment, ": scored on never-sampled cells (", r.masked_cell_months,
                " sampled cell-months left out)");
  });
  return r;
}

}  // namespace

AnalyzeSummary analyze(const AnalyzeOptions& options, MPI_Comm comm) {
  const double start = wall_seconds();
  AnalyzeSummary summary;
  all_ranks_agree(comm, [&] { check_options(options); });
  std::vector<CacheSet> sets = index_caches(options.caches_dir, comm);
  all_ranks_agree(comm, [&] {
    sets = select_sets(std::move(sets), options);
    require_same_units(sets);
  });

  const std::string marker = (fs::path(options.out_dir) / "analysis_summary.json").string();
  const std::string inputs = fingerprint(sets, options);
  const std::string previous = previous_inputs(marker, options, comm);
  if (previous == inputs) {
    summary.reused = true;
    summary.report_path = (fs::path(options.out_dir) / "index.html").string();
    summary.seconds = wall_seconds() - start;
    log::info("analyze: ", summary.report_path,
              " is complete for these caches (--force redoes it)");
    return summary;
  }

  AnalysisResults results;
  results.ranks = mpi::size(comm);
  results.units = sets.front().years.begin()->second.units;
  std::optional<ClimatologyBaseline> baseline = load_baseline(options, sets, results, comm);
  // Per region: the nearest training location of this rank's cells.
  std::map<std::string, std::vector<int>> nearest_of_region;

  int caches = 0;
  for (const auto& s : sets) caches += static_cast<int>(s.years.size());
  const double read_start = wall_seconds();
  Progress progress("analyze", caches, "caches");
  for (auto& set : sets) {
    results.sets.push_back(
        score_set(set, options, results, baseline, nearest_of_region, summary, progress, comm));
  }
  progress.finish();
  if (baseline) add_baseline_sets(results);
  summary.read_seconds = mpi::max(wall_seconds() - read_start, comm);
  const double output_start = wall_seconds();

  draw_owned_set_figures(options, results, comm);
  std::vector<ProvenanceEntry> provenance = describe_caches(results.sets, comm);
  WrittenOutputs written;
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) != 0) return;
    auto others = describe_other_inputs(results.sets, options);
    provenance.insert(provenance.begin(), others.begin(), others.end());
    written = write_analysis(options, results, provenance);
    json done = {{"inputs", inputs},
                 {"caches", caches},
                 {"sets", std::count_if(results.sets.begin(), results.sets.end(),
                                        [](const SetResult& r) { return !r.baseline; })},
                 {"baseline", results.baseline},
                 {"figures", written.figures},
                 {"metric_rows", written.metric_rows},
                 {"files", written.files},
                 {"ranks", results.ranks},
                 {"software", std::string("fluxrecon ") + FLUXRECON_VERSION}};
    write_text_atomically(marker, done.dump(2) + "\n");
  });
  summary.output_seconds = wall_seconds() - output_start;
  summary.caches = caches;
  summary.sets = static_cast<int>(std::count_if(results.sets.begin(), results.sets.end(),
                                                [](const SetResult& r) { return !r.baseline; }));
  summary.baseline = results.baseline;
  summary.figures = std::stoi(mpi::broadcast(std::to_string(written.figures), 0, comm));
  summary.metric_rows = std::stoi(mpi::broadcast(std::to_string(written.metric_rows), 0, comm));
  summary.report_path = (fs::path(options.out_dir) / "index.html").string();
  summary.seconds = wall_seconds() - start;
  return summary;
}

std::string analyze_summary_line(const AnalyzeSummary& s) {
  if (s.reused) return concat("analyze: nothing to do; the report is ", s.report_path);
  return concat(
      "analyze: read ", s.caches, " cache(s) of ", s.sets, " model/region/experiment set(s)",
      s.baseline ? " and the climatology baseline" : " (no baseline)", ", wrote ", s.metric_rows,
      " metric rows and ", s.figures, " figures in ", log::seconds(s.seconds),
      " (reading and reducing ", log::seconds(s.read_seconds), ", ",
      static_cast<long long>(s.read_seconds > 0 ? s.cell_months / s.read_seconds : 0),
      " cell-months/s; figures and report ", log::seconds(s.output_seconds),
      "); report: ", s.report_path);
}

}  // namespace fluxrecon::analysis
