// Reconstruction caches written here with the project's netCDF writer in the
// cache layout are read back by rank blocks: values, fill, units, time axis,
// metrics, and every layout error named.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analysis/cache_reader.hpp"
#include "analysis/metrics.hpp"
#include "core/error.hpp"
#include "data/grid.hpp"
#include "io/nc_writer.hpp"
#include "support/error_text.hpp"
#include "support/mpi_test_util.hpp"

namespace fa = fluxrecon::analysis;
namespace io = fluxrecon::io;

namespace {

constexpr int kNy = 9, kNx = 14;
constexpr float kFill = 1.0e20f;

struct CacheSpec {
  int year = 2016;
  int months = 12;
  std::string units = "mol m-2 s-1";
  std::string rec_units = "";  // "" = the same as units
  bool swap_months = false;    // time steps 2 and 3 exchanged
  float scale = 1.0f;          // stored value = physical (mol m-2 s-1) x scale
  std::string model = "lstm";
  float lat_shift = 0.0f;  // another grid
};

double lat_of(int j) { return -60.0 + 120.0 * j / (kNy - 1); }
double lon_of(int i) { return -170.0 + 340.0 * i / (kNx - 1); }
bool land(int j, int i) { return j == 4 && i >= 3 && i <= 6; }
double sim_of(int m, int j, int i) { return 1e-8 * (std::sin(0.4 * j + 0.3 * i) + 0.3 * m); }
double rec_of(int m, int j, int i) { return 0.9 * sim_of(m, j, i) + 1e-9 * std::cos(i + m); }

std::pair<int, int> my_rows() {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int b = kNy * rank / size, e = kNy * (rank + 1) / size;
  return {b, e - b};
}

void write_cache(const std::string& path, const CacheSpec& s) {
  io::NcWriter w(path, MPI_COMM_WORLD, io::WriteFormat::cdf5);
  w.define_dimension("time", s.months);
  w.define_dimension("y", kNy);
  w.define_dimension("x", kNx);
  w.define_variable("time_counter", io::NcType::float64, {"time"});
  w.put_attribute("time_counter", "units", "days since " + std::to_string(s.year) + "-01-01");
  w.put_attribute("time_counter", "calendar", "proleptic_gregorian");
  for (const char* v : {"nav_lat", "nav_lon"})
    w.define_variable(v, io::NcType::float32, {"y", "x"});
  const std::string rec_units = s.rec_units.empty() ? s.units : s.rec_units;
  for (const char* v : {"co2flux_simulated", "co2flux_reconstructed"}) {
    w.define_variable(v, io::NcType::float32, {"time", "y", "x"});
    w.put_attribute(v, "units", std::string(v) == "co2flux_simulated" ? s.units : rec_units);
    w.put_attribute(v, "_FillValue", io::NcType::float32, {kFill});
  }
  w.put_attribute("", "model", s.model);
  w.put_attribute("", "experiment", "experiment_1");
  w.put_attribute("", "region", "north_atlantic");
  w.put_attribute("", "year", io::NcType::int32, {static_cast<double>(s.year)});
  w.put_attribute("", "model_file", "/models/lstm.h5");
  w.put_attribute("", "model_file_checksum", "fnv1a64:0123456789abcdef");
  w.put_attribute("", "software", "fluxrecon test");
  w.end_definitions();

  const auto [begin, rows] = my_rows();
  const int mine = begin == 0 ? s.months : 0;  // rank 0 writes the 1-D axis
  std::vector<double> t;
  const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  double start = 0;
  for (int m = 0; m < s.months; ++m) {
    t.push_back(start + days[m] / 2.0);
    start += days[m];
  }
  if (s.swap_months) std::swap(t[1], t[2]);
  w.write("time_counter", {0}, {mine}, t.data());
  std::vector<float> lat, lon, sim, rec;
  for (int j = begin; j < begin + rows; ++j)
    for (int i = 0; i < kNx; ++i) {
      lat.push_back(static_cast<float>(lat_of(j)) + s.lat_shift);
      lon.push_back(static_cast<float>(lon_of(i)));
    }
  for (int m = 0; m < s.months; ++m)
    for (int j = begin; j < begin + rows; ++j)
      for (int i = 0; i < kNx; ++i) {
        sim.push_back(land(j, i) ? kFill : static_cast<float>(sim_of(m, j, i) * s.scale));
        rec.push_back(land(j, i) ? kFill : static_cast<float>(rec_of(m, j, i) * s.scale));
      }
  w.write("nav_lat", {begin, 0}, {rows, kNx}, lat.data());
  w.write("nav_lon", {begin, 0}, {rows, kNx}, lon.data());
  w.write("co2flux_simulated", {0, begin, 0}, {s.months, rows, kNx}, sim.data());
  w.write("co2flux_reconstructed", {0, begin, 0}, {s.months, rows, kNx}, rec.data());
  w.close();
}

std::string error_of(const std::function<void()>& f) { return test_util::error_of_call(f); }

}  // namespace

TEST(AnalysisCacheReader, ReadsBlocksOfACache) {
  const auto dir = test_util::shared_temp_dir("cache_reader");
  const std::string path = dir + "/lstm_north_atlantic_experiment_1_2016.nc";
  write_cache(path, {});
  const auto [begin, rows] = my_rows();
  const fa::CacheBlock b = fa::read_cache_block(path, begin, rows, MPI_COMM_WORLD);
  EXPECT_EQ(b.info.model, "lstm");
  EXPECT_EQ(b.info.region, "north_atlantic");
  EXPECT_EQ(b.info.experiment, "experiment_1");
  EXPECT_EQ(b.info.year, 2016);
  EXPECT_EQ(b.info.ny, kNy);
  EXPECT_EQ(b.info.nx, kNx);
  EXPECT_EQ(b.info.model_file_checksum, "fnv1a64:0123456789abcdef");
  EXPECT_DOUBLE_EQ(b.info.month_seconds[1], 29 * 86400.0);       // leap year
  ASSERT_EQ(b.lat.size(), static_cast<std::size_t>(kNy * kNx));  // the whole grid
  EXPECT_FLOAT_EQ(b.lat[(kNy - 1) * kNx], static_cast<float>(lat_of(kNy - 1)));
  ASSERT_EQ(b.simulated.size(), static_cast<std::size_t>(12 * rows * kNx));
  for (int m = 0; m < 12; ++m)
    for (int j = 0; j < rows; ++j)
      for (int i = 0; i < kNx; ++i) {
        const float s = b.simulated[(m * rows + j) * kNx + i];
        const float r = b.reconstructed[(m * rows + j) * kNx + i];
        if (land(begin + j, i)) {
          EXPECT_TRUE(std::isnan(s) && std::isnan(r)) << "fill must read as NaN";
        } else {
          EXPECT_FLOAT_EQ(s, static_cast<float>(sim_of(m, begin + j, i)));
          EXPECT_FLOAT_EQ(r, static_cast<float>(rec_of(m, begin + j, i)));
        }
      }

  // Metrics from the cache equal metrics from the same numbers directly.
  const auto area_all = fluxrecon::data::cell_areas_from_centres(b.lat, b.lon, kNy, kNx);
  std::vector<double> area(area_all.begin() + begin * kNx, area_all.begin() + (begin + rows) * kNx);
  const fa::Metrics got =
      fa::metrics_of(fa::total(fa::reduce_year(fa::flux_block(b, area), MPI_COMM_WORLD, path)));
  double w = 0, se2 = 0;
  for (int m = 0; m < 12; ++m)
    for (int j = 0; j < kNy; ++j)
      for (int i = 0; i < kNx; ++i) {
        if (land(j, i)) continue;
        const double e = static_cast<double>(static_cast<float>(rec_of(m, j, i))) -
                         static_cast<double>(static_cast<float>(sim_of(m, j, i)));
        w += area_all[j * kNx + i];
        se2 += area_all[j * kNx + i] * e * e;
      }
  EXPECT_NEAR(got.rmse, std::sqrt(se2 / w), 1e-9 * std::sqrt(se2 / w));
  EXPECT_EQ(got.count, 12 * (kNy * kNx - 4));
}

TEST(AnalysisCacheReader, ConvertsUnitsToMolPerSquareMetrePerSecond) {
  const auto dir = test_util::shared_temp_dir("cache_units");
  const std::string path = dir + "/units.nc";
  CacheSpec spec;
  spec.units = "mmol m-2 d-1";
  spec.scale = static_cast<float>(1e3 * 86400.0);
  write_cache(path, spec);
  const auto [begin, rows] = my_rows();
  const fa::CacheBlock b = fa::read_cache_block(path, begin, rows, MPI_COMM_WORLD);
  const int i = 1, j = 0;
  EXPECT_NEAR(b.simulated[j * kNx + i], sim_of(0, begin + j, i),
              1e-6 * std::abs(sim_of(0, begin, i)));

  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("mol m-2 s-1", "x"), 1.0);
  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("mol/m2/s", "x"), 1.0);
  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("mol m^-2 s^-1", "x"), 1.0);
  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("mmol m-2 d-1", "x"), 1e-3 / 86400.0);
  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("mol m-2 yr-1", "x"), 1.0 / (365.25 * 86400.0));
  EXPECT_DOUBLE_EQ(fa::flux_units_to_mol_m2_s("kg C m-2 s-1", "x"), 1000.0 / 12.011);
  EXPECT_NE(error_of([] { fa::flux_units_to_mol_m2_s("K", "cache 'a.nc'"); }).find("'K'"),
            std::string::npos);
  EXPECT_NE(error_of([] { fa::flux_units_to_mol_m2_s("mol m-3 s-1", "v"); }).find("per m-2"),
            std::string::npos);
}

TEST(AnalysisCacheReader, LayoutErrorsNameTheFile) {
  const auto dir = test_util::shared_temp_dir("cache_bad");
  // Not a structured binding: the lambda below captures them (C++17).
  const auto my_part = my_rows();
  const auto begin = my_part.first;
  const auto rows = my_part.second;
  auto check = [&](const std::string& name, const CacheSpec& spec, const std::string& expect) {
    const std::string path = dir + "/" + name;
    write_cache(path, spec);
    const std::string e =
        error_of([&] { fa::read_cache_block(path, begin, rows, MPI_COMM_WORLD); });
    EXPECT_NE(e.find(name), std::string::npos) << e;
    EXPECT_NE(e.find(expect), std::string::npos) << e;
  };
  CacheSpec eleven;
  eleven.months = 11;
  check("eleven.nc", eleven, "12 months");
  CacheSpec swapped;
  swapped.swap_months = true;
  check("swapped.nc", swapped, "expected month 2 of 2016");
  CacheSpec kelvin;
  kelvin.units = "K";
  check("kelvin.nc", kelvin, "units 'K'");
  CacheSpec mixed;
  mixed.rec_units = "mmol m-2 d-1";
  check("mixed.nc", mixed, "co2flux_reconstructed in 'mmol m-2 d-1'");
  const std::string path = dir + "/good.nc";
  write_cache(path, {});
  EXPECT_NE(error_of([&] {
              fa::read_cache_block(path, 0, kNy + 1, MPI_COMM_WORLD);
            }).find("outside its 9 rows"),
            std::string::npos);
}

TEST(AnalysisCacheReader, CellAreasMatchTheSphere) {
  // A regular 1-degree grid between 60S and 60N: each cell against
  // R^2 dlon (sin lat2 - sin lat1), and the band's total area.
  const int ny = 120, nx = 360;
  std::vector<float> lat, lon;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      lat.push_back(static_cast<float>(-59.5 + j));
      lon.push_back(static_cast<float>(0.5 + i));
    }
  const auto area = fluxrecon::data::cell_areas_from_centres(lat, lon, ny, nx);
  const double r = 6371229.0, d = M_PI / 180.0;
  double total = 0;
  for (int j = 0; j < ny; ++j) {
    const double exact = r * r * d * (std::sin((-59.0 + j) * d) - std::sin((-60.0 + j) * d));
    EXPECT_NEAR(area[j * nx + 17], exact, 2e-4 * exact) << "row " << j;
    for (int i = 0; i < nx; ++i) total += area[j * nx + i];
  }
  const double band = 2 * M_PI * r * r * 2 * std::sin(60 * d);
  EXPECT_NEAR(total, band, 2e-4 * band);
  EXPECT_NE(error_of([&] {
              fluxrecon::data::cell_areas_from_centres(lat, lon, ny, nx + 1);
            }).find("grid"),
            std::string::npos);
}

TEST(AnalysisCacheReader, IndexesCachesAndNamesMissingYearsAndMixedGrids) {
  const auto dir = test_util::shared_temp_dir("cache_index");
  CacheSpec spec;
  for (int year : {2016, 2018}) {
    spec.year = year;
    write_cache(dir + "/lstm_north_atlantic_experiment_1_" + std::to_string(year) + ".nc", spec);
  }
  spec.model = "mlp";
  spec.year = 2017;
  write_cache(dir + "/mlp_north_atlantic_experiment_1_2017.nc", spec);
  const auto sets = fa::index_caches(dir, MPI_COMM_WORLD);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].model, "lstm");
  EXPECT_EQ(sets[0].years.size(), 2u);
  EXPECT_EQ(sets[1].model, "mlp");
  EXPECT_EQ(sets[0].years.at(2016).grid_checksum, sets[1].years.at(2017).grid_checksum);
  EXPECT_EQ(fa::missing_years(sets[0], 2016, 2018), std::vector<int>{2017});
  EXPECT_TRUE(fa::missing_years(sets[1], 2017, 2017).empty());
  const std::string missing = error_of([&] { fa::require_years(sets[0], 2015, 2018, dir); });
  EXPECT_NE(missing.find("2 of the years 2015-2018 are missing: 2015, 2017"), std::string::npos)
      << missing;
  EXPECT_NE(missing.find("model lstm"), std::string::npos) << missing;

  // The same model, region, experiment and year twice.
  spec.model = "lstm";
  spec.year = 2016;
  write_cache(dir + "/copy_of_2016.nc", spec);
  EXPECT_NE(error_of([&] { fa::index_caches(dir, MPI_COMM_WORLD); }).find("both hold"),
            std::string::npos);
  std::filesystem::path copy(dir + "/copy_of_2016.nc");
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) std::filesystem::remove(copy);
  MPI_Barrier(MPI_COMM_WORLD);

  // Another grid of the same size.
  spec.year = 2019;
  spec.lat_shift = 0.5f;
  write_cache(dir + "/lstm_north_atlantic_experiment_1_2019.nc", spec);
  const std::string grids = error_of([&] { fa::index_caches(dir, MPI_COMM_WORLD); });
  EXPECT_NE(grids.find("different grids"), std::string::npos) << grids;
  EXPECT_NE(grids.find("_2019.nc"), std::string::npos) << grids;

  const auto empty = test_util::shared_temp_dir("cache_index_empty");
  EXPECT_NE(error_of([&] { fa::index_caches(empty, MPI_COMM_WORLD); }).find("holds no caches"),
            std::string::npos);
}
