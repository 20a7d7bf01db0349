// GridFile on small files this test writes itself, in every format: classic
// (with an unlimited time dimension), 64-bit offset and CDF-5 through
// PnetCDF, netCDF-4 through `ncgen -k nc4` from CDL. Each rank reads its own
// block of rows and compares with the values written, exactly; failures
// (missing variables, bad hyperslabs, truncated files) must reach every rank.
#include <gtest/gtest.h>
#include <pnetcdf.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/grid_file.hpp"
#include "support/mpi_test_util.hpp"

namespace fluxrecon::io {
namespace {

namespace fs = std::filesystem;

constexpr int kTimes = 3, kRows = 5, kCols = 7;
constexpr float kSstFill = -1.0e30f;
constexpr short kPackedFill = -32767;
constexpr double kScale = 0.01, kOffset = 30.0;
const std::vector<double> kTimeValues = {15.5, 45.0, 74.5};

// What is stored on disk, per variable (fill values and one NaN included).
bool sst_is_fill(int y, int x) { return (y + x) % 4 == 0; }
bool sst_is_nan(int t, int y, int x) { return t == 1 && y == 2 && x == 3; }
float stored_sst(int t, int y, int x) {
  if (sst_is_fill(y, x)) return kSstFill;
  if (sst_is_nan(t, y, x)) return std::nanf("");
  return static_cast<float>(t * 100 + y * 10 + x) + 0.25f;
}
short stored_packed(int t, int y, int x) {
  return x == kCols - 1 ? kPackedFill : static_cast<short>(t * 1000 + y * 100 + x * 10 - 2000);
}
signed char stored_mask(int y, int x) { return sst_is_fill(y, x) ? 0 : 1; }
int stored_count(int y, int x) { return (y == 0 && x == 0) ? -1 : y * kCols + x; }
double stored_lat(int y) { return -60.0 + 30.0 * y; }
float stored_lon(int x) { return static_cast<float>(x * 50 - 150); }

// What a reader must return (physical values, NaN where missing).
double expected_sst(int t, int y, int x) {
  const float value = stored_sst(t, y, x);
  return value == kSstFill ? std::nan("") : value;
}
double expected_packed(int t, int y, int x) {
  const short raw = stored_packed(t, y, x);
  return raw == kPackedFill ? std::nan("") : raw * kScale + kOffset;
}
double expected_count(int y, int x) {
  const int value = stored_count(y, x);  // missing_value -1, valid_range 0..30
  return (value == -1 || value > 30) ? std::nan("") : value;
}

template <class T, class F>
std::vector<T> grid_values(int times, F value) {
  std::vector<T> values;
  for (int t = 0; t < times; ++t)
    for (int y = 0; y < kRows; ++y)
      for (int x = 0; x < kCols; ++x) values.push_back(value(t, y, x));
  return values;
}

void check(int err, const char* what) {
  if (err != NC_NOERR) throw std::runtime_error(concat(what, ": ", ncmpi_strerror(err)));
}

// Writes the test file with PnetCDF on this rank alone (MPI_COMM_SELF).
void write_pnetcdf_file(const std::string& path, int cmode, bool unlimited_time) {
  int ncid = -1, time_dim = -1, y_dim = -1, x_dim = -1;
  check(ncmpi_create(MPI_COMM_SELF, path.c_str(), cmode | NC_CLOBBER, MPI_INFO_NULL, &ncid),
        "create");
  check(ncmpi_def_dim(ncid, "time", unlimited_time ? NC_UNLIMITED : kTimes, &time_dim), "dim");
  check(ncmpi_def_dim(ncid, "y", kRows, &y_dim), "dim");
  check(ncmpi_def_dim(ncid, "x", kCols, &x_dim), "dim");
  const int grid3[] = {time_dim, y_dim, x_dim}, grid2[] = {y_dim, x_dim};
  int time = -1, lat = -1, lon = -1, mask = -1, counts = -1, sst = -1, packed = -1, label = -1;
  check(ncmpi_def_var(ncid, "time", NC_DOUBLE, 1, &time_dim, &time), "var");
  check(ncmpi_def_var(ncid, "lat", NC_DOUBLE, 1, &y_dim, &lat), "var");
  check(ncmpi_def_var(ncid, "lon", NC_FLOAT, 1, &x_dim, &lon), "var");
  check(ncmpi_def_var(ncid, "tmask", NC_BYTE, 2, grid2, &mask), "var");
  check(ncmpi_def_var(ncid, "counts", NC_INT, 2, grid2, &counts), "var");
  check(ncmpi_def_var(ncid, "sst", NC_FLOAT, 3, grid3, &sst), "var");
  check(ncmpi_def_var(ncid, "packed", NC_SHORT, 3, grid3, &packed), "var");
  check(ncmpi_def_var(ncid, "label", NC_CHAR, 1, &x_dim, &label), "var");
  auto text = [&](int varid, const char* name, const std::string& value) {
    check(
        ncmpi_put_att_text(ncid, varid, name, static_cast<MPI_Offset>(value.size()), value.c_str()),
        "att");
  };
  text(NC_GLOBAL, "title", "fluxrecon reader test");
  const int answer = 42;
  check(ncmpi_put_att_int(ncid, NC_GLOBAL, "answer", NC_INT, 1, &answer), "att");
  const double levels[] = {1.0, 2.5, 4.0};
  check(ncmpi_put_att_double(ncid, NC_GLOBAL, "levels", NC_DOUBLE, 3, levels), "att");
  text(time, "units", "days since 2000-01-01");
  text(time, "calendar", "noleap");
  text(sst, "units", "degC");
  check(ncmpi_put_att_float(ncid, sst, "_FillValue", NC_FLOAT, 1, &kSstFill), "att");
  check(ncmpi_put_att_short(ncid, packed, "_FillValue", NC_SHORT, 1, &kPackedFill), "att");
  check(ncmpi_put_att_double(ncid, packed, "scale_factor", NC_DOUBLE, 1, &kScale), "att");
  check(ncmpi_put_att_double(ncid, packed, "add_offset", NC_DOUBLE, 1, &kOffset), "att");
  const int missing = -1, range[] = {0, 30};
  check(ncmpi_put_att_int(ncid, counts, "missing_value", NC_INT, 1, &missing), "att");
  check(ncmpi_put_att_int(ncid, counts, "valid_range", NC_INT, 2, range), "att");
  check(ncmpi_enddef(ncid), "enddef");

  const MPI_Offset start3[] = {0, 0, 0}, count3[] = {kTimes, kRows, kCols};
  const MPI_Offset start2[] = {0, 0}, count2[] = {kRows, kCols};
  const MPI_Offset zero[] = {0}, times[] = {kTimes}, rows[] = {kRows}, cols[] = {kCols};
  const auto sst_data = grid_values<float>(kTimes, stored_sst);
  const auto packed_data = grid_values<short>(kTimes, stored_packed);
  const auto mask_data =
      grid_values<signed char>(1, [](int, int y, int x) { return stored_mask(y, x); });
  const auto count_data = grid_values<int>(1, [](int, int y, int x) { return stored_count(y, x); });
  std::vector<double> lat_data;
  std::vector<float> lon_data;
  for (int y = 0; y < kRows; ++y) lat_data.push_back(stored_lat(y));
  for (int x = 0; x < kCols; ++x) lon_data.push_back(stored_lon(x));
  check(ncmpi_put_vara_double_all(ncid, time, zero, times, kTimeValues.data()), "put");
  check(ncmpi_put_vara_double_all(ncid, lat, zero, rows, lat_data.data()), "put");
  check(ncmpi_put_vara_float_all(ncid, lon, zero, cols, lon_data.data()), "put");
  check(ncmpi_put_vara_schar_all(ncid, mask, start2, count2, mask_data.data()), "put");
  check(ncmpi_put_vara_int_all(ncid, counts, start2, count2, count_data.data()), "put");
  check(ncmpi_put_vara_float_all(ncid, sst, start3, count3, sst_data.data()), "put");
  check(ncmpi_put_vara_short_all(ncid, packed, start3, count3, packed_data.data()), "put");
  check(ncmpi_put_vara_text_all(ncid, label, zero, cols, "abcdefg"), "put");
  check(ncmpi_close(ncid), "close");
}

template <class T>
std::string cdl_list(const std::vector<T>& values) {
  std::ostringstream out;
  out.precision(9);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out << ", ";
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(values[i])) {
        out << "NaN";
        continue;
      }
    }
    out << +values[i];  // + prints signed char as a number
  }
  return out.str();
}

// Writes the same content as CDL and converts it with ncgen to netCDF-4
// (compressed and chunked sst, so the parallel read goes through filters).
void write_netcdf4_file(const std::string& path) {
  std::vector<double> lat_data;
  std::vector<float> lon_data;
  for (int y = 0; y < kRows; ++y) lat_data.push_back(stored_lat(y));
  for (int x = 0; x < kCols; ++x) lon_data.push_back(stored_lon(x));
  std::ofstream cdl(path + ".cdl");
  cdl << "netcdf test {\ndimensions:\n  time = UNLIMITED ;\n  y = " << kRows
      << " ;\n  x = " << kCols << " ;\nvariables:\n"
      << "  double time(time) ;\n    time:units = \"days since 2000-01-01\" ;\n"
      << "    time:calendar = \"noleap\" ;\n"
      << "  double lat(y) ;\n  float lon(x) ;\n  byte tmask(y, x) ;\n"
      << "  int counts(y, x) ;\n    counts:missing_value = -1 ;\n"
      << "    counts:valid_range = 0, 30 ;\n"
      << "  float sst(time, y, x) ;\n    sst:units = \"degC\" ;\n"
      << "    sst:_FillValue = -1.e+30f ;\n    sst:_ChunkSizes = 1, 5, 7 ;\n"
      << "    sst:_DeflateLevel = 1 ;\n"
      << "  short packed(time, y, x) ;\n    packed:_FillValue = -32767s ;\n"
      << "    packed:scale_factor = 0.01 ;\n    packed:add_offset = 30. ;\n"
      << "  char label(x) ;\n"
      << "  :title = \"fluxrecon reader test\" ;\n  :answer = 42 ;\n"
      << "  :levels = 1., 2.5, 4. ;\n  string :vlen_note = \"variable length text\" ;\n"
      << "data:\n"
      << "  time = " << cdl_list(kTimeValues) << " ;\n"
      << "  lat = " << cdl_list(lat_data) << " ;\n"
      << "  lon = " << cdl_list(lon_data) << " ;\n"
      << "  tmask = "
      << cdl_list(grid_values<int>(1, [](int, int y, int x) { return stored_mask(y, x); }))
      << " ;\n  counts = "
      << cdl_list(grid_values<int>(1, [](int, int y, int x) { return stored_count(y, x); }))
      << " ;\n  sst = " << cdl_list(grid_values<float>(kTimes, stored_sst))
      << " ;\n  packed = " << cdl_list(grid_values<short>(kTimes, stored_packed))
      << " ;\n  label = \"abcdefg\" ;\n}\n";
  cdl.close();
  const auto command = concat("ncgen -k nc4 -o '", path, "' '", path, ".cdl' 2>&1");
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

struct TestFile {
  std::string name;
  Format format;
};
void PrintTo(const TestFile& file, std::ostream* out) { *out << file.name; }
const std::vector<TestFile> kTestFiles = {{"classic", Format::cdf1_classic},
                                          {"offset64", Format::cdf2_offset64},
                                          {"cdf5", Format::cdf5},
                                          {"netcdf4", Format::netcdf4_hdf5}};

// One temporary directory for the suite, created by rank 0 with all files.
class GridFileReader : public ::testing::TestWithParam<TestFile> {
 public:
  static void SetUpTestSuite() {
    std::string made;
    std::vector<std::string> failures(kTestFiles.size());
    if (mpi::rank() == 0) {
      std::string pattern = (fs::temp_directory_path() / "fluxrecon_io_XXXXXX").string();
      if (mkdtemp(pattern.data()) != nullptr) made = pattern;
      const std::vector<std::function<void(const std::string&)>> writers = {
          [](const std::string& path) { write_pnetcdf_file(path, 0, true); },
          [](const std::string& path) { write_pnetcdf_file(path, NC_64BIT_OFFSET, false); },
          [](const std::string& path) { write_pnetcdf_file(path, NC_64BIT_DATA, false); },
          write_netcdf4_file};
      for (std::size_t i = 0; i < kTestFiles.size(); ++i) {
        try {
          if (made.empty()) throw std::runtime_error("mkdtemp failed");
          writers[i](made + "/" + kTestFiles[i].name + ".nc");
        } catch (const std::exception& e) {
          failures[i] = e.what();
        }
      }
    }
    directory() = mpi::broadcast(made, 0);
    for (std::size_t i = 0; i < kTestFiles.size(); ++i) {
      setup_failures()[kTestFiles[i].name] = mpi::broadcast(failures[i], 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  static void TearDownTestSuite() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (mpi::rank() == 0 && !directory().empty()) fs::remove_all(directory());
  }
  static std::string& directory() {
    static std::string path;
    return path;
  }
  // Why a test file could not be written, by name ("" = written).
  static std::map<std::string, std::string>& setup_failures() {
    static std::map<std::string, std::string> failures;
    return failures;
  }

 protected:
  void SetUp() override {
    ASSERT_EQ(setup_failures()[GetParam().name], "") << "writing " << path() << " failed";
  }
  std::string path() const { return directory() + "/" + GetParam().name + ".nc"; }
};

// Rows [first, first + rows) split into contiguous blocks, one per rank; with
// more ranks than rows some ranks get none.
std::pair<std::int64_t, std::int64_t> row_block(std::int64_t first, std::int64_t rows) {
  const std::int64_t rank = mpi::rank(), size = mpi::size();
  const std::int64_t begin = first + rows * rank / size, end = first + rows * (rank + 1) / size;
  return {begin, end - begin};
}

// Expects that `body` throws a collective Error whose message holds `needle`.
void expect_collective_error(const std::function<void()>& body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "no error thrown; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

template <class Body>
std::string error_text(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

template <class T>
void expect_same(T actual, double expected, const std::string& where) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << where << ": got " << actual << ", expected NaN";
  } else {
    EXPECT_EQ(actual, static_cast<T>(expected)) << where;
  }
}

TEST_P(GridFileReader, FindsFormatDimensionsAndVariables) {
  EXPECT_EQ(detect_format(path()), GetParam().format);
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  EXPECT_EQ(file->format(), GetParam().format);
  EXPECT_EQ(file->path(), path());
  EXPECT_EQ(file->dimension_length("time"), kTimes);
  EXPECT_EQ(file->dimension_length("y"), kRows);
  EXPECT_EQ(file->dimension_length("x"), kCols);
  EXPECT_FALSE(file->has_dimension("z"));
  // y and x have no coordinate variable, so they must not appear as variables.
  EXPECT_FALSE(file->has_variable("y"));
  EXPECT_FALSE(file->has_variable("x"));
  EXPECT_EQ(file->variable_names().size(), 8u);
  const auto& sst = file->variable("sst");
  EXPECT_EQ(sst.dimensions, (std::vector<std::string>{"time", "y", "x"}));
  EXPECT_EQ(sst.shape, (std::vector<std::int64_t>{kTimes, kRows, kCols}));
  EXPECT_EQ(sst.type, "float");
  EXPECT_EQ(file->variable("packed").type, "short");
  EXPECT_EQ(file->variable("tmask").type, "byte");
  EXPECT_EQ(file->variable("counts").type, "int");
  EXPECT_EQ(file->variable("lat").type, "double");
  EXPECT_EQ(file->variable("lat").dimensions, std::vector<std::string>{"y"});
  EXPECT_EQ(file->variable("time").dimensions, std::vector<std::string>{"time"});
  EXPECT_EQ(file->variable("label").type, "char");
}

TEST_P(GridFileReader, ReadsTextAndNumberAttributes) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  EXPECT_EQ(file->text_attribute("", "title"), "fluxrecon reader test");
  EXPECT_EQ(file->number_attribute("", "answer"), 42.0);
  EXPECT_EQ(file->number_attribute_values("", "levels"), (std::vector<double>{1.0, 2.5, 4.0}));
  EXPECT_EQ(file->text_attribute("time", "units"), "days since 2000-01-01");
  EXPECT_EQ(file->text_attribute("time", "calendar"), "noleap");
  EXPECT_EQ(file->text_attribute("sst", "units"), "degC");
  EXPECT_EQ(file->number_attribute("sst", "_FillValue"), static_cast<double>(kSstFill));
  EXPECT_EQ(file->number_attribute("packed", "scale_factor"), kScale);
  EXPECT_EQ(file->number_attribute("packed", "add_offset"), kOffset);
  EXPECT_EQ(file->number_attribute_values("counts", "valid_range"),
            (std::vector<double>{0.0, 30.0}));
  EXPECT_EQ(file->text_attribute("sst", "long_name"), std::nullopt);
  EXPECT_EQ(file->number_attribute("sst", "scale_factor"), std::nullopt);
  EXPECT_THROW(file->number_attribute("sst", "units"), Error);
  EXPECT_THROW(file->text_attribute("sst", "_FillValue"), Error);
  EXPECT_THROW(file->text_attribute("nope", "units"), Error);
  if (GetParam().format == Format::netcdf4_hdf5) {
    EXPECT_EQ(file->text_attribute("", "vlen_note"), "variable length text");
  }
}

TEST_P(GridFileReader, EachRankReadsItsRowBlockExactly) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  const auto [y0, ny] = row_block(0, kRows);
  const std::vector<std::int64_t> start = {0, y0, 0}, count = {kTimes, ny, kCols};
  const auto n = static_cast<std::size_t>(kTimes * ny * kCols);
  std::vector<float> sst_float(n), packed_float(n);
  std::vector<double> sst_double(n), packed_double(n);
  file->read("sst", start, count, sst_float.data());
  file->read("sst", start, count, sst_double.data());
  file->read("packed", start, count, packed_float.data());
  file->read("packed", start, count, packed_double.data());
  std::size_t i = 0;
  for (int t = 0; t < kTimes; ++t) {
    for (int y = static_cast<int>(y0); y < y0 + ny; ++y) {
      for (int x = 0; x < kCols; ++x, ++i) {
        const auto where = concat(GetParam().name, " t=", t, " y=", y, " x=", x);
        expect_same(sst_float[i], expected_sst(t, y, x), "sst float " + where);
        expect_same(sst_double[i], expected_sst(t, y, x), "sst double " + where);
        expect_same(packed_float[i], expected_packed(t, y, x), "packed float " + where);
        expect_same(packed_double[i], expected_packed(t, y, x), "packed double " + where);
      }
    }
  }
  const auto m = static_cast<std::size_t>(ny * kCols);
  std::vector<float> mask(m), counts(m);
  std::vector<double> lat(static_cast<std::size_t>(ny));
  file->read("tmask", {y0, 0}, {ny, kCols}, mask.data());
  file->read("counts", {y0, 0}, {ny, kCols}, counts.data());
  file->read("lat", {y0}, {ny}, lat.data());
  for (std::size_t k = 0; k < m; ++k) {
    const int y = static_cast<int>(y0 + static_cast<std::int64_t>(k) / kCols);
    const int x = static_cast<int>(k % kCols);
    EXPECT_EQ(mask[k], stored_mask(y, x));
    expect_same(counts[k], expected_count(y, x), concat("counts y=", y, " x=", x));
  }
  for (std::int64_t k = 0; k < ny; ++k) EXPECT_EQ(lat[k], stored_lat(static_cast<int>(y0 + k)));
  std::vector<double> lon(kCols), time(kTimes);
  file->read("lon", {0}, {kCols}, lon.data());
  file->read("time", {0}, {kTimes}, time.data());
  for (int x = 0; x < kCols; ++x) EXPECT_EQ(lon[x], stored_lon(x));
  EXPECT_EQ(time, kTimeValues);
}

TEST_P(GridFileReader, RanksWithZeroCountStillTakePart) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  // Rank 0 reads everything, the others nothing.
  const bool reads = mpi::rank() == 0;
  const std::vector<std::int64_t> count = {reads ? kTimes : 0, reads ? kRows : 0,
                                           reads ? kCols : 0};
  std::vector<float> values(kTimes * kRows * kCols, -7.0f);
  file->read("sst", {0, 0, 0}, count, values.data());
  if (reads) {
    for (int t = 0; t < kTimes; ++t)
      for (int y = 0; y < kRows; ++y)
        for (int x = 0; x < kCols; ++x)
          expect_same(values[(t * kRows + y) * kCols + x], expected_sst(t, y, x), "sst");
  } else {
    EXPECT_EQ(values[0], -7.0f);  // nothing written
  }
  // Every rank reads nothing (also at one rank), with start at the far end.
  file->read("packed", {kTimes, kRows, 0}, {0, 0, kCols}, values.data());
  double unused = 0;
  file->read("counts", {kRows, kCols}, {0, 0}, &unused);
  EXPECT_EQ(unused, 0.0);
  // More ranks than rows: one row split over all ranks.
  const auto [y0, ny] = row_block(2, 1);
  std::vector<double> row(static_cast<std::size_t>(ny * kCols));
  file->read("counts", {y0, 0}, {ny, kCols}, row.data());
  for (std::int64_t k = 0; k < ny * kCols; ++k) {
    expect_same(row[k], expected_count(2, static_cast<int>(k)), "counts row 2");
  }
}

TEST_P(GridFileReader, CountsBytesAsStored) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  EXPECT_EQ(file->bytes_read(), 0u);
  const auto [y0, ny] = row_block(0, kRows);
  std::vector<float> values(static_cast<std::size_t>(kTimes * kRows * kCols));
  file->read("packed", {0, y0, 0}, {kTimes, ny, kCols}, values.data());
  EXPECT_EQ(file->bytes_read(), static_cast<std::uint64_t>(kTimes * ny * kCols * 2));
  file->read("sst", {0, y0, 0}, {kTimes, ny, kCols}, values.data());
  EXPECT_EQ(file->bytes_read(), static_cast<std::uint64_t>(kTimes * ny * kCols * 6));
  EXPECT_EQ(mpi::sum(static_cast<std::int64_t>(file->bytes_read())), kTimes * kRows * kCols * 6);
}

TEST_P(GridFileReader, MissingVariableErrorListsTheVariables) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  try {
    file->variable("SST");
    ADD_FAILURE() << "no error for a missing variable";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const char* name : {"'SST'", "sst", "packed", "tmask", "counts", "lat", "time"}) {
      EXPECT_NE(message.find(name), std::string::npos) << message;
    }
    EXPECT_NE(message.find(path()), std::string::npos) << message;
  }
  float value = 0;
  expect_collective_error([&] { file->read("SST", {0, 0, 0}, {1, 1, 1}, &value); }, "'SST'");
  EXPECT_NE(error_text([&] { file->dimension_length("depth"); }).find("'depth'"),
            std::string::npos);
}

TEST_P(GridFileReader, BadRequestOnOneRankFailsOnAllRanks) {
  const auto file = GridFile::open(path(), MPI_COMM_WORLD);
  std::vector<double> values(kTimes * kRows * kCols);
  // Only the last rank asks for too many rows; every rank must throw.
  const bool bad = mpi::rank() == mpi::size() - 1;
  expect_collective_error(
      [&] {
        file->read("sst", {0, 0, 0}, {1, bad ? kRows + 1 : 1, kCols}, values.data());
      },
      "dimension y has length 5");
  expect_collective_error(
      [&] {
        file->read("sst", {0, 0}, {1, 1}, values.data());
      },
      "3 dimensions");
  expect_collective_error([&] { file->read("label", {0}, {kCols}, values.data()); }, "char values");
  // The file is still usable afterwards.
  file->read("lat", {0}, {kRows}, values.data());
  EXPECT_EQ(values[kRows - 1], stored_lat(kRows - 1));
}

TEST_P(GridFileReader, TruncatedCopyFailsOnEveryRank) {
  const auto truncated = directory() + "/truncated_" + GetParam().name + ".nc";
  if (mpi::rank() == 0) {
    fs::copy_file(path(), truncated, fs::copy_options::overwrite_existing);
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_collective_error(
      [&] {
        const auto file = GridFile::open(truncated, MPI_COMM_WORLD);
        std::vector<float> values(kTimes * kRows * kCols);
        file->read("sst", {0, 0, 0}, {kTimes, kRows, kCols}, values.data());
        file->read("packed", {0, 0, 0}, {kTimes, kRows, kCols}, values.data());
      },
      truncated);
}

// A header that states more than its file holds (a damaged attribute length,
// as tests/fuzz found: PnetCDF allocated and copied 1.7 GB for it and ran
// for minutes) fails at once, naming the file; so does every cut of a valid
// header, and no valid file is refused.
TEST_P(GridFileReader, DamagedHeaderLengthsFailAtOnceNamingTheFile) {
  if (GetParam().format == Format::netcdf4_hdf5) GTEST_SKIP() << "classic formats only";
  const auto damaged = directory() + "/damaged_" + GetParam().name + ".nc";
  std::vector<char> bytes;
  if (mpi::rank() == 0) {
    std::ifstream in(path(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    // The first attribute: its name "units" is followed by the type and the
    // value count (4 bytes, 8 in CDF-5); that count becomes huge.
    const std::string units = "units";
    const auto at = std::search(bytes.begin(), bytes.end(), units.begin(), units.end());
    ASSERT_NE(at, bytes.end());
    const std::size_t count_at = static_cast<std::size_t>(at - bytes.begin()) + 8 + 4;
    bytes[count_at + (GetParam().format == Format::cdf5 ? 4 : 0)] = 0x65;
    std::ofstream(damaged, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  expect_collective_error([&] { GridFile::open(damaged, MPI_COMM_WORLD); },
                          damaged + " is truncated or not a valid netCDF file");
  EXPECT_LT(MPI_Wtime() - t0, 5.0);

  // Every cut inside the header is refused with a message, never a crash.
  const auto cut = directory() + "/cut_" + GetParam().name + ".nc";
  for (std::size_t length : {5, 9, 17, 33, 64, 100, 160, 240}) {
    if (mpi::rank() == 0) {
      std::ifstream in(path(), std::ios::binary);
      std::vector<char> head(length);
      in.read(head.data(), std::streamsize(length));
      std::ofstream(cut, std::ios::binary).write(head.data(), in.gcount());
    }
    MPI_Barrier(MPI_COMM_WORLD);
    expect_collective_error([&] { GridFile::open(cut, MPI_COMM_WORLD); }, cut);
  }
}

// A CDF-5 record count so large that the data's end overflows 64-bit byte
// arithmetic (found by tests/fuzz: undefined behaviour, then wrong checks) is
// refused as data past the end of the file.
TEST(GridFileRecords, ARecordCountOverflowingTheByteArithmeticIsRefused) {
  const auto dir = test_util::shared_temp_dir("records_overflow");
  const auto damaged = dir + "/records.nc";
  if (mpi::rank() == 0) {
    write_pnetcdf_file(damaged, NC_64BIT_DATA, true);
    std::fstream file(damaged, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4);  // CDF-5: "CDF\5", then numrecs as 8 big-endian bytes
    const char records[8] = {0x6d, 0, 0, 0, 0, 0, 0, 2};
    file.write(records, sizeof records);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_collective_error([&] { GridFile::open(damaged, MPI_COMM_WORLD); },
                          damaged + " is truncated or not a valid netCDF file");
}

INSTANTIATE_TEST_SUITE_P(AllFormats, GridFileReader, ::testing::ValuesIn(kTestFiles),
                         [](const auto& test) { return test.param.name; });

// Format detection on files that are not netCDF, or barely.
class GridFileFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    if (mpi::rank() == 0) {
      std::string pattern = (fs::temp_directory_path() / "fluxrecon_fmt_XXXXXX").string();
      directory_ = mkdtemp(pattern.data()) ? pattern : "";
      std::ofstream(directory_ + "/empty.nc").close();
      std::ofstream(directory_ + "/text.nc") << "hello, I am not netCDF\n";
      std::ofstream(directory_ + "/cdf9.nc") << "CDF\x09 and then nothing useful";
      std::ofstream(directory_ + "/garbage_header.nc") << "CDF\x01" << std::string(64, '\x7f');
      // An HDF5 signature after a 512-byte user block.
      std::ofstream user_block(directory_ + "/user_block.nc", std::ios::binary);
      user_block << std::string(512, '\0') << "\x89HDF\r\n\x1a\n" << std::string(100, '\0');
    }
    directory_ = mpi::broadcast(directory_, 0);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (mpi::rank() == 0 && !directory_.empty()) fs::remove_all(directory_);
  }
  std::string directory_;
};

TEST_F(GridFileFormat, RejectsMissingEmptyAndForeignFilesNamingThem) {
  const auto missing = directory_ + "/missing.nc";
  EXPECT_NE(error_text([&] { detect_format(missing); }).find(missing + " does not exist"),
            std::string::npos);
  const auto empty = directory_ + "/empty.nc";
  EXPECT_NE(error_text([&] { detect_format(empty); }).find(empty + " is empty"), std::string::npos);
  const auto text = directory_ + "/text.nc";
  const auto message = error_text([&] { detect_format(text); });
  EXPECT_NE(message.find(text + " is not netCDF"), std::string::npos) << message;
  EXPECT_NE(message.find("hello, I"), std::string::npos) << message;
  EXPECT_NE(message.find("HDF5 signature"), std::string::npos) << message;
  const auto cdf9 = error_text([&] { detect_format(directory_ + "/cdf9.nc"); });
  EXPECT_NE(cdf9.find("version byte \\x09"), std::string::npos) << cdf9;
  EXPECT_EQ(detect_format(directory_ + "/user_block.nc"), Format::netcdf4_hdf5);
  EXPECT_NE(format_name(Format::cdf5).find("CDF-5"), std::string::npos);
}

TEST_F(GridFileFormat, OpenFailsCollectivelyOnBadFiles) {
  expect_collective_error([&] { GridFile::open(directory_ + "/missing.nc", MPI_COMM_WORLD); },
                          "does not exist");
  expect_collective_error([&] { GridFile::open(directory_ + "/text.nc", MPI_COMM_WORLD); },
                          "is not netCDF");
  expect_collective_error(
      [&] { GridFile::open(directory_ + "/garbage_header.nc", MPI_COMM_WORLD); },
      "truncated or not a valid netCDF file");
  expect_collective_error([&] { GridFile::open(directory_ + "/user_block.nc", MPI_COMM_WORLD); },
                          "not a valid netCDF-4/HDF5 file");
}

}  // namespace
}  // namespace fluxrecon::io
