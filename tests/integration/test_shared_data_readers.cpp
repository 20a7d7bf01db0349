// The readers on the real data in ../shared/data: bling30 (64-bit offset,
// PnetCDF), the 3-year BLING file and the Takahashi 2009 climatology
// (netCDF-4, parallel HDF5). Each rank reads its own block of rows; totals
// are summed over ranks, so the results must not depend on the rank count.
// Every test skips, naming what is missing, when the data is absent.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/grid_file.hpp"
#include "io/time_axis.hpp"

namespace fluxrecon::io {
namespace {

namespace fs = std::filesystem;

const std::string kSharedData = FLUXRECON_SHARED_DATA;
const std::string kBling30Year1958 = kSharedData + "/bling30/bling_2p8deg_1958.nc";
const std::string kBling3Years = kSharedData + "/bling/mitgcm_bling_2p8deg_3yr_monthly_surface.nc";
const std::string kTakahashi = kSharedData + "/takahashi09";

#define SKIP_UNLESS_EXISTS(path)                                                \
  do {                                                                          \
    if (!fs::exists(path)) GTEST_SKIP() << "shared data not found: " << (path); \
  } while (0)

// Rows [0, rows) split into contiguous blocks, one per rank.
std::pair<std::int64_t, std::int64_t> row_block(std::int64_t rows) {
  const std::int64_t rank = mpi::rank(), size = mpi::size();
  const std::int64_t begin = rows * rank / size, end = rows * (rank + 1) / size;
  return {begin, end - begin};
}

std::vector<double> read_all(GridFile& file, const std::string& name) {
  const auto& info = file.variable(name);
  std::vector<double> values(static_cast<std::size_t>(info.shape.at(0)));
  file.read(name, {0}, info.shape, values.data());
  return values;
}

TEST(SharedDataReaders, Bling30ShapesMaskAndLandFill) {
  SKIP_UNLESS_EXISTS(kBling30Year1958);
  const auto file = GridFile::open(kBling30Year1958, MPI_COMM_WORLD);
  EXPECT_EQ(file->format(), Format::cdf2_offset64);
  EXPECT_EQ(file->dimension_length("time"), 12);
  EXPECT_EQ(file->dimension_length("y"), 64);
  EXPECT_EQ(file->dimension_length("x"), 128);
  EXPECT_EQ(file->variable("SST").shape, (std::vector<std::int64_t>{12, 64, 128}));
  EXPECT_EQ(file->variable("tmask").type, "byte");
  EXPECT_EQ(file->number_attribute("SST", "_FillValue"), static_cast<double>(1e20f));

  const auto [y0, ny] = row_block(64);
  const auto cells = static_cast<std::size_t>(ny * 128);
  std::vector<float> mask(cells), sst(12 * cells);
  file->read("tmask", {y0, 0}, {ny, 128}, mask.data());
  file->read("SST", {0, y0, 0}, {12, ny, 128}, sst.data());
  std::int64_t ocean = 0, land_not_nan = 0, ocean_bad = 0;
  for (std::size_t c = 0; c < cells; ++c) {
    ocean += mask[c] == 1.0f ? 1 : 0;
    for (std::size_t month = 0; month < 12; ++month) {
      const float value = sst[month * cells + c];
      if (mask[c] == 0.0f) {
        land_not_nan += std::isnan(value) ? 0 : 1;
      } else {
        ocean_bad += (std::isfinite(value) && value > -3.0f && value < 40.0f) ? 0 : 1;
      }
    }
  }
  EXPECT_EQ(mpi::sum(ocean), 4447);
  EXPECT_EQ(mpi::sum(land_not_nan), 0) << "SST at land must be NaN (fill 1e20)";
  EXPECT_EQ(mpi::sum(ocean_bad), 0) << "SST over the ocean must be finite, -3..40 degC";
  EXPECT_EQ(file->bytes_read(), cells * (1 + 12 * 4));
}

TEST(SharedDataReaders, Bling30TimeAxisIsTheMonthsOf1958) {
  SKIP_UNLESS_EXISTS(kBling30Year1958);
  const auto file = GridFile::open(kBling30Year1958, MPI_COMM_WORLD);
  const auto values = read_all(*file, "time_counter");
  const auto units = file->text_attribute("time_counter", "units").value_or("");
  const auto calendar = file->text_attribute("time_counter", "calendar").value_or("standard");
  EXPECT_EQ(calendar, "standard");
  const auto dates = decode_time(values, units, calendar, kBling30Year1958 + ": time_counter");
  ASSERT_EQ(dates.size(), 12u);
  for (int month = 1; month <= 12; ++month) {
    EXPECT_EQ(dates[month - 1].year, 1958);
    EXPECT_EQ(dates[month - 1].month, month);
  }
  // The model's own 360-day time lands in the same months.
  const auto model = decode_time(
      read_all(*file, "model_time"), file->text_attribute("model_time", "units").value_or(""),
      file->text_attribute("model_time", "calendar").value_or(""), "model_time");
  for (int month = 1; month <= 12; ++month) {
    EXPECT_EQ(model[month - 1].year, 1958);
    EXPECT_EQ(model[month - 1].month, month);
    EXPECT_EQ(model[month - 1].day, 16);
  }
}

TEST(SharedDataReaders, Bling30TruncatedCopyFailsOnEveryRank) {
  SKIP_UNLESS_EXISTS(kBling30Year1958);
  std::string directory;
  if (mpi::rank() == 0) {
    std::string pattern = (fs::temp_directory_path() / "fluxrecon_trunc_XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) directory = pattern;
  }
  directory = mpi::broadcast(directory, 0);
  ASSERT_FALSE(directory.empty()) << "could not create a temporary directory";
  const auto truncated = directory + "/bling_2p8deg_1958.nc";
  if (mpi::rank() == 0) {
    fs::copy_file(kBling30Year1958, truncated);
    fs::permissions(truncated, fs::perms::owner_write, fs::perm_options::add);
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    const auto file = GridFile::open(truncated, MPI_COMM_WORLD);
    std::vector<float> sst(12 * 64 * 128);
    file->read("SST", {0, 0, 0}, {12, 64, 128}, sst.data());
    ADD_FAILURE() << "reading a truncated file did not fail";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << e.what();
    EXPECT_NE(std::string(e.what()).find(truncated), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (mpi::rank() == 0) fs::remove_all(directory);
}

TEST(SharedDataReaders, Bling3YearFileDecodesToYears1To3) {
  SKIP_UNLESS_EXISTS(kBling3Years);
  const auto file = GridFile::open(kBling3Years, MPI_COMM_WORLD);
  EXPECT_EQ(file->variable("sst").dimensions, (std::vector<std::string>{"time", "lat", "lon"}));
  EXPECT_EQ(file->variable("lat").shape, std::vector<std::int64_t>{64});
  EXPECT_EQ(file->variable("lon").shape, std::vector<std::int64_t>{128});
  const auto calendar = file->text_attribute("time", "calendar").value_or("");
  EXPECT_EQ(calendar, "360_day");
  const auto dates =
      decode_time(read_all(*file, "time"), file->text_attribute("time", "units").value_or(""),
                  calendar, kBling3Years + ": time");
  ASSERT_EQ(dates.size(), 36u);
  for (std::size_t i = 0; i < dates.size(); ++i) {
    EXPECT_EQ(dates[i].year, static_cast<int>(i / 12) + 1) << "record " << i;
    EXPECT_EQ(dates[i].month, static_cast<int>(i % 12) + 1) << "record " << i;
  }
  // Land is the NaN fill: the same cells in every month, about half the grid.
  const auto [y0, ny] = row_block(64);
  const auto cells = static_cast<std::size_t>(ny * 128);
  std::vector<float> sst(36 * cells);
  file->read("sst", {0, y0, 0}, {36, ny, 128}, sst.data());
  std::int64_t land = 0, inconsistent = 0;
  for (std::size_t c = 0; c < cells; ++c) {
    const bool is_land = std::isnan(sst[c]);
    land += is_land ? 1 : 0;
    for (std::size_t record = 1; record < 36; ++record) {
      inconsistent += std::isnan(sst[record * cells + c]) != is_land ? 1 : 0;
    }
  }
  EXPECT_EQ(mpi::sum(inconsistent), 0);
  EXPECT_EQ(mpi::sum(land), 64 * 128 - 4447);
}

struct FluxTotals {
  double grams_carbon = 0;       // area-integrated flux over the year
  std::int64_t ocean_cells = 0;  // summed over the 12 months
};

// Integrates CO2flux (g C m-2 month-1) over 1 x 1 degree cells of the 12
// monthly files; ranks read the latitude rows [y0, y0 + ny).
FluxTotals takahashi_totals(const std::vector<std::string>& files, std::int64_t y0,
                            std::int64_t ny) {
  constexpr double kEarthRadius = 6371.0e3;
  constexpr double kDegree = 3.14159265358979323846 / 180.0;
  FluxTotals totals;
  for (const auto& path : files) {
    const auto file = GridFile::open(path, MPI_COMM_WORLD);
    EXPECT_EQ(file->variable("CO2flux").shape, (std::vector<std::int64_t>{1, 180, 360}));
    std::vector<double> latitude(static_cast<std::size_t>(ny));
    std::vector<float> flux(static_cast<std::size_t>(ny * 360));
    file->read("latitude", {y0}, {ny}, latitude.data());
    file->read("CO2flux", {0, y0, 0}, {1, ny, 360}, flux.data());
    for (std::int64_t j = 0; j < ny; ++j) {
      // Latitudes are cell centres; the cells at the poles are clipped.
      const double north = std::min(latitude[j] + 0.5, 90.0) * kDegree;
      const double south = std::max(latitude[j] - 0.5, -90.0) * kDegree;
      const double area =
          kEarthRadius * kEarthRadius * kDegree * (std::sin(north) - std::sin(south));
      for (std::int64_t i = 0; i < 360; ++i) {
        const float value = flux[j * 360 + i];
        if (std::isnan(value)) continue;
        totals.grams_carbon += value * area;
        ++totals.ocean_cells;
      }
    }
  }
  totals.grams_carbon = mpi::sum(totals.grams_carbon);
  totals.ocean_cells = mpi::sum(totals.ocean_cells);
  return totals;
}

TEST(SharedDataReaders, TakahashiAnnualFluxIsAboutMinus1p4PgC) {
  SKIP_UNLESS_EXISTS(kTakahashi);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(kTakahashi)) {
    if (entry.path().extension() == ".nc") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 12u) << "expected 12 monthly files in " << kTakahashi;

  {
    const auto first = GridFile::open(files.front(), MPI_COMM_WORLD);
    EXPECT_EQ(first->format(), Format::netcdf4_hdf5);
    EXPECT_EQ(first->variable("CO2flux").dimensions,
              (std::vector<std::string>{"time", "latitude", "longitude"}));
    EXPECT_EQ(first->number_attribute("CO2flux", "_FillValue"), -999.0);
    EXPECT_EQ(first->text_attribute("CO2flux", "units_nonstandard"), "g C m^-2 mon^-1");
  }
  for (std::size_t month = 0; month < files.size(); ++month) {
    const auto file = GridFile::open(files[month], MPI_COMM_WORLD);
    const auto dates =
        decode_time(read_all(*file, "time"), file->text_attribute("time", "units").value_or(""),
                    file->text_attribute("time", "calendar").value_or(""), files[month] + ": time");
    EXPECT_EQ(dates.at(0).year, 2001);
    EXPECT_EQ(dates.at(0).month, static_cast<int>(month) + 1);
  }

  const auto [y0, ny] = row_block(180);
  const auto split = takahashi_totals(files, y0, ny);
  const double petagrams_per_year = split.grams_carbon / 1e15;
  EXPECT_NEAR(petagrams_per_year, -1.395, 0.02 * 1.395);
  // About 36k of the 64.8k cells are ocean with data, the same every month.
  EXPECT_EQ(split.ocean_cells % 12, 0);
  EXPECT_GT(split.ocean_cells / 12, 30000);
  EXPECT_LT(split.ocean_cells / 12, 45000);

  // Rank 0 alone (the others reading nothing) must give the same integral.
  const bool reads = mpi::rank() == 0;
  const auto single = takahashi_totals(files, 0, reads ? 180 : 0);
  EXPECT_EQ(single.ocean_cells, split.ocean_cells);
  EXPECT_NEAR(single.grams_carbon, split.grams_carbon, 1e-9 * std::abs(split.grams_carbon));
}

}  // namespace
}  // namespace fluxrecon::io
