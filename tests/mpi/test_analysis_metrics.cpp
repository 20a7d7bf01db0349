// Area-weighted metrics against straightforward two-pass references, and the
// same bits whatever the number of ranks and the row split.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "analysis/metrics.hpp"
#include "core/error.hpp"

namespace fa = fluxrecon::analysis;

namespace {

constexpr int kNy = 23, kNx = 17;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// The full synthetic year: land (NaN) in a block, flux ~1e-8 mol m-2 s-1 with
// a seasonal cycle and a cell-dependent reconstruction error.
struct FullYear {
  int year;
  std::vector<float> sim, rec;  // [12][ny][nx]
  std::vector<double> area;     // [ny][nx]
};

FullYear make_year(int year) {
  FullYear f{year, {}, {}, {}};
  for (int j = 0; j < kNy; ++j)
    for (int i = 0; i < kNx; ++i) {
      const double lat = -70.0 + 140.0 * j / (kNy - 1);
      f.area.push_back(2.5e9 * std::cos(lat * M_PI / 180.0) * (1.0 + 0.1 * (i % 3)));
    }
  for (int m = 0; m < 12; ++m)
    for (int j = 0; j < kNy; ++j)
      for (int i = 0; i < kNx; ++i) {
        const bool land = j >= 8 && j <= 12 && i >= 4 && i <= 9;
        const double s = 1e-8 * (std::sin(0.3 * j + 0.2 * i) + 0.6 * std::cos(0.52 * m + 0.1 * j) +
                                 0.05 * (year - 2010));
        const double r = 0.92 * s + 1.5e-9 * std::sin(1.7 * i + 0.9 * j + m + year) + 2e-10;
        f.sim.push_back(land ? std::nanf("") : static_cast<float>(s));
        f.rec.push_back(land ? std::nanf("") : static_cast<float>(r));
      }
  return f;
}

fa::FluxBlock block_of(const FullYear& f, int begin, int rows) {
  fa::FluxBlock b;
  b.year = f.year;
  b.ny = kNy;
  b.nx = kNx;
  b.row_begin = begin;
  b.rows = rows;
  for (int m = 0; m < 12; ++m)
    for (int j = begin; j < begin + rows; ++j)
      for (int i = 0; i < kNx; ++i) {
        const std::size_t k = (static_cast<std::size_t>(m) * kNy + j) * kNx + i;
        b.simulated.push_back(f.sim[k]);
        b.reconstructed.push_back(f.rec[k]);
      }
  b.area.assign(f.area.begin() + static_cast<std::ptrdiff_t>(begin) * kNx,
                f.area.begin() + static_cast<std::ptrdiff_t>(begin + rows) * kNx);
  b.month_seconds = fa::month_seconds(f.year, "standard");
  return b;
}

// This rank's rows when `ranks` ranks split the grid evenly.
std::pair<int, int> even_rows(int rank, int ranks) {
  const int begin = kNy * rank / ranks, end = kNy * (rank + 1) / ranks;
  return {begin, end - begin};
}

// Independent reference: plain two-pass weighted sums over a set of
// (year, month) slices of the full data.
struct Reference {
  double w = 0, mean_s = 0, mean_r = 0, var_s = 0, var_r = 0, cov = 0;
  double bias = 0, mae = 0, mse = 0;
  long long n = 0;
};

Reference reference(const std::vector<FullYear>& years, int month /* -1 = all */) {
  Reference r;
  auto each = [&](auto body) {
    for (const auto& y : years)
      for (int m = 0; m < 12; ++m) {
        if (month >= 0 && m != month) continue;
        for (int k = 0; k < kNy * kNx; ++k) {
          const double s = y.sim[m * kNy * kNx + k], c = y.rec[m * kNy * kNx + k];
          if (std::isnan(s) || std::isnan(c)) continue;
          body(y.area[k], s, c);
        }
      }
  };
  double ss = 0, sr = 0;
  each([&](double a, double s, double c) {
    r.w += a;
    ss += a * s;
    sr += a * c;
    ++r.n;
  });
  r.mean_s = ss / r.w;
  r.mean_r = sr / r.w;
  each([&](double a, double s, double c) {
    r.var_s += a * (s - r.mean_s) * (s - r.mean_s);
    r.var_r += a * (c - r.mean_r) * (c - r.mean_r);
    r.cov += a * (s - r.mean_s) * (c - r.mean_r);
    r.bias += a * (c - s);
    r.mae += a * std::abs(c - s);
    r.mse += a * (c - s) * (c - s);
  });
  return r;
}

void expect_rel(double got, double want, double rel, const char* what) {
  EXPECT_NEAR(got, want, rel * std::abs(want) + 1e-300) << what;
}

void expect_bitwise_equal(const fa::YearMoments& a, const fa::YearMoments& b) {
  for (int m = 0; m < 12; ++m)
    EXPECT_EQ(std::memcmp(&a.months[m], &b.months[m], sizeof(fa::Moments)), 0)
        << "month " << m + 1 << " differs between rank splits";
}

}  // namespace

TEST(AnalysisMetrics, AgreeWithTwoPassReferences) {
  std::vector<FullYear> full = {make_year(2016), make_year(2017), make_year(2018)};
  const auto [begin, rows] = even_rows(world_rank(), world_size());
  std::vector<fa::YearMoments> years;
  for (const auto& f : full)
    years.push_back(fa::reduce_year(block_of(f, begin, rows), MPI_COMM_WORLD, "synthetic"));

  // Overall metrics.
  const Reference ref = reference(full, -1);
  const fa::Metrics got = fa::metrics_of(fa::total(years));
  EXPECT_EQ(got.count, ref.n);
  EXPECT_EQ(got.count, 3LL * 12 * (kNy * kNx - 5 * 6));
  expect_rel(got.bias, ref.bias / ref.w, 1e-9, "bias");
  expect_rel(got.mae, ref.mae / ref.w, 1e-9, "mae");
  expect_rel(got.rmse, std::sqrt(ref.mse / ref.w), 1e-9, "rmse");
  expect_rel(got.r2, 1.0 - ref.mse / ref.var_s, 1e-9, "r2");
  expect_rel(got.pearson_r, ref.cov / std::sqrt(ref.var_s * ref.var_r), 1e-9, "pearson r");
  expect_rel(got.mean_simulated, ref.mean_s, 1e-9, "mean simulated");
  expect_rel(got.std_reconstructed, std::sqrt(ref.var_r / ref.w), 1e-9, "std reconstructed");
  EXPECT_GT(got.r2, 0.5);
  EXPECT_LT(got.r2, 1.0);

  // Integrated flux: sum over months of seconds x area x flux, in mol and PgC.
  for (std::size_t y = 0; y < full.size(); ++y) {
    const auto secs = fa::month_seconds(full[y].year, "standard");
    double sim = 0, rec = 0;
    for (int m = 0; m < 12; ++m)
      for (int k = 0; k < kNy * kNx; ++k) {
        const double s = full[y].sim[m * kNy * kNx + k], c = full[y].rec[m * kNy * kNx + k];
        if (std::isnan(s)) continue;
        sim += secs[m] * full[y].area[k] * s;
        rec += secs[m] * full[y].area[k] * c;
      }
    const fa::IntegratedFlux f = fa::integrated_flux(years[y]);
    expect_rel(f.simulated_mol, sim, 1e-9, "integrated simulated");
    expect_rel(f.error_mol, rec - sim, 1e-8, "integrated error");
    expect_rel(f.simulated_pgc, sim * 12.011e-15, 1e-9, "PgC");
    // Annual mean = integrated flux / (area x seconds of the year).
    double area = 0, seconds = 0;
    for (int k = 0; k < kNy * kNx; ++k)
      if (!std::isnan(full[y].sim[k])) area += full[y].area[k];
    for (double s : secs) seconds += s;
    EXPECT_DOUBLE_EQ(seconds, full[y].year == 2016 ? 366 * 86400.0 : 365 * 86400.0);
    expect_rel(fa::annual_means(years)[y].simulated, sim / (area * seconds), 1e-9, "annual mean");
    EXPECT_EQ(fa::annual_means(years)[y].year, full[y].year);
  }
  const fa::IntegratedFlux mean_flux = fa::integrated_flux(years);
  expect_rel(
      mean_flux.simulated_mol,
      (fa::integrated_flux(years[0]).simulated_mol + fa::integrated_flux(years[1]).simulated_mol +
       fa::integrated_flux(years[2]).simulated_mol) /
          3,
      1e-12, "mean integrated flux");

  // Seasonal cycle: per month over points and years; interannual spread of
  // the monthly area means.
  const fa::SeasonalCycle cycle = fa::seasonal_cycle(years);
  for (int m = 0; m < 12; ++m) {
    const Reference rm = reference(full, m);
    expect_rel(cycle.mean_simulated[m], rm.mean_s, 1e-9, "seasonal mean");
    expect_rel(cycle.std_reconstructed[m], std::sqrt(rm.var_r / rm.w), 1e-9, "seasonal std");
    expect_rel(cycle.metrics[m].rmse, std::sqrt(rm.mse / rm.w), 1e-9, "monthly rmse");
    double means[3], avg = 0, q = 0;
    for (int y = 0; y < 3; ++y) {
      means[y] = reference({full[y]}, m).mean_s;
      avg += means[y] / 3;
    }
    for (double v : means) q += (v - avg) * (v - avg);
    expect_rel(cycle.interannual_std_simulated[m], std::sqrt(q / 2), 1e-7, "interannual std");
  }
}

TEST(AnalysisMetrics, SameBitsForEveryRankSplit) {
  const FullYear f = make_year(2018);
  const int rank = world_rank(), size = world_size();
  const auto [begin, rows] = even_rows(rank, size);
  const fa::YearMoments split = fa::reduce_year(block_of(f, begin, rows), MPI_COMM_WORLD, "split");
  // The whole grid on one rank.
  const fa::YearMoments alone = fa::reduce_year(block_of(f, 0, kNy), MPI_COMM_SELF, "alone");
  expect_bitwise_equal(split, alone);
  // A lopsided split: rank 0 holds one row, the last rank the rest.
  const int lb = rank == 0 ? 0 : (rank == size - 1 ? 1 : kNy);
  const int lr = size == 1 ? kNy : (rank == 0 ? 1 : (rank == size - 1 ? kNy - 1 : 0));
  const fa::YearMoments lopsided =
      fa::reduce_year(block_of(f, lr == 0 ? 0 : lb, lr), MPI_COMM_WORLD, "lopsided");
  expect_bitwise_equal(lopsided, alone);
  const fa::Metrics a = fa::metrics_of(fa::total(split)), b = fa::metrics_of(fa::total(alone));
  EXPECT_EQ(std::memcmp(&a, &b, sizeof(fa::Metrics)), 0);
}

TEST(AnalysisMetrics, BadBlocksFailOnEveryRank) {
  const FullYear f = make_year(2018);
  const auto [begin, rows] = even_rows(world_rank(), world_size());
  auto b = block_of(f, begin, rows);
  if (world_rank() == 0) b.simulated.pop_back();  // wrong on one rank only
  try {
    fa::reduce_year(b, MPI_COMM_WORLD, "cache_a.nc");
    ADD_FAILURE() << "a short block was accepted";
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cache_a.nc"), std::string::npos) << e.what();
  }
  if (world_size() == 1) return;  // one rank holding every row is valid
  // Every rank claims the first rows: rows held twice and rows held by no rank.
  auto overlap = block_of(f, 0, rows);
  try {
    fa::reduce_year(overlap, MPI_COMM_WORLD, "cache_b.nc");
    ADD_FAILURE() << "overlapping or missing rows were accepted";
  } catch (const fluxrecon::Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("held by two ranks") != std::string::npos ||
                what.find("held by no rank") != std::string::npos)
        << what;
  }
}

TEST(AnalysisMetrics, UnmatchedCellsAreCountedAndEmptyInputIsNaN) {
  FullYear f = make_year(2018);
  f.rec[5] = std::nanf("");  // simulated defined, reconstruction missing
  f.sim[7] = std::nanf("");
  const auto [begin, rows] = even_rows(world_rank(), world_size());
  const fa::YearMoments y = fa::reduce_year(block_of(f, begin, rows), MPI_COMM_WORLD, "x");
  EXPECT_EQ(fa::total(y).unmatched, 2);
  const fa::Metrics none = fa::metrics_of(fa::Moments{});
  EXPECT_TRUE(std::isnan(none.rmse));
  EXPECT_TRUE(std::isnan(none.r2));
  EXPECT_EQ(none.count, 0);
}
