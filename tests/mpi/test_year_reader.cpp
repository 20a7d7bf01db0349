// YearReader reads only the months and cells it is asked for (January's
// windows need the last 3 months of the previous year, a regional run only
// the box of rows and columns of its points) and gives the values the file
// holds, bit for bit: checked against a plain read of the whole file.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/year_reader.hpp"
#include "io/grid_file.hpp"
#include "kernels/sample_windows.hpp"
#include "support/mpi_test_util.hpp"
#include "support/testbed_samples.hpp"

using namespace fluxrecon;
using test_util::shared_temp_dir;

namespace {

constexpr int kNx = 36, kNy = 18, kRoles = data::kDynamicFeatures + 1;  // the seed's roles

struct Data {
  std::string dir;
  data::DatasetDescription d;
};

const Data& testbed() {
  static const Data t = [] {
    Data b;
    b.dir = shared_temp_dir("year_reader");
    test_util::synth_testbed(b.dir, kNx, kNy, 1958, 1959);
    const auto cfg = config::Config::from_text(
        "dataset: {name: yr, directory: " + b.dir +
            "}\n"
            "experiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
            "training_experiment: experiment_1\n"
            "time: {train: [1958, 1958], validation: [1959, 1959], test: [1959, 1959]}\n",
        data::dataset_schema(), "yr.yaml");
    b.d = data::load_dataset(cfg);
    return b;
  }();
  return t;
}

// Every month and row of this rank's block of each role's variable, read
// without YearReader: [role][month][local point].
std::vector<std::vector<float>> whole_year(const data::DatasetDescription& d, const data::Grid& g,
                                           int year) {
  auto file = io::GridFile::open(d.file_for("experiment_1", year), MPI_COMM_WORLD);
  const std::int64_t rows = g.row_end - g.row_begin;
  std::vector<std::vector<float>> out;
  for (const auto& v : d.variables) {
    out.emplace_back(static_cast<size_t>(12 * rows * g.nx));
    file->read(v.file_name, {0, g.row_begin, 0}, {12, rows, g.nx}, out.back().data());
  }
  return out;
}

bool same_value(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

// Compares series slots [0, months) of `points` with months m0.. of `ref`.
std::int64_t mismatches(const std::vector<float>& series, const std::vector<std::int64_t>& points,
                        int slots, int first_slot, int m0, int months,
                        const std::vector<std::vector<float>>& ref, std::int64_t plane) {
  std::int64_t bad = 0;
  for (size_t k = 0; k < points.size(); ++k)
    for (int m = 0; m < months; ++m)
      for (int role = 0; role < kRoles; ++role) {
        const float got = series[(k * slots + first_slot + m) * kRoles + role];
        const float want = ref[role][(m0 + m) * plane + points[k]];
        bad += !same_value(got, want);
      }
  return bad;
}

// Cells of the box of rows and columns that holds `points`.
std::uint64_t box_cells(const std::vector<std::int64_t>& points) {
  if (points.empty()) return 0;
  std::int64_t r0 = kNy, r1 = -1, x0 = kNx, x1 = -1;
  for (const auto p : points) {
    r0 = std::min(r0, p / kNx);
    r1 = std::max(r1, p / kNx);
    x0 = std::min(x0, p % kNx);
    x1 = std::max(x1, p % kNx);
  }
  return static_cast<std::uint64_t>((r1 - r0 + 1) * (x1 - x0 + 1));
}

}  // namespace

TEST(YearReader, ReadsOnlyTheMonthsAskedForWithTheFilesValues) {
  const auto& t = testbed();
  auto file = io::GridFile::open(t.d.file_for("experiment_1", 1959), MPI_COMM_WORLD);
  const data::Grid g = data::load_grid(*file, t.d, MPI_COMM_WORLD);
  std::vector<std::int64_t> points;
  for (std::int64_t i = 0; i < g.local_points(); ++i)
    if (g.ocean[i]) points.push_back(i);
  const std::int64_t plane = static_cast<std::int64_t>(g.row_end - g.row_begin) * g.nx;
  const auto ref = whole_year(t.d, g, 1958);

  // October-December of 1958 into slots 0-2 of a 15-slot series (as
  // January's windows of 1959 need them), then all of 1959 into slots 3-14.
  const int slots = 15;
  std::vector<float> series(points.size() * slots * kRoles, -7.0f);
  data::YearReader reader(t.d, g, MPI_COMM_WORLD);
  reader.read_into("experiment_1", 1958, points, 10, 12, series.data(), slots, 0);
  const std::uint64_t previous_year = reader.bytes_read();
  EXPECT_EQ(mismatches(series, points, slots, 0, 9, 3, ref, plane), 0);
  reader.read_into("experiment_1", 1959, points, 1, 12, series.data(), slots, 3);
  EXPECT_EQ(mismatches(series, points, slots, 3, 0, 12, whole_year(t.d, g, 1959), plane), 0);
  const std::uint64_t whole = reader.bytes_read() - previous_year;

  // Bytes: the time axis (12 doubles) and, per variable, months x the cells
  // of the box holding the ocean points, as floats.
  const std::uint64_t per_month = kRoles * box_cells(points) * sizeof(float);
  EXPECT_EQ(previous_year, 12 * sizeof(double) + 3 * per_month);
  EXPECT_EQ(whole, 12 * sizeof(double) + 12 * per_month);
  // Over the ranks, the previous year costs a quarter of a whole year's fields.
  std::uint64_t sums[2] = {previous_year - 12 * sizeof(double), whole - 12 * sizeof(double)};
  MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(sums[0] * 4, sums[1]);
  EXPECT_GT(sums[1], 0u);
}

TEST(YearReader, RegionalPointsReadOnlyTheirBox) {
  const auto& t = testbed();
  data::Region region;
  ASSERT_TRUE(data::builtin_region("North_Atlantic", region));
  auto file = io::GridFile::open(t.d.file_for("experiment_1", 1959), MPI_COMM_WORLD);
  const data::Grid g = data::load_grid(*file, t.d, MPI_COMM_WORLD, {region});
  const auto points = data::select_locations(g, region, 1.0, 42, MPI_COMM_WORLD);
  const std::int64_t plane = static_cast<std::int64_t>(g.row_end - g.row_begin) * g.nx;
  const auto ref = whole_year(t.d, g, 1958);
  std::vector<float> series(points.size() * 12 * kRoles);
  data::YearReader reader(t.d, g, MPI_COMM_WORLD);
  reader.read_into("experiment_1", 1958, points, 1, 12, series.data(), 12, 0);
  EXPECT_EQ(mismatches(series, points, 12, 0, 0, 12, ref, plane), 0);
  const std::uint64_t expected =
      12 * sizeof(double) + 12 * kRoles * box_cells(points) * sizeof(float);
  EXPECT_EQ(reader.bytes_read(), expected);
  // The region covers a small part of the grid: much less than a whole year is read.
  std::uint64_t sum = reader.bytes_read() - 12 * sizeof(double);
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_GT(sum, 0u);
  EXPECT_LT(sum, 12u * kRoles * kNx * kNy * sizeof(float) / 8);
}

// Read in chunks of one row (the ranks with fewer rows make empty calls in
// the collective reads), with the points in descending order: the same values.
TEST(YearReader, ChunksOfRowsAndAnyPointOrderGiveTheSameValues) {
  const auto& t = testbed();
  auto file = io::GridFile::open(t.d.file_for("experiment_1", 1959), MPI_COMM_WORLD);
  // Rows balanced by the Southern Ocean: the ranks hold very different numbers of rows.
  data::Region south;
  ASSERT_TRUE(data::builtin_region("Southern_Ocean", south));
  const data::Grid g = data::load_grid(*file, t.d, MPI_COMM_WORLD, {south});
  std::vector<std::int64_t> points;
  for (std::int64_t i = g.local_points() - 1; i >= 0; --i)
    if (g.ocean[i]) points.push_back(i);
  const std::int64_t plane = static_cast<std::int64_t>(g.row_end - g.row_begin) * g.nx;
  const int slots = 5;
  std::vector<float> series(points.size() * slots * kRoles, -7.0f);
  data::YearReader reader(t.d, g, MPI_COMM_WORLD, 1);
  reader.read_into("experiment_1", 1958, points, 8, 12, series.data(), slots, 0);
  EXPECT_EQ(mismatches(series, points, slots, 0, 7, 5, whole_year(t.d, g, 1958), plane), 0);
  EXPECT_EQ(reader.bytes_read(),
            12 * sizeof(double) + 5 * kRoles * box_cells(points) * sizeof(float));
}

TEST(YearReader, MonthsOutsideTheYearAreAnError) {
  const auto& t = testbed();
  auto file = io::GridFile::open(t.d.file_for("experiment_1", 1959), MPI_COMM_WORLD);
  const data::Grid g = data::load_grid(*file, t.d, MPI_COMM_WORLD);
  data::YearReader reader(t.d, g, MPI_COMM_WORLD);
  std::vector<float> series(1);
  try {
    reader.read_into("experiment_1", 1958, {}, 11, 13, series.data(), 3, 0);
    ADD_FAILURE() << "no error for months 11-13";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not within 1-12"), std::string::npos) << e.what();
    EXPECT_TRUE(e.collective());
  }
}
