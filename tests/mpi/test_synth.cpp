// The synthetic testbed generator, run at 1 and 2 ranks: files read back with
// plain PnetCDF on rank 0 (independent of the project's reader) and checked
// for layout, metadata, determinism, rank independence, physical sanity,
// rerun/force behaviour and the ORCA halo.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/synth.hpp"
#include "kernels/synth_ocean.hpp"

namespace {

namespace fs = std::filesystem;
using fluxrecon::data::generate_testbed;
using fluxrecon::data::SynthOptions;
using fluxrecon::data::SynthSummary;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// A directory all ranks share, removed at the end.
class SharedTempDir {
 public:
  SharedTempDir() {
    char buffer[4096] = {0};
    if (world_rank() == 0) {
      std::string pattern = (fs::temp_directory_path() / "fluxrecon_synth_XXXXXX").string();
      if (mkdtemp(pattern.data()) != nullptr) pattern.copy(buffer, sizeof(buffer) - 1);
    }
    MPI_Bcast(buffer, sizeof(buffer), MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = buffer;
    if (path_.empty()) throw std::runtime_error("cannot create a temporary directory");
  }
  ~SharedTempDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    std::error_code ec;
    if (world_rank() == 0) fs::remove_all(path_, ec);
  }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Rank-local PnetCDF reader (MPI_COMM_SELF).
class NcFile {
 public:
  explicit NcFile(const std::string& path) : path_(path) {
    check(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &id_), "open");
  }
  ~NcFile() { ncmpi_close(id_); }
  NcFile(const NcFile&) = delete;
  NcFile& operator=(const NcFile&) = delete;

  std::vector<std::string> variables() const {
    int n = 0;
    check(ncmpi_inq_nvars(id_, &n), "nvars");
    std::vector<std::string> names;
    for (int v = 0; v < n; ++v) {
      char name[NC_MAX_NAME + 1] = {0};
      check(ncmpi_inq_varname(id_, v, name), "varname");
      names.emplace_back(name);
    }
    return names;
  }
  std::int64_t dimension(const std::string& name) const {
    int d = 0;
    MPI_Offset length = 0;
    check(ncmpi_inq_dimid(id_, name.c_str(), &d), "dimid " + name);
    check(ncmpi_inq_dimlen(id_, d, &length), "dimlen " + name);
    return length;
  }
  // Any numeric variable as doubles (exact for float and byte).
  std::vector<double> values(const std::string& name) const {
    const int v = var(name);
    int ndims = 0;
    check(ncmpi_inq_varndims(id_, v, &ndims), "ndims");
    std::vector<int> dims(static_cast<size_t>(ndims));
    check(ncmpi_inq_vardimid(id_, v, dims.data()), "dimids");
    size_t count = 1;
    for (int d : dims) {
      MPI_Offset length = 0;
      check(ncmpi_inq_dimlen(id_, d, &length), "dimlen");
      count *= static_cast<size_t>(length);
    }
    std::vector<double> out(count);
    check(ncmpi_get_var_double_all(id_, v, out.data()), "read " + name);
    return out;
  }
  std::string text(const std::string& variable, const std::string& name) const {
    const int v = variable.empty() ? NC_GLOBAL : var(variable);
    MPI_Offset length = 0;
    check(ncmpi_inq_attlen(id_, v, name.c_str(), &length), "attlen " + name);
    std::string out(static_cast<size_t>(length), '\0');
    check(ncmpi_get_att_text(id_, v, name.c_str(), out.data()), "att " + name);
    return out;
  }
  double number(const std::string& variable, const std::string& name) const {
    const int v = variable.empty() ? NC_GLOBAL : var(variable);
    double out = 0;
    check(ncmpi_get_att_double(id_, v, name.c_str(), &out), "att " + name);
    return out;
  }
  int format() const {
    int f = 0;
    check(ncmpi_inq_format(id_, &f), "format");
    return f;
  }

 private:
  int var(const std::string& name) const {
    int v = 0;
    check(ncmpi_inq_varid(id_, name.c_str(), &v), "varid " + name);
    return v;
  }
  void check(int status, const std::string& what) const {
    if (status != NC_NOERR)
      throw std::runtime_error(path_ + ": " + what + ": " + ncmpi_strerror(status));
  }
  std::string path_;
  int id_ = -1;
};

const std::vector<std::string> kFields = {
    "SST",           "SAL",        "ice_frac", "mixed_layer_depth", "heat_flux_down",
    "water_flux_up", "stress_X",   "stress_Y", "currents_X",        "currents_Y",
    "co2flux",       "wind_speed", "pco2_sw",  "pco2_air"};

SynthOptions small(const std::string& dir) {
  SynthOptions o;
  o.out_dir = dir;
  o.nx = 36;
  o.ny = 18;
  o.first_year = 1990;
  o.last_year = 1991;
  o.experiments = {{"experiment_1", 1.0}};
  return o;
}

// Every variable of `a` equals the one of `b`, value by value.
void expect_identical(const std::string& a, const std::string& b) {
  NcFile fa(a), fb(b);
  ASSERT_EQ(fa.variables(), fb.variables());
  for (const auto& name : fa.variables()) {
    const auto va = fa.values(name), vb = fb.values(name);
    ASSERT_EQ(va.size(), vb.size()) << name;
    size_t differ = 0;
    for (size_t k = 0; k < va.size(); ++k) differ += va[k] != vb[k];
    EXPECT_EQ(differ, 0u) << name << " differs between " << a << " and " << b;
  }
}

TEST(SynthKernel, GeographyNoiseAndAtmosphericCO2) {
  namespace ks = fluxrecon::kernels::synth;
  // Open oceans and continents where they should be.
  EXPECT_TRUE(ks::is_ocean(0, -140));    // equatorial Pacific
  EXPECT_TRUE(ks::is_ocean(30, -40));    // subtropical North Atlantic
  EXPECT_TRUE(ks::is_ocean(-30, 80));    // Indian Ocean
  EXPECT_TRUE(ks::is_ocean(-55, 0));     // Southern Ocean
  EXPECT_FALSE(ks::is_ocean(45, 100));   // Asia
  EXPECT_FALSE(ks::is_ocean(40, -100));  // North America
  EXPECT_FALSE(ks::is_ocean(-10, -60));  // South America
  EXPECT_FALSE(ks::is_ocean(5, 20));     // Africa
  EXPECT_FALSE(ks::is_ocean(-25, 134));  // Australia
  EXPECT_FALSE(ks::is_ocean(-80, 0));    // Antarctica
  // Mauna Loa-like atmosphere.
  EXPECT_NEAR(ks::atmospheric_pco2(1958.5), 315.0, 2.0);
  EXPECT_NEAR(ks::atmospheric_pco2(2018.5), 405.0, 3.0);
  EXPECT_LT(ks::ocean_pco2_offset(2018.5), ks::ocean_pco2_offset(1958.5));
  // Value noise: about zero mean, unit variance, smooth, periodic in longitude.
  double sum = 0, sum2 = 0;
  int count = 0;
  for (double lat = -89; lat < 90; lat += 1.7)
    for (double lon = -180; lon < 180; lon += 1.9, ++count) {
      const double v = ks::value_noise(123, lat, lon, 10.0);
      sum += v;
      sum2 += v * v;
    }
  EXPECT_NEAR(sum / count, 0.0, 0.15);
  EXPECT_NEAR(std::sqrt(sum2 / count), 1.0, 0.25);
  EXPECT_NEAR(ks::value_noise(7, 10, -179.999, 10.0), ks::value_noise(7, 10, 180.0, 10.0), 1e-3);
  EXPECT_NE(ks::month_key(42, ks::stream_sst, 1990, 0), ks::month_key(43, ks::stream_sst, 1990, 0));
  EXPECT_NE(ks::month_key(42, ks::stream_sst, 1990, 0), ks::month_key(42, ks::stream_sst, 1990, 1));
}

TEST(Synth, WritesNemoStyleFilesWithMetadata) {
  SharedTempDir dir;
  for (const std::string format : {"cdf5", "64bit_offset"}) {
    SynthOptions o = small(dir.sub(format));
    o.first_year = o.last_year = 1958;
    o.format = format;
    o.seed = 7;
    const SynthSummary s = generate_testbed(o, MPI_COMM_WORLD);
    ASSERT_EQ(s.files_written.size(), 1u);
    const std::string path = dir.sub(format) + "/testbed_experiment_1_1958.nc";
    EXPECT_EQ(s.files_written[0], path);
    EXPECT_GT(s.bytes_written, 14u * 12 * 36 * 18 * 4);
    ASSERT_EQ(s.global_flux.size(), 1u);
    EXPECT_TRUE(s.global_flux[0].written);
    if (world_rank() != 0) continue;
    NcFile f(path);
    EXPECT_EQ(f.format(), format == "cdf5" ? NC_FORMAT_CDF5 : NC_FORMAT_CDF2);
    EXPECT_EQ(f.dimension("time"), 12);
    EXPECT_EQ(f.dimension("y"), 18);
    EXPECT_EQ(f.dimension("x"), 36);
    for (const auto& name : kFields) {
      EXPECT_FALSE(f.text(name, "units").empty()) << name;
      EXPECT_FALSE(f.text(name, "standard_name").empty()) << name;
      EXPECT_FALSE(f.text(name, "long_name").empty()) << name;
      EXPECT_FLOAT_EQ(static_cast<float>(f.number(name, "_FillValue")), 1e20f) << name;
    }
    EXPECT_EQ(f.text("co2flux", "units"), "mol m-2 s-1");
    EXPECT_EQ(f.text("co2flux", "sign_convention"), "positive out of the ocean");
    EXPECT_EQ(f.text("SST", "units"), "degC");
    EXPECT_EQ(f.text("time_counter", "units"), "days since 1958-01-01 00:00:00");
    EXPECT_EQ(f.text("time_counter", "calendar"), "standard");
    EXPECT_EQ(f.text("", "experiment"), "experiment_1");
    EXPECT_EQ(f.text("", "seed"), "7");
    EXPECT_EQ(f.text("", "software_version"), FLUXRECON_VERSION);
    EXPECT_EQ(f.number("", "year"), 1958);
    // Mid-month times: 15.5 (Jan), 45 (Feb 1958 has 28 days), ... 349.5 (Dec).
    const auto t = f.values("time_counter");
    EXPECT_DOUBLE_EQ(t[0], 15.5);
    EXPECT_DOUBLE_EQ(t[1], 45.0);
    EXPECT_DOUBLE_EQ(t[11], 349.5);
    const auto lon = f.values("nav_lon"), lat = f.values("nav_lat");
    EXPECT_DOUBLE_EQ(lon[0], -175.0);
    EXPECT_DOUBLE_EQ(lon[35], 175.0);
    EXPECT_DOUBLE_EQ(lat[0], -85.0);
    EXPECT_DOUBLE_EQ(lat[17 * 36], 85.0);
  }
}

TEST(Synth, DeterministicForSeedAndIndependentOfRankCount) {
  SharedTempDir dir;
  const auto a = generate_testbed(small(dir.sub("a")), MPI_COMM_WORLD);
  const auto b = generate_testbed(small(dir.sub("b")), MPI_COMM_WORLD);
  SynthOptions other = small(dir.sub("other_seed"));
  other.seed = 43;
  generate_testbed(other, MPI_COMM_WORLD);
  ASSERT_EQ(a.global_flux.size(), 2u);
  EXPECT_EQ(a.global_flux[1].pgc_per_year, b.global_flux[1].pgc_per_year);
  if (world_rank() == 0) {
    // The same files from this rank alone: no dependence on the decomposition.
    const auto alone = generate_testbed(small(dir.sub("alone")), MPI_COMM_SELF);
    EXPECT_NEAR(alone.global_flux[1].pgc_per_year, a.global_flux[1].pgc_per_year, 1e-9);
    for (int year : {1990, 1991}) {
      const std::string name = "/testbed_experiment_1_" + std::to_string(year) + ".nc";
      expect_identical(dir.sub("a") + name, dir.sub("b") + name);
      expect_identical(dir.sub("a") + name, dir.sub("alone") + name);
      NcFile fa(dir.sub("a") + name), fo(dir.sub("other_seed") + name);
      EXPECT_EQ(fa.values("tmask"), fo.values("tmask"))
          << "the planet does not change with the seed";
      for (const std::string field : {"SST", "co2flux", "mixed_layer_depth", "stress_X"})
        EXPECT_NE(fa.values(field), fo.values(field)) << field << " ignores the seed";
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Area-weighted mean of `field` in month m over ocean points with
// lat_lo <= lat < lat_hi.
double band_mean(const std::vector<double>& field, const std::vector<double>& lat,
                 const std::vector<double>& area, const std::vector<double>& mask, int month,
                 double lat_lo, double lat_hi) {
  const size_t n = lat.size();
  double sum = 0, weight = 0;
  for (size_t p = 0; p < n; ++p) {
    if (mask[p] == 0 || lat[p] < lat_lo || lat[p] >= lat_hi) continue;
    sum += field[month * n + p] * area[p];
    weight += area[p];
  }
  return weight > 0 ? sum / weight : NAN;
}

TEST(Synth, DefaultGridIsPhysicallySane) {
  SharedTempDir dir;
  SynthOptions o;  // the default 4-degree testbed, both experiments
  o.out_dir = dir.sub("default");
  o.first_year = o.last_year = 1958;
  const SynthSummary s = generate_testbed(o, MPI_COMM_WORLD);
  ASSERT_EQ(s.files_written.size(), 2u);
  SynthOptions late = o;
  late.first_year = late.last_year = 2018;
  const SynthSummary s2018 = generate_testbed(late, MPI_COMM_WORLD);
  for (const auto* summary : {&s, &s2018}) {
    for (const auto& f : summary->global_flux) {
      EXPECT_GE(f.pgc_per_year, -3.0) << f.experiment << " " << f.year;
      EXPECT_LE(f.pgc_per_year, -1.5) << f.experiment << " " << f.year;
    }
  }
  EXPECT_LT(s2018.global_flux[0].pgc_per_year, s.global_flux[0].pgc_per_year)
      << "uptake grows with atmospheric CO2";
  if (world_rank() != 0) return;

  NcFile f(o.out_dir + "/testbed_experiment_1_1958.nc");
  const auto lat = f.values("nav_lat"), mask = f.values("tmask");
  const auto e1t = f.values("e1t"), e2t = f.values("e2t");
  const size_t n = lat.size();
  ASSERT_EQ(n, 90u * 45u);
  std::vector<double> area(n), ocean_only(n, 1.0);
  double total = 0, land = 0;
  for (size_t p = 0; p < n; ++p) {
    area[p] = e1t[p] * e2t[p];
    total += area[p];
    if (mask[p] == 0) land += area[p];
  }
  const double r = fluxrecon::data::earth_radius_m;
  EXPECT_NEAR(total / (4.0 * 3.14159265358979323846 * r * r), 1.0, 1e-3);
  EXPECT_GE(land / total, 0.28);
  EXPECT_LE(land / total, 0.35);

  std::map<std::string, std::vector<double>> v;
  for (const auto& name : kFields) v[name] = f.values(name);
  // Fill values exactly on land, finite physical values in the ocean.
  for (const auto& name : kFields) {
    size_t bad = 0;
    for (int m = 0; m < 12; ++m)
      for (size_t p = 0; p < n; ++p) {
        const double x = v[name][m * n + p];
        bad += mask[p] == 0 ? x != static_cast<double>(1e20f) : !(std::fabs(x) < 1e6);
      }
    EXPECT_EQ(bad, 0u) << name;
  }
  auto mean = [&](const std::string& name, int month, double lo, double hi) {
    return band_mean(v[name], lat, area, mask, month, lo, hi);
  };
  const int feb = 1, mar = 2, aug = 7, sep = 8;
  // Seasons in the right hemisphere: SST warmer in Aug in the north, in Feb in the south.
  EXPECT_GT(mean("SST", aug, 20, 60), mean("SST", feb, 20, 60) + 3.0);
  EXPECT_GT(mean("SST", feb, -60, -20), mean("SST", aug, -60, -20) + 2.0);
  EXPECT_GT(mean("SST", 0, -10, 10), 25.0);
  // Ice only poleward of 55 degrees, more in local winter.
  double ice_low = 0;
  for (int m = 0; m < 12; ++m)
    for (size_t p = 0; p < n; ++p)
      if (mask[p] && std::fabs(lat[p]) < 55.0)
        ice_low = std::max(ice_low, v["ice_frac"][m * n + p]);
  EXPECT_EQ(ice_low, 0.0);
  EXPECT_GT(mean("ice_frac", mar, 60, 90), mean("ice_frac", sep, 60, 90) + 0.1);
  EXPECT_GT(mean("ice_frac", sep, -90, -55), mean("ice_frac", mar, -90, -55) + 0.1);
  // Mixed layer deepest in late winter at 50-60 degrees.
  EXPECT_GT(mean("mixed_layer_depth", mar, 50, 60), 2.0 * mean("mixed_layer_depth", sep, 50, 60));
  EXPECT_GT(mean("mixed_layer_depth", sep, -60, -50),
            2.0 * mean("mixed_layer_depth", mar, -60, -50));
  // Heat into the ocean in summer, out in winter (northern mid-latitudes).
  EXPECT_GT(mean("heat_flux_down", 5, 30, 50), 20.0);
  EXPECT_LT(mean("heat_flux_down", 11, 30, 50), -50.0);
  // Evaporation wins in the subtropics; westerlies, trades and the ACC.
  double ep_subtropics = 0, taux_westerlies = 0, taux_trades = 0, u_acc = 0;
  for (int m = 0; m < 12; ++m) {
    ep_subtropics += mean("water_flux_up", m, 15, 30) / 12;
    taux_westerlies += mean("stress_X", m, -55, -40) / 12;
    taux_trades += mean("stress_X", m, 8, 20) / 12;
    u_acc += mean("currents_X", m, -60, -48) / 12;
  }
  EXPECT_GT(ep_subtropics, 0.0);
  EXPECT_GT(taux_westerlies, 0.05);
  EXPECT_LT(taux_trades, -0.02);
  EXPECT_GT(u_acc, 0.1);
  // The file's flux integrates to the summary's number.
  double mol = 0;
  const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 0; m < 12; ++m)
    for (size_t p = 0; p < n; ++p)
      if (mask[p]) mol += v["co2flux"][m * n + p] * area[p] * days[m] * 86400.0;
  EXPECT_NEAR(mol * 12.011e-15, s.global_flux[0].pgc_per_year, 1e-3);
  // pCO2 and flux agree in sign wherever there is open water.
  size_t sign_errors = 0;
  for (size_t k = 0; k < 12 * n; ++k) {
    if (mask[k % n] == 0 || v["ice_frac"][k] > 0.99) continue;
    const double dp = v["pco2_sw"][k] - v["pco2_air"][k];
    if (std::fabs(dp) > 0.01) sign_errors += (dp > 0) != (v["co2flux"][k] > 0);
  }
  EXPECT_EQ(sign_errors, 0u);
}

TEST(Synth, WindExperimentDiffersOnlyThroughTheWind) {
  SharedTempDir dir;
  SynthOptions o = small(dir.sub("wind"));
  o.last_year = 1990;
  o.experiments = {{"hind", 1.0}, {"wind", 1.1}};
  generate_testbed(o, MPI_COMM_WORLD);
  if (world_rank() != 0) return;
  NcFile hind(dir.sub("wind") + "/testbed_hind_1990.nc"),
      wind(dir.sub("wind") + "/testbed_wind_1990.nc");
  EXPECT_EQ(hind.values("SST"), wind.values("SST"));
  EXPECT_EQ(hind.values("pco2_air"), wind.values("pco2_air"));
  const auto u_hind = hind.values("wind_speed"), u_wind = wind.values("wind_speed");
  const auto mask = hind.values("tmask");
  for (size_t k = 0; k < u_hind.size(); ++k)
    if (mask[k % mask.size()]) {
      ASSERT_NEAR(u_wind[k] / u_hind[k], 1.1, 1e-5) << k;
    }
  EXPECT_NE(hind.values("mixed_layer_depth"), wind.values("mixed_layer_depth"));
  EXPECT_NE(hind.values("co2flux"), wind.values("co2flux"));
}

TEST(Synth, RerunSkipsCompleteFilesRecomputesStateAndForceRewrites) {
  SharedTempDir dir;
  const SynthOptions o = small(dir.sub("rerun"));
  const std::string y1990 = o.out_dir + "/testbed_experiment_1_1990.nc";
  const std::string y1991 = o.out_dir + "/testbed_experiment_1_1991.nc";
  ASSERT_EQ(generate_testbed(o, MPI_COMM_WORLD).files_written.size(), 2u);
  if (world_rank() == 0) fs::copy_file(y1991, o.out_dir + "/reference_1991.nc");
  const auto again = generate_testbed(o, MPI_COMM_WORLD);
  EXPECT_TRUE(again.files_written.empty());
  EXPECT_EQ(again.files_skipped.size(), 2u);
  // A lost later year is rewritten identically: the carbon state of the
  // complete year before it is recomputed, not taken from a fresh start.
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) fs::remove(y1991);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto repair = generate_testbed(o, MPI_COMM_WORLD);
  ASSERT_EQ(repair.files_written.size(), 1u);
  EXPECT_EQ(repair.files_written[0], y1991);
  EXPECT_EQ(repair.files_skipped.size(), 1u);
  if (world_rank() == 0) {
    expect_identical(y1991, o.out_dir + "/reference_1991.nc");
  }
  SynthOptions forced = o;
  forced.force = true;
  EXPECT_EQ(generate_testbed(forced, MPI_COMM_WORLD).files_written.size(), 2u);
  // No temporary files are left behind.
  if (world_rank() == 0) {
    for (const auto& entry : fs::directory_iterator(o.out_dir)) {
      EXPECT_EQ(entry.path().filename().string().find(".part"), std::string::npos) << entry.path();
    }
  }
}

TEST(Synth, OrcaHaloDuplicatesPointsOfThePlainGrid) {
  SharedTempDir dir;
  SynthOptions plain = small(dir.sub("plain"));
  plain.last_year = 1990;
  SynthOptions halo = plain;
  halo.out_dir = dir.sub("halo");
  halo.orca_halo = true;
  halo.nx = plain.nx + 2;
  halo.ny = plain.ny + 1;
  const auto sp = generate_testbed(plain, MPI_COMM_WORLD);
  const auto sh = generate_testbed(halo, MPI_COMM_WORLD);
  // Duplicated points are not counted twice.
  EXPECT_NEAR(sh.global_flux[0].pgc_per_year, sp.global_flux[0].pgc_per_year, 1e-9);
  if (world_rank() != 0) return;
  NcFile fp(plain.out_dir + "/testbed_experiment_1_1990.nc");
  NcFile fh(halo.out_dir + "/testbed_experiment_1_1990.nc");
  const int nx = halo.nx, ny = halo.ny, px = plain.nx, py = plain.ny;
  std::vector<std::string> names = kFields;
  for (const char* s : {"nav_lat", "nav_lon", "tmask", "e1t", "e2t"}) names.emplace_back(s);
  for (const auto& name : names) {
    const auto h = fh.values(name), p = fp.values(name);
    const int months = static_cast<int>(h.size() / (nx * ny));
    size_t wrong = 0;
    for (int m = 0; m < months; ++m) {
      auto H = [&](int j, int i) { return h[(static_cast<size_t>(m) * ny + j) * nx + i]; };
      for (int j = 0; j < ny; ++j) {
        wrong += H(j, 0) != H(j, nx - 2);  // cyclic halo, west
        wrong += H(j, nx - 1) != H(j, 1);  // cyclic halo, east
        if (j == ny - 1)
          for (int i = 0; i < nx; ++i) wrong += H(j, i) != H(ny - 2, nx - 1 - i);  // north fold
        else
          for (int i = 1; i < nx - 1; ++i)  // interior = the plain grid
            wrong += H(j, i) != p[(static_cast<size_t>(m) * py + j) * px + (i - 1)];
      }
    }
    EXPECT_EQ(wrong, 0u) << name;
  }
}

TEST(Synth, InvalidOptionsFailOnAllRanks) {
  SharedTempDir dir;
  auto expect_error = [&](SynthOptions o, const std::string& words) {
    try {
      generate_testbed(o, MPI_COMM_WORLD);
      ADD_FAILURE() << "no error for " << words;
    } catch (const fluxrecon::Error& e) {
      EXPECT_TRUE(e.collective()) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  SynthOptions o = small(dir.sub("bad"));
  o.nx = 2;
  expect_error(o, "nx = 2");
  o = small(dir.sub("bad"));
  o.format = "netcdf4";
  expect_error(o, "'netcdf4'");
  o = small(dir.sub("bad"));
  o.experiments = {{"a", 1.0}, {"a", 1.1}};
  expect_error(o, "given twice");
  o = small(dir.sub("bad"));
  o.first_year = 1992;
  expect_error(o, "1992..1991");
  o = small(dir.sub("bad"));
  o.experiments[0].wind_factor = 0.0;
  expect_error(o, "wind_factor");
  EXPECT_FALSE(fs::exists(dir.sub("bad")));
}

}  // namespace
