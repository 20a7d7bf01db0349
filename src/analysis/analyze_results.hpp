// What `fluxrecon analyze` gathers from the caches before it draws (shared by
// analyze.cpp, which reads and reduces, and analyze_report.cpp, which writes
// the figures, tables and the report on rank 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/cache_reader.hpp"
#include "analysis/metrics.hpp"
#include "analysis/report.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::analysis {

// Fluxes are shown in mol m-2 yr-1 (values of order 1 for CO2 fluxes).
constexpr double kSecondsPerYear = 365.25 * 86400.0;
constexpr const char* kShownUnits = "mol m#u-2#d yr#u-1#d";  // PLplot text
constexpr const char* kShownUnitsText = "mol m-2 yr-1";      // CSV, HTML

// The name of the climatology baseline where outputs list models.
constexpr const char* kBaselineName = "climatology";

// One (model, region, experiment) over its years, or the climatology
// baseline of a (region, experiment) (baseline = true; set.model is
// kBaselineName, its caches those of the region's first model).
struct SetResult {
  CacheSet set;
  bool baseline = false;
  // The caches carry the sampling mask: only never-sampled cells are scored.
  bool never_sampled = false;
  std::int64_t masked_cell_months = 0;  // sampled cell-months left out
  plot::GeoGrid grid;  // cell centres of the set's caches (a region's box of the input grid)
  std::vector<YearMoments> years;  // in year order
  // With a baseline: the climatology's moments on the cells this set is
  // scored on (same order), for the comparison with the climatology.
  std::vector<YearMoments> baseline_years;
  // The maps' year (the last one) and, per map month, the whole field in
  // mol m-2 yr-1 (NaN = fill): filled on the set's owner rank only, which
  // draws the set's figures.
  int map_year = 0;
  std::vector<std::vector<double>> map_simulated, map_reconstructed;
  // A deterministic sample of the (simulated, reconstructed) pairs for the
  // density scatter (every cell whose hash falls on the stride), rank 0 only.
  std::vector<double> scatter_simulated, scatter_reconstructed;
  long long scatter_stride = 1;
};

struct AnalysisResults {
  std::string units;            // flux units stored in the caches
  std::vector<SetResult> sets;  // sorted by model, region, experiment
  // Per set: its maps, difference maps, seasonal cycle and scatter plot, as
  // drawn by its owner rank (filled on rank 0 for the report).
  std::vector<std::vector<ReportFigure>> set_figures;
  int ranks = 1;
  // The climatology baseline (--samples); absent when baseline is false.
  bool baseline = false;
  std::string baseline_store;  // train.h5
  std::int64_t baseline_samples = 0, baseline_locations = 0;
  int baseline_first_year = 0, baseline_last_year = 0;
  std::vector<int> baseline_months_without_data;
};

// Baseline outputs (analyze_baseline.cpp), on rank 0.
struct SkillVsBaseline {
  Metrics model, baseline;
  IntegratedFlux model_flux, baseline_flux;  // mean over the years
  double model_abs_yearly_error_pgc = 0, baseline_abs_yearly_error_pgc = 0;
  double model_trend_error = 0, baseline_trend_error = 0;  // PgC/yr per year
};
// A model set against the climatology on the same cells.
SkillVsBaseline skill_vs_baseline(const SetResult& set);
// Least-squares slope over the years of the yearly integrated flux error
// (reconstructed - simulated, PgC/yr) of `years`; NaN with fewer than two.
double trend_of_error(const std::vector<YearMoments>& years);
// skill_vs_climatology.csv text (header and one row per model set).
std::string skill_vs_baseline_csv(const AnalysisResults& results);
// The report table of skill_vs_baseline for every model set.
ReportTable skill_vs_baseline_table(const AnalysisResults& results);
// The yearly integrated flux (PgC/yr) of the simulation, each model and the
// climatology of one region and experiment (sets: its sets, models first).
void plot_yearly_uptake(const std::string& png_path, const std::string& where,
                        const std::vector<const SetResult*>& sets);

// The rank that gathers a set's fields and draws its figures.
inline int owner_of_set(std::size_t set_index, int ranks) {
  return static_cast<int>(set_index % static_cast<std::size_t>(ranks));
}

std::string figures_dir(const AnalyzeOptions& options);

// Number formats: full precision for the CSVs, four significant digits for
// the tables ("nan" and "-" for what is not finite).
std::string csv_number(double v);
std::string table_number(double v);
// "North_Atlantic" -> "North Atlantic".
std::string pretty(std::string s);
// "2001-2003" (or "2001") for the years of a set.
std::string years_text(const SetResult& r);

// Rank-local: the figures of one set, from its fields on this rank.
std::vector<ReportFigure> draw_set_figures(const AnalyzeOptions& options, const plot::GeoGrid& grid,
                                           const SetResult& set);

// --tune (analyze_tune.cpp), rank-local: the study folders of `dir` (itself
// when it holds trials.csv, else its subfolders that do, sorted; an Error
// when none) and a "Hyperparameter search" section for each.
std::vector<std::string> tune_studies(const std::string& dir);
std::vector<ReportSection> tune_sections(const std::string& dir);

// Rank 0: metric CSVs, the figures of every region and experiment, the
// report (index.html) with the sets' figures. Returns the number of figures
// (all of them) and of metric rows written.
struct WrittenOutputs {
  int figures = 0;
  int metric_rows = 0;
  std::vector<std::string> files;
};
WrittenOutputs write_analysis(const AnalyzeOptions& options, const AnalysisResults& results,
                              const std::vector<ProvenanceEntry>& provenance);

}  // namespace fluxrecon::analysis
