// Area-weighted skill metrics of a reconstruction against the simulation
// (RMSE, MAE, bias, R^2, Pearson r), area-integrated fluxes, annual means and
// the mean seasonal cycle, from mergeable moments.
//
// Ranks hold blocks of grid rows. The kernel (kernels/metrics_moments.hpp)
// computes one partial per (month, row); every rank gathers all partials and
// merges them in row order, so the results are bit-identical whatever the
// number of ranks and the row split.
//
// Flux values are in mol m-2 s-1, cell areas (e1t * e2t) in m^2, and
// "error" always means reconstructed - simulated.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::analysis {

constexpr int kMonths = 12;
constexpr double kCarbonGramsPerMol = 12.011;
constexpr double kGramsPerPetagram = 1e15;

// Weighted moments of simulated (s) and reconstructed (r) values and of the
// error e = r - s. merge() combines two disjoint sets exactly (Chan et al.'s
// pairwise update), so partial results can be combined in any fixed order.
struct Moments {
  double weight = 0;  // sum of w
  double mean_s = 0, mean_r = 0;
  double m2_s = 0, m2_r = 0, c_sr = 0;  // centred sums of squares and co-moment
  double sum_e = 0, sum_e2 = 0, sum_abs_e = 0;
  std::int64_t count = 0;      // cells with both values
  std::int64_t unmatched = 0;  // cells with only one of the two values
  void merge(const Moments& other);
  double sum_s() const { return weight * mean_s; }  // sum w s
  double sum_r() const { return weight * mean_r; }
};

struct Metrics {
  double rmse = 0, mae = 0, bias = 0;
  double r2 = 0;         // 1 - sum w e^2 / sum w (s - mean s)^2 (simulation as truth)
  double pearson_r = 0;  // weighted correlation of s and r
  double mean_simulated = 0, mean_reconstructed = 0;
  double std_simulated = 0, std_reconstructed = 0;  // weighted, over the cells (ddof 0)
  std::int64_t count = 0;
};
// NaN for what is undefined (no cells; R^2 and r of a constant simulation).
Metrics metrics_of(const Moments& m);

// One year of one cache on this rank: rows [row_begin, row_begin + rows) of an
// ny x nx grid.
struct FluxBlock {
  int year = 0;
  int ny = 0, nx = 0;
  int row_begin = 0, rows = 0;
  std::vector<float> simulated;                 // [12][rows][nx], mol m-2 s-1, NaN = undefined
  std::vector<float> reconstructed;             // [12][rows][nx]
  std::vector<double> area;                     // [rows][nx], m^2
  std::array<double, kMonths> month_seconds{};  // length of each month
};

// Seconds in each month of `year` in a CF calendar (standard, noleap, 360_day ...).
std::array<double, kMonths> month_seconds(int year, const std::string& calendar);

struct YearMoments {
  int year = 0;
  std::array<Moments, kMonths> months;
  std::array<double, kMonths> month_seconds{};
};

// Collective over `comm`: every rank passes its block (rows may be 0; the
// blocks must cover every row exactly once). The same result on every rank.
// `what` names the input in errors (e.g. the cache file).
YearMoments reduce_year(const FluxBlock& block, MPI_Comm comm, const std::string& what);

// Months merged in order; years merged in order.
Moments total(const YearMoments& year);
Moments total(const std::vector<YearMoments>& years);

struct IntegratedFlux {
  double simulated_mol = 0, reconstructed_mol = 0, error_mol = 0;  // per year
  double simulated_pgc = 0, reconstructed_pgc = 0, error_pgc = 0;  // PgC per year
  double relative_error = 0;                                       // error / |simulated|
};
// Sum over the months of (seconds x sum of area x flux): mol per year for one
// year; over several years, the mean per year.
IntegratedFlux integrated_flux(const YearMoments& year);
IntegratedFlux integrated_flux(const std::vector<YearMoments>& years);

// Area- and time-weighted mean flux of each year (mol m-2 s-1).
struct AnnualMean {
  int year = 0;
  double simulated = 0, reconstructed = 0;
};
std::vector<AnnualMean> annual_means(const std::vector<YearMoments>& years);

// Per calendar month over all years: area-weighted mean, the spread over
// points and years (weighted std), and the interannual std of the monthly
// area means (ddof 1; NaN with fewer than two years).
struct SeasonalCycle {
  std::array<double, kMonths> mean_simulated{}, mean_reconstructed{};
  std::array<double, kMonths> std_simulated{}, std_reconstructed{};
  std::array<double, kMonths> interannual_std_simulated{}, interannual_std_reconstructed{};
  std::array<Metrics, kMonths> metrics{};
};
SeasonalCycle seasonal_cycle(const std::vector<YearMoments>& years);

}  // namespace fluxrecon::analysis
