#include "analysis/metrics.hpp"

#include <Kokkos_Core.hpp>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/time_axis.hpp"
#include "kernels/metrics_moments.hpp"

namespace fluxrecon::analysis {
namespace {

namespace kn = fluxrecon::kernels;
using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemorySpace = ExecSpace::memory_space;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Moments from_partial(const double* p) {
  Moments m;
  m.weight = p[kn::kMomWeight];
  m.mean_s = p[kn::kMomMeanS];
  m.mean_r = p[kn::kMomMeanR];
  m.m2_s = p[kn::kMomM2S];
  m.m2_r = p[kn::kMomM2R];
  m.c_sr = p[kn::kMomCSR];
  m.sum_e = p[kn::kMomSumE];
  m.sum_e2 = p[kn::kMomSumE2];
  m.sum_abs_e = p[kn::kMomSumAbsE];
  m.count = static_cast<std::int64_t>(p[kn::kMomCount]);
  m.unmatched = static_cast<std::int64_t>(p[kn::kMomUnmatched]);
  return m;
}

void check_block(const FluxBlock& b, const std::string& what) {
  FR_REQUIRE(b.ny > 0 && b.nx > 0, what, ": grid of ", b.ny, " x ", b.nx, " cells");
  FR_REQUIRE(b.rows >= 0 && b.row_begin >= 0 && b.row_begin + b.rows <= b.ny, what, ": rows [",
             b.row_begin, ", ", b.row_begin + b.rows, ") are not within the grid's ", b.ny,
             " rows");
  const std::size_t cells = static_cast<std::size_t>(b.rows) * static_cast<std::size_t>(b.nx);
  FR_REQUIRE(b.simulated.size() == kMonths * cells && b.reconstructed.size() == kMonths * cells,
             what, ": expected 12 x ", b.rows, " x ", b.nx,
             " simulated and reconstructed values, got ", b.simulated.size(), " and ",
             b.reconstructed.size());
  FR_REQUIRE(b.area.size() == cells, what, ": expected ", cells, " cell areas, got ",
             b.area.size());
  for (int m = 0; m < kMonths; ++m)
    FR_REQUIRE(b.month_seconds[m] > 0, what, ": month ", m + 1, " of ", b.year, " lasts ",
               b.month_seconds[m], " s");
}

// The kernel over this rank's rows: partials [month][row][field] on the host.
std::vector<double> local_partials(const FluxBlock& b) {
  const std::size_t cells = static_cast<std::size_t>(b.rows) * b.nx;
  const std::int64_t items = static_cast<std::int64_t>(kMonths) * b.rows;
  std::vector<double> out(static_cast<std::size_t>(items) * kn::kMomFields);
  if constexpr (Kokkos::SpaceAccessibility<ExecSpace, Kokkos::HostSpace>::accessible) {
    // The kernel reads the block where it is: no copies of 2 x 12 planes.
    const kn::RowMonthMoments kernel{
        b.simulated.data(), b.reconstructed.data(), b.area.data(), b.rows, b.nx, out.data()};
    Kokkos::parallel_for("analysis::row_month_moments", Kokkos::RangePolicy<ExecSpace>(0, items),
                         kernel);
    Kokkos::fence();
    return out;
  }
  using HostFloats = Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  using HostDoubles = Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  // Device memory: the copies overwrite every value, the kernel every partial.
  const auto uninitialised = [](const char* label) {
    return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
  };
  Kokkos::View<float*, MemorySpace> sim(uninitialised("metrics_sim"), kMonths * cells),
      rec(uninitialised("metrics_rec"), kMonths * cells);
  Kokkos::View<double*, MemorySpace> area(uninitialised("metrics_area"), cells),
      partials(uninitialised("metrics_partials"), out.size());
  Kokkos::deep_copy(sim, HostFloats(b.simulated.data(), b.simulated.size()));
  Kokkos::deep_copy(rec, HostFloats(b.reconstructed.data(), b.reconstructed.size()));
  Kokkos::deep_copy(area, HostDoubles(b.area.data(), b.area.size()));
  const kn::RowMonthMoments kernel{sim.data(), rec.data(), area.data(),
                                   b.rows,     b.nx,       partials.data()};
  Kokkos::parallel_for("analysis::row_month_moments", Kokkos::RangePolicy<ExecSpace>(0, items),
                       kernel);
  Kokkos::fence();
  Kokkos::deep_copy(
      Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(out.data(), out.size()),
      partials);
  return out;
}

}  // namespace

void Moments::merge(const Moments& o) {
  count += o.count;
  unmatched += o.unmatched;
  if (o.weight <= 0) return;
  if (weight <= 0) {
    const auto c = count, u = unmatched;
    *this = o;
    count = c;
    unmatched = u;
    return;
  }
  const double w = weight + o.weight, f = weight * o.weight / w;
  const double ds = o.mean_s - mean_s, dr = o.mean_r - mean_r;
  mean_s += ds * (o.weight / w);
  mean_r += dr * (o.weight / w);
  m2_s += o.m2_s + ds * ds * f;
  m2_r += o.m2_r + dr * dr * f;
  c_sr += o.c_sr + ds * dr * f;
  sum_e += o.sum_e;
  sum_e2 += o.sum_e2;
  sum_abs_e += o.sum_abs_e;
  weight = w;
}

Metrics metrics_of(const Moments& m) {
  Metrics r;
  r.count = m.count;
  if (m.weight <= 0) {
    r.rmse = r.mae = r.bias = r.r2 = r.pearson_r = kNaN;
    r.mean_simulated = r.mean_reconstructed = r.std_simulated = r.std_reconstructed = kNaN;
    return r;
  }
  r.bias = m.sum_e / m.weight;
  r.mae = m.sum_abs_e / m.weight;
  r.rmse = std::sqrt(m.sum_e2 / m.weight);
  r.r2 = m.m2_s > 0 ? 1.0 - m.sum_e2 / m.m2_s : kNaN;
  r.pearson_r = m.m2_s > 0 && m.m2_r > 0 ? m.c_sr / std::sqrt(m.m2_s * m.m2_r) : kNaN;
  r.mean_simulated = m.mean_s;
  r.mean_reconstructed = m.mean_r;
  r.std_simulated = std::sqrt(m.m2_s / m.weight);
  r.std_reconstructed = std::sqrt(m.m2_r / m.weight);
  return r;
}

std::array<double, kMonths> month_seconds(int year, const std::string& calendar) {
  std::array<double, kMonths> s{};
  for (int m = 0; m < kMonths; ++m) s[m] = 86400.0 * io::days_in_month(year, m + 1, calendar);
  return s;
}

YearMoments reduce_year(const FluxBlock& block, MPI_Comm comm, const std::string& what) {
  all_ranks_agree(comm, [&] { check_block(block, what); });
  const std::vector<double> mine = local_partials(block);

  // Every rank's row range and grid, then every rank's partials in rank order.
  const std::vector<int> layout = mpi::allgatherv(
      std::vector<int>{block.row_begin, block.rows, block.ny, block.nx, block.year}, comm);
  const std::vector<double> all = mpi::allgatherv(mine, comm);
  const int ny = block.ny, ranks = mpi::size(comm);
  std::vector<const double*> row_partial(static_cast<std::size_t>(kMonths) * ny, nullptr);
  std::size_t offset = 0;
  for (int r = 0; r < ranks; ++r) {
    const int begin = layout[5 * r], rows = layout[5 * r + 1];
    FR_REQUIRE(
        layout[5 * r + 2] == ny && layout[5 * r + 3] == block.nx && layout[5 * r + 4] == block.year,
        what, ": rank ", r, " holds a ", layout[5 * r + 2], " x ", layout[5 * r + 3],
        " grid of year ", layout[5 * r + 4], ", rank ", mpi::rank(comm), " a ", ny, " x ", block.nx,
        " grid of year ", block.year);
    for (int m = 0; m < kMonths; ++m)
      for (int j = 0; j < rows; ++j) {
        const double*& slot = row_partial[static_cast<std::size_t>(m) * ny + begin + j];
        FR_REQUIRE(slot == nullptr, what, ": grid row ", begin + j, " is held by two ranks");
        slot = all.data() + offset + (static_cast<std::size_t>(m) * rows + j) * kn::kMomFields;
      }
    offset += static_cast<std::size_t>(kMonths) * rows * kn::kMomFields;
  }
  YearMoments out;
  out.year = block.year;
  out.month_seconds = block.month_seconds;
  for (int m = 0; m < kMonths; ++m)
    for (int j = 0; j < ny; ++j) {
      const double* p = row_partial[static_cast<std::size_t>(m) * ny + j];
      FR_REQUIRE(p != nullptr, what, ": grid row ", j, " is held by no rank");
      out.months[m].merge(from_partial(p));
    }
  return out;
}

Moments total(const YearMoments& year) {
  Moments t;
  for (const auto& m : year.months) t.merge(m);
  return t;
}

Moments total(const std::vector<YearMoments>& years) {
  Moments t;
  for (const auto& y : years) t.merge(total(y));
  return t;
}

namespace {
IntegratedFlux flux_from_mol(double sim, double rec) {
  IntegratedFlux f;
  f.simulated_mol = sim;
  f.reconstructed_mol = rec;
  f.error_mol = rec - sim;
  const double pg = kCarbonGramsPerMol / kGramsPerPetagram;
  f.simulated_pgc = sim * pg;
  f.reconstructed_pgc = rec * pg;
  f.error_pgc = f.error_mol * pg;
  f.relative_error = sim != 0 ? f.error_mol / std::abs(sim) : kNaN;
  return f;
}
}  // namespace

IntegratedFlux integrated_flux(const YearMoments& year) {
  double sim = 0, rec = 0;
  for (int m = 0; m < kMonths; ++m) {
    sim += year.month_seconds[m] * year.months[m].sum_s();
    rec += year.month_seconds[m] * year.months[m].sum_r();
  }
  return flux_from_mol(sim, rec);
}

IntegratedFlux integrated_flux(const std::vector<YearMoments>& years) {
  FR_REQUIRE(!years.empty(), "integrated flux: no years");
  double sim = 0, rec = 0;
  for (const auto& y : years) {
    const IntegratedFlux f = integrated_flux(y);
    sim += f.simulated_mol;
    rec += f.reconstructed_mol;
  }
  const double n = static_cast<double>(years.size());
  return flux_from_mol(sim / n, rec / n);
}

std::vector<AnnualMean> annual_means(const std::vector<YearMoments>& years) {
  std::vector<AnnualMean> out;
  for (const auto& y : years) {
    double wt = 0, sim = 0, rec = 0;
    for (int m = 0; m < kMonths; ++m) {
      const double w = y.month_seconds[m] * y.months[m].weight;
      wt += w;
      sim += w * y.months[m].mean_s;
      rec += w * y.months[m].mean_r;
    }
    out.push_back({y.year, wt > 0 ? sim / wt : kNaN, wt > 0 ? rec / wt : kNaN});
  }
  return out;
}

SeasonalCycle seasonal_cycle(const std::vector<YearMoments>& years) {
  SeasonalCycle c;
  for (int m = 0; m < kMonths; ++m) {
    Moments all;
    double ms = 0, mr = 0, qs = 0, qr = 0;  // interannual: Welford over the years
    int n = 0;
    for (const auto& y : years) {
      all.merge(y.months[m]);
      if (y.months[m].weight <= 0) continue;
      ++n;
      const double ds = y.months[m].mean_s - ms, dr = y.months[m].mean_r - mr;
      ms += ds / n;
      mr += dr / n;
      qs += ds * (y.months[m].mean_s - ms);
      qr += dr * (y.months[m].mean_r - mr);
    }
    const Metrics mt = metrics_of(all);
    c.metrics[m] = mt;
    c.mean_simulated[m] = mt.mean_simulated;
    c.mean_reconstructed[m] = mt.mean_reconstructed;
    c.std_simulated[m] = mt.std_simulated;
    c.std_reconstructed[m] = mt.std_reconstructed;
    c.interannual_std_simulated[m] = n > 1 ? std::sqrt(qs / (n - 1)) : kNaN;
    c.interannual_std_reconstructed[m] = n > 1 ? std::sqrt(qr / (n - 1)) : kNaN;
  }
  return c;
}

}  // namespace fluxrecon::analysis
