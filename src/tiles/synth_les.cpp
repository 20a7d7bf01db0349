#include "tiles/synth_les.hpp"

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <random>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "io/nc_writer.hpp"
#include "kernels/tiles_synth.hpp"

namespace fluxrecon::tiles {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
constexpr double kMetresPerDegree = 111195.0;  // mean Earth radius 6371 km

Kokkos::View<double*, Mem> device(const std::vector<double>& v, const char* label) {
  Kokkos::View<double*, Mem> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}

// Inverse of the standard normal upper tail: z with P(Z > z) = p.
double upper_quantile(double p) {
  double lo = -10, hi = 10;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

const std::vector<std::string>& synthetic_les_variables() {
  static const std::vector<std::string> names = {"rlut", "lwp", "cldmask"};
  return names;
}

std::vector<float> synthetic_cloud_amount(const SyntheticLesSpec& s, int step) {
  const double lx = s.nx * s.dx, ly = s.ny * s.dx;
  // Modes on the periodic lattice, in log-spaced shells of |k|, random directions.
  std::mt19937_64 rng(static_cast<std::uint64_t>(s.seed) * 0x9E3779B97F4A7C15ull + 12345u);
  // Uniform [0, 1) from the raw 64-bit stream (std distributions differ between libraries).
  auto uni = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const double kmin = 2 * M_PI / std::max(lx, ly), kmax = M_PI / s.dx / 2;
  const int shells = 48, per_shell = 8;
  std::vector<double> kx, ky, amp, phase, omega;
  double variance = 0;
  for (int sh = 0; sh < shells; ++sh) {
    const double k0 = kmin * std::pow(kmax / kmin, sh / double(shells));
    const double k1 = kmin * std::pow(kmax / kmin, (sh + 1) / double(shells));
    const double kc = std::sqrt(k0 * k1);
    const double energy = std::pow(kc, -s.spectral_slope) * (k1 - k0);
    for (int m = 0; m < per_shell; ++m) {
      const double theta = 2 * M_PI * uni(), kr = k0 + (k1 - k0) * uni();
      const double n = std::round(kr * std::cos(theta) * lx / (2 * M_PI));
      const double q = std::round(kr * std::sin(theta) * ly / (2 * M_PI));
      const double ph = 2 * M_PI * uni(), om = (uni() - 0.5) * 2e-4;
      if (n == 0 && q == 0) continue;
      kx.push_back(2 * M_PI * n / lx);
      ky.push_back(2 * M_PI * q / ly);
      amp.push_back(std::sqrt(2 * energy / per_shell));
      phase.push_back(ph);
      omega.push_back(om);
      variance += energy / per_shell;
    }
  }
  std::vector<double> xs(s.nx), ys(s.ny);
  for (int i = 0; i < s.nx; ++i) xs[i] = (i + 0.5) * s.dx;
  for (int j = 0; j < s.ny; ++j) ys[j] = (j + 0.5) * s.dx;
  const int n = s.nx * s.ny;
  kernels::SynthCloudAmount<Mem> f{device(kx, "synth_kx"),
                                   device(ky, "synth_ky"),
                                   device(amp, "synth_amp"),
                                   device(phase, "synth_phase"),
                                   device(omega, "synth_omega"),
                                   device(xs, "synth_x"),
                                   device(ys, "synth_y"),
                                   0.0,
                                   s.u,
                                   s.v,
                                   1.0,
                                   0.0,
                                   0.5,
                                   Kokkos::View<float*, Mem>("synth_cloud", n)};
  f.time_s = static_cast<double>(step) * static_cast<double>(s.dt);
  f.inv_sigma = 1.0 / std::sqrt(variance);
  f.threshold = upper_quantile(std::clamp(s.cloud_fraction, 1e-6, 1 - 1e-6));
  Kokkos::parallel_for("tiles::synth_cloud", Kokkos::RangePolicy<Exec>(0, n), f);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), f.cloud);
  return std::vector<float>(h.data(), h.data() + n);
}

std::vector<std::string> write_synthetic_les(const SyntheticLesSpec& s, const std::string& dir,
                                             MPI_Comm comm) {
  for (const auto& v : s.variables) {
    bool known = false;
    for (const auto& k : synthetic_les_variables()) known = known || k == v;
    FR_REQUIRE(known, "synthetic_les.variables: '", v,
               "' is not a variable the generator makes; allowed: rlut, lwp, cldmask");
  }
  const int nfiles = std::min(s.files, s.nt);
  std::vector<std::string> paths;
  for (int f = 0; f < nfiles; ++f) {
    char name[64];
    std::snprintf(name, sizeof name, "/les_synthetic_%03d.nc", f);
    paths.push_back(dir + name);
  }
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) ensure_directory(dir);
  });
  const int rank = mpi::rank(comm), size = mpi::size(comm);
  all_ranks_agree(comm, [&] {
    for (int f = rank; f < nfiles; f += size) {
      if (output_complete(paths[f])) continue;
      const int t0 = f * s.nt / nfiles, t1 = (f + 1) * s.nt / nfiles;
      AtomicOutput out(paths[f], MPI_COMM_SELF);
      io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::offset64);
      const bool latlon = s.coordinates == "latlon";
      const std::string xn = latlon ? "lon" : "x", yn = latlon ? "lat" : "y";
      w.define_dimension("time", t1 - t0);
      w.define_dimension(yn, s.ny);
      w.define_dimension(xn, s.nx);
      w.define_variable("time", io::NcType::float64, {"time"});
      w.put_attribute("time", "units", "seconds since " + iso_datetime(s.t_start));
      w.put_attribute("time", "calendar", "standard");
      w.put_attribute("time", "standard_name", "time");
      w.define_variable(xn, io::NcType::float64, {xn});
      w.define_variable(yn, io::NcType::float64, {yn});
      w.put_attribute(xn, "units", latlon ? "degrees_east" : "m");
      w.put_attribute(yn, "units", latlon ? "degrees_north" : "m");
      for (const auto& v : s.variables) {
        w.define_variable(v, io::NcType::float32, {"time", yn, xn});
        w.put_attribute(v, "units", v == "rlut" ? "W m-2" : v == "lwp" ? "kg m-2" : "1");
        w.put_attribute(v, "long_name",
                        v == "rlut"  ? "top-of-atmosphere outgoing longwave flux"
                        : v == "lwp" ? "liquid water path"
                                     : "cloud mask");
        if (v == "rlut") w.put_attribute(v, "standard_name", "toa_outgoing_longwave_flux");
      }
      w.put_attribute("", "title", "fluxrecon synthetic LES-like cloud fields");
      w.put_attribute("", "spectral_slope", io::NcType::float64, {s.spectral_slope});
      w.put_attribute("", "seed", io::NcType::float64, {static_cast<double>(s.seed)});
      w.end_definitions();
      std::vector<double> xs(s.nx), ys(s.ny), times;
      for (int i = 0; i < s.nx; ++i)
        xs[i] = latlon ? s.central_longitude +
                             (i - s.nx / 2.0 + 0.5) * s.dx /
                                 (kMetresPerDegree * std::cos(s.central_latitude * M_PI / 180))
                       : (i + 0.5) * s.dx;
      for (int j = 0; j < s.ny; ++j)
        ys[j] = latlon ? s.central_latitude + (j - s.ny / 2.0 + 0.5) * s.dx / kMetresPerDegree
                       : (j + 0.5) * s.dx;
      for (int t = t0; t < t1; ++t)
        times.push_back(static_cast<double>(t) * static_cast<double>(s.dt));
      w.write("time", {0}, {t1 - t0}, times.data());
      w.write(xn, {0}, {s.nx}, xs.data());
      w.write(yn, {0}, {s.ny}, ys.data());
      for (int t = t0; t < t1; ++t) {
        const auto c = synthetic_cloud_amount(s, t);
        std::vector<float> field(c.size());
        for (const auto& v : s.variables) {
          for (size_t k = 0; k < c.size(); ++k)
            field[k] = v == "rlut"  ? 290.0f - 70.0f * c[k]
                       : v == "lwp" ? 0.3f * c[k] * c[k]
                                    : (c[k] > 0 ? 1.0f : 0.0f);
          w.write(v, {t - t0, 0, 0}, {1, s.ny, s.nx}, field.data());
        }
      }
      w.close();
      out.commit();
    }
  });
  MPI_Barrier(comm);
  log::info("tiles: synthetic LES source files in ", dir, " (", nfiles, " file(s), ", s.nt,
            " steps of ", s.nx, " x ", s.ny, ")");
  return paths;
}

}  // namespace fluxrecon::tiles
