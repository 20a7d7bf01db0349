// What `fluxrecon analyze` gathers from the caches before it draws (shared by
// analyze.cpp, which reads and reduces, and analyze_report.cpp, which writes
// the figures, tables and the report on rank 0).
#pragma once

#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/cache_reader.hpp"
#include "analysis/metrics.hpp"
#include "analysis/plots.hpp"
#include "analysis/report.hpp"

namespace fluxrecon::analysis {

// Fluxes are shown in mol m-2 yr-1 (values of order 1 for CO2 fluxes).
constexpr double kSecondsPerYear = 365.25 * 86400.0;
constexpr const char* kShownUnits = "mol m#u-2#d yr#u-1#d";  // PLplot text
constexpr const char* kShownUnitsText = "mol m-2 yr-1";      // CSV, HTML

// One (model, region, experiment) over its years.
struct SetResult {
  CacheSet set;
  GeoGrid grid;  // cell centres of the set's caches (a region's box of the input grid)
  std::vector<YearMoments> years;  // in year order
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
};

// The rank that gathers a set's fields and draws its figures.
inline int owner_of_set(std::size_t set_index, int ranks) {
  return static_cast<int>(set_index % static_cast<std::size_t>(ranks));
}

std::string figures_dir(const AnalyzeOptions& options);

// Rank-local: the figures of one set, from its fields on this rank.
std::vector<ReportFigure> draw_set_figures(const AnalyzeOptions& options, const GeoGrid& grid,
                                           const SetResult& set);

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
