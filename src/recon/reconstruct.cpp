#include "recon/reconstruct.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "data/grid.hpp"
#include "data/sampling.hpp"
#include "data/windows.hpp"
#include "data/year_reader.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"
#include "io/time_axis.hpp"
#include "kernels/flatten.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/xgboost_model.hpp"
#include "recon/cell_area.hpp"
#include "recon/nn_inference.hpp"

namespace fluxrecon::recon {
namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<std::string>& reconstruct_model_names() {
  static const std::vector<std::string> names{"mlp", "lstm", "attention_lstm", "xgboost"};
  return names;
}

std::string model_file_name(const std::string& model) {
  return model == "xgboost" ? "xgboost.json" : model + ".h5";
}

std::string cache_file_name(const std::string& model, const std::string& region,
                            const std::string& experiment, int year) {
  return concat(model, "_", region, "_", experiment, "_", year, ".nc");
}

std::string file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "cannot read '", path, "' to checksum it");
  std::uint64_t h = 1469598103934665603ull;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    for (std::streamsize i = 0; i < in.gcount(); ++i)
      h = (h ^ static_cast<unsigned char>(buf[static_cast<size_t>(i)])) * 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

namespace {

// A model file loaded on every rank, with what the cache needs to know of it.
struct Model {
  std::string name, path, checksum;
  io::Normalisation norm;
  int window = 0;
  std::unique_ptr<NnInference> neural;
  std::unique_ptr<models::XgboostModel> xgboost;

  // Predictions (z-scored target) of `n` z-scored windows [n][window][features].
  void predict(const float* windows, std::int64_t n, float* out, std::vector<float>& flat) const {
    if (neural) {
      neural->predict(windows, static_cast<std::size_t>(n), out);
      return;
    }
    const int dynamic = xgboost->dynamic();
    flat.resize(static_cast<size_t>(n) * kernels::flat_width(window, dynamic));
    Kokkos::parallel_for("flatten_windows",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
                         kernels::FlattenWindows{windows, window, flat.data(), dynamic});
    Kokkos::fence();
    const auto y = xgboost->predict(flat.data(), n);
    std::copy(y.begin(), y.end(), out);
  }
};

// Checks a model's features, variable mapping and window against the
// dataset: a model trained on SST in kelvin must not run on degrees Celsius.
void check_against_dataset(const json& metadata, int window, const std::string& path,
                           const data::DatasetDescription& d) {
  const std::vector<std::string> expected = data::feature_names(d);
  std::vector<std::string> features;
  try {
    features = metadata.at("features").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    FR_FAIL("model file '", path, "': metadata has no list of 'features': ", e.what());
  }
  FR_REQUIRE(features == expected, "model file '", path, "' was trained with the features ",
             json(features).dump(), " but the dataset ", d.origin, " provides ",
             json(expected).dump(), "; retrain the model on this dataset");
  FR_REQUIRE(window == d.window, "model file '", path, "' was trained on windows of ", window,
             " months but the dataset ", d.origin, " has sampling.window ", d.window,
             "; retrain the model or set sampling.window: ", window);
  const json trained = metadata.value("train_store", json::object())
                           .value("selection", json::object())
                           .value("variables", json());
  if (trained.is_null()) {
    log::info("warning: model file '", path,
              "' records no variable mapping of its training data; "
              "cannot check it against ",
              d.origin);
    return;
  }
  const json now = data::variables_json(d);
  for (size_t i = 0; i < std::max(trained.size(), now.size()); ++i) {
    const json a = i < trained.size() ? trained[i] : json(), b = i < now.size() ? now[i] : json();
    FR_REQUIRE(a == b, "model file '", path, "' was trained with the variable mapping ",
               a.is_null() ? "(none)" : a.dump(), " but the dataset ", d.origin, " maps ",
               b.is_null() ? "(none)" : b.dump(),
               " ([role, file variable, scale, offset, constant]); reconstruct with the dataset "
               "the model was trained on, or retrain it");
  }
}

Model load_model(const std::string& name, const std::string& path,
                 const data::DatasetDescription& d) {
  Model m;
  m.name = name;
  m.path = path;
  if (name == "xgboost") {
    m.xgboost = std::make_unique<models::XgboostModel>(models::XgboostModel::load(path));
    const auto& meta = m.xgboost->metadata();
    m.window = m.xgboost->window();
    check_against_dataset(meta, m.window, path, d);
    try {
      m.norm = models::model_normalisation(meta);
    } catch (const json::exception& e) {
      FR_FAIL("model file '", path, "': no usable 'normalisation' in its metadata: ", e.what());
    }
  } else {
    const models::ModelFile file = models::read_model_file(path);
    FR_REQUIRE(models::kind_name(file.spec.kind) == name, "model file '", path, "' holds a ",
               models::kind_name(file.spec.kind), " model, expected ", name);
    m.window = file.spec.window;
    check_against_dataset(file.metadata, m.window, path, d);
    m.norm = models::model_normalisation(file.metadata);
    m.neural = std::make_unique<NnInference>(file.spec, file.weights);
  }
  return m;
}

// The models asked for: every file present for "all", else each named one
// (a missing file is an error).
std::vector<Model> load_models(const ReconstructOptions& opt, const data::DatasetDescription& d,
                               MPI_Comm comm) {
  const auto& known = reconstruct_model_names();
  std::vector<std::string> names;
  const bool all = std::find(opt.models.begin(), opt.models.end(), "all") != opt.models.end();
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(fs::is_directory(opt.models_dir), "models directory '", opt.models_dir,
               "' does not exist");
    for (const auto& m : opt.models)
      FR_REQUIRE(m == "all" || std::find(known.begin(), known.end(), m) != known.end(),
                 "unknown model '", m, "'; expected all, mlp, lstm, attention_lstm or xgboost");
    for (const auto& m : known) {
      const std::string path = (fs::path(opt.models_dir) / model_file_name(m)).string();
      const bool asked =
          all || std::find(opt.models.begin(), opt.models.end(), m) != opt.models.end();
      if (!asked) continue;
      if (fs::is_regular_file(path)) {
        names.push_back(m);
      } else {
        FR_REQUIRE(all, "model file '", path, "' is missing (model ", m,
                   "); train it with fluxrecon train or choose another --model");
      }
    }
    FR_REQUIRE(!names.empty(), "no model file in '", opt.models_dir,
               "' (looked for mlp.h5, lstm.h5, attention_lstm.h5, xgboost.json)");
  });
  std::vector<Model> out;
  all_ranks_agree(comm, [&] {
    for (const auto& n : names)
      out.push_back(load_model(n, (fs::path(opt.models_dir) / model_file_name(n)).string(), d));
  });
  for (auto& m : out) {
    std::string sum;
    all_ranks_agree(comm, [&] {
      if (mpi::rank(comm) == 0) sum = file_checksum(m.path);
    });
    m.checksum = mpi::broadcast(sum, 0, comm);
  }
  return out;
}

// Checks that the years exist and that January's windows have their
// previous year (unless the caller starts in April).
void check_years(const data::DatasetDescription& d, const ReconstructOptions& opt, MPI_Comm comm) {
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(opt.first_year <= opt.last_year, "--years ", opt.first_year, ":", opt.last_year,
               ": the last year is before the first");
    for (const auto& e : opt.experiments) {
      for (int y = opt.first_year; y <= opt.last_year; ++y) {
        const std::string path = d.file_for(e, y);
        FR_REQUIRE(fs::is_regular_file(path), "year ", y, " of experiment ", e,
                   " is outside the data: no input file '", path, "' (dataset ", d.origin, ")");
        if (d.window > 1 && !opt.start_april) {
          const std::string before = d.file_for(e, y - 1);
          FR_REQUIRE(fs::is_regular_file(before), "year ", y, " of experiment ", e,
                     ": January's window needs the last ", d.window - 1, " months of ", y - 1,
                     ", but '", before, "' is missing; pass --start-april to reconstruct from ",
                     "month ", d.window, " on (earlier months get the fill value)");
        }
        const int january = data::month_index(y, 1);
        data::require_series_months(
            d, {opt.start_april ? january : january - (d.window - 1), data::month_index(y, 12)});
      }
    }
  });
}

// Days since <year>-01-01 of the 15th of each month (proleptic Gregorian).
std::vector<double> mid_month_days(int year) {
  std::vector<double> t(12);
  double start = 0;
  for (int m = 1; m <= 12; ++m) {
    t[m - 1] = start + 14.0;
    start += io::days_in_month(year, m, "proleptic_gregorian");
  }
  return t;
}

// The rows and columns of the input grid that a region's caches hold: the
// bounding box of the region's ocean points, so that a regional cache is not
// a global field of fill (the North Atlantic is a tenth of ORCA025). A region
// without boxes keeps the whole model grid, halo and fold rows included.
struct Crop {
  std::int64_t row0 = 0, rows = 0, col0 = 0, cols = 0;  // in the input grid
  std::int64_t my_row0 = 0, my_rows = 0;  // this rank's rows of the crop (input grid rows)

  std::int64_t plane() const { return my_rows * cols; }
  // Index in this rank's [my_rows][cols] plane of a rank-local grid index.
  std::int64_t index(std::int64_t local, const data::Grid& g) const {
    const std::int64_t row = g.row_begin + local / g.nx, col = local % g.nx;
    return (row - my_row0) * cols + (col - col0);
  }
};

// Collective: the crop of `region` whose ocean points on this rank are `points`.
Crop crop_of(const data::Region& region, const std::vector<std::int64_t>& points,
             const data::Grid& g, const std::string& grid_file, MPI_Comm comm) {
  // Minima of (row, col, -row, -col) give the box in one reduction.
  std::int64_t box[4] = {g.ny, g.nx, 1, 1};
  for (const std::int64_t p : points) {
    const std::int64_t row = g.row_begin + p / g.nx, col = p % g.nx;
    box[0] = std::min(box[0], row);
    box[1] = std::min(box[1], col);
    box[2] = std::min(box[2], -row);
    box[3] = std::min(box[3], -col);
  }
  MPI_Allreduce(MPI_IN_PLACE, box, 4, MPI_INT64_T, MPI_MIN, comm);
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(box[0] < g.ny, "region '", region.name, "' holds no ocean point of the grid of '",
               grid_file, "'; check its lat/lon boxes");
  });
  Crop c;
  if (region.boxes.empty()) {
    c.rows = g.ny;
    c.cols = g.nx;
  } else {
    c.row0 = box[0];
    c.col0 = box[1];
    c.rows = -box[2] - box[0] + 1;
    c.cols = -box[3] - box[1] + 1;
  }
  c.my_row0 = std::max<std::int64_t>(g.row_begin, c.row0);
  c.my_rows = std::min<std::int64_t>(g.row_end, c.row0 + c.rows) - c.my_row0;
  if (c.my_rows <= 0) {  // no row of the crop: an empty write at its start
    c.my_row0 = c.row0;
    c.my_rows = 0;
  }
  return c;
}

// Collective: a checksum of the whole input grid's coordinates that does not
// depend on how the rows are split (a sum of per-cell hashes), so that the
// analysis can tell caches cut from different grids of the same size apart.
std::string input_grid_checksum(const data::Grid& g, MPI_Comm comm) {
  auto mix = [](std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  };
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < g.local_points(); ++i) {
    // As stored in the caches (float), so that the sum matches their nav_lat/nav_lon.
    const float lat = static_cast<float>(g.lat[i]), lon = static_cast<float>(g.lon[i]);
    std::uint32_t lat_bits = 0, lon_bits = 0;
    std::memcpy(&lat_bits, &lat, 4);
    std::memcpy(&lon_bits, &lon, 4);
    sum += mix(static_cast<std::uint64_t>(g.global_index(i)) * 0x9E3779B97F4A7C15ull ^
               (static_cast<std::uint64_t>(lat_bits) << 32 | lon_bits));
  }
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, comm);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(sum));
  return concat(g.ny, "x", g.nx, ":", hex);
}

// One cache's fields on this rank's rows of the crop: [12][my_rows][cols].
struct CacheFields {
  const std::vector<float>& simulated;
  const std::vector<float>& reconstructed;
  const std::vector<signed char>& sampled;  // spatial design only, else empty
};

struct CacheContext {
  const data::DatasetDescription& d;
  const data::Grid& grid;
  const std::string& grid_checksum;
  const Crop& crop;
  const Model& model;
  const CellAreas& areas;
  std::string experiment, region, region_boxes, units;
  int year = 0, first_month = 1;  // first month with a reconstruction
  std::int64_t samples = 0, skipped = 0;
};

void write_cache(const std::string& path, const CacheContext& c, const CacheFields& f,
                 MPI_Comm comm) {
  const auto& g = c.grid;
  const Crop& crop = c.crop;
  AtomicOutput output(path, comm);
  io::NcWriter w(output.temp_path(), comm, io::WriteFormat::cdf5);
  using io::NcType;
  w.define_dimension("time", 12);
  w.define_dimension("y", crop.rows);
  w.define_dimension("x", crop.cols);
  w.define_variable("time_counter", NcType::float64, {"time"});
  w.put_attribute("time_counter", "standard_name", "time");
  w.put_attribute("time_counter", "long_name", "middle of the month");
  w.put_attribute("time_counter", "units", concat("days since ", c.year, "-01-01 00:00:00"));
  w.put_attribute("time_counter", "calendar", "proleptic_gregorian");
  w.put_attribute("time_counter", "axis", "T");
  for (const char* name : {"nav_lat", "nav_lon"}) {
    const bool lat = name[4] == 'l' && name[5] == 'a';
    w.define_variable(name, NcType::float32, {"y", "x"});
    w.put_attribute(name, "standard_name", lat ? "latitude" : "longitude");
    w.put_attribute(name, "long_name", lat ? "latitude" : "longitude");
    w.put_attribute(name, "units", lat ? "degrees_north" : "degrees_east");
  }
  const std::string& var = c.d.variables[c.d.target_role()].file_name;
  const char* long_names[2] = {"simulated air-sea CO2 flux (the model run's target)",
                               "reconstructed air-sea CO2 flux"};
  const char* names[2] = {"co2flux_simulated", "co2flux_reconstructed"};
  for (int i = 0; i < 2; ++i) {
    w.define_variable(names[i], NcType::float32, {"time", "y", "x"});
    w.put_attribute(names[i], "long_name",
                    i == 0 ? concat(long_names[0], ", variable '", var, "'")
                           : concat(long_names[1], " by the ", c.model.name, " model"));
    if (!c.units.empty()) w.put_attribute(names[i], "units", c.units);
    if (!c.d.target_sign.empty()) w.put_attribute(names[i], "sign_convention", c.d.target_sign);
    w.put_attribute(names[i], "coordinates", "time_counter nav_lat nav_lon");
    w.put_attribute(names[i], "_FillValue", NcType::float32, {kCacheFill});
    w.put_attribute(names[i], "missing_value", NcType::float32, {kCacheFill});
  }
  // Spatial design: which cells gave training or validation samples in this
  // year, so that the analysis scores the never-sampled ones.
  if (c.d.design == "spatial") {
    w.define_variable("sampled", NcType::byte, {"time", "y", "x"});
    w.put_attribute("sampled", "long_name",
                    "1 where the location was observed in this year (its samples of the year "
                    "were training or validation samples), 0 where never sampled");
    w.put_attribute("sampled", "mask", c.d.sampling_mask);
    w.put_attribute("sampled", "coordinates", "time_counter nav_lat nav_lon");
  }
  // Cell areas, so that area sums need nothing but the cache (0 on duplicated
  // halo / north-fold points: every cell counts once).
  w.define_variable("cell_area", NcType::float64, {"y", "x"});
  w.put_attribute("cell_area", "standard_name", "cell_area");
  w.put_attribute("cell_area", "long_name", "cell area (e1t*e2t)");
  w.put_attribute("cell_area", "units", "m2");
  w.put_attribute("cell_area", "coordinates", "nav_lat nav_lon");
  w.put_attribute("cell_area", "source", c.areas.source);
  if (c.d.drop_duplicate_points)
    w.put_attribute("cell_area", "comment",
                    "0 on duplicated ORCA halo columns and north-fold points, so that a sum over "
                    "the grid counts every cell once");
  w.put_attribute("co2flux_reconstructed", "first_month_reconstructed", NcType::int32,
                  {static_cast<double>(c.first_month)});
  w.put_attribute("", "Conventions", "CF-1.8");
  w.put_attribute("", "title",
                  concat("fluxrecon reconstruction: ", c.model.name, ", ", c.region, ", ",
                         c.experiment, ", ", c.year));
  w.put_attribute("", "model", c.model.name);
  w.put_attribute("", "experiment", c.experiment);
  w.put_attribute("", "region", c.region);
  w.put_attribute("", "region_boxes", c.region_boxes);
  // Where the cache lies in the input grid (0-based first row and column).
  w.put_attribute("", "input_grid_ny", NcType::int32, {static_cast<double>(g.ny)});
  w.put_attribute("", "input_grid_nx", NcType::int32, {static_cast<double>(g.nx)});
  w.put_attribute("", "y_offset", NcType::int32, {static_cast<double>(crop.row0)});
  w.put_attribute("", "x_offset", NcType::int32, {static_cast<double>(crop.col0)});
  w.put_attribute("", "input_grid_checksum", c.grid_checksum);
  w.put_attribute("", "year", NcType::int32, {static_cast<double>(c.year)});
  w.put_attribute("", "model_file", c.model.path);
  w.put_attribute("", "model_file_checksum", "fnv1a64:" + c.model.checksum);
  w.put_attribute("", "dataset", c.d.name);
  w.put_attribute("", "dataset_config", c.d.origin);
  w.put_attribute("", "input_files",
                  c.first_month > 1 ? c.d.file_for(c.experiment, c.year)
                                    : concat(c.d.file_for(c.experiment, c.year - 1), " ",
                                             c.d.file_for(c.experiment, c.year)));
  w.put_attribute("", "cell_area_source",
                  c.areas.from_metrics ? "grid metrics (e1t*e2t)" : "computed from cell centres");
  w.put_attribute("", "window_months", NcType::int32, {static_cast<double>(c.d.window)});
  w.put_attribute("", "sampling_design", c.d.design);
  w.put_attribute("", "samples", NcType::float64, {static_cast<double>(c.samples)});
  w.put_attribute("", "skipped_windows", NcType::float64, {static_cast<double>(c.skipped)});
  w.put_attribute("", "software", std::string("fluxrecon ") + FLUXRECON_VERSION);
  w.end_definitions();

  const auto t = mid_month_days(c.year);
  const bool root = mpi::rank(comm) == 0;
  w.write("time_counter", {0}, {root ? 12 : 0}, t.data());
  // The rank's rows of the crop, its columns only (one element more than
  // needed so that a rank without rows still passes valid pointers).
  const size_t cells = static_cast<size_t>(crop.plane());
  std::vector<float> lat(cells + 1), lon(cells + 1);
  std::vector<double> area(cells + 1, 0.0);
  for (std::int64_t j = 0; j < crop.my_rows; ++j)
    for (std::int64_t i = 0; i < crop.cols; ++i) {
      const size_t from =
          static_cast<size_t>((crop.my_row0 + j - g.row_begin) * g.nx + crop.col0 + i);
      const size_t to = static_cast<size_t>(j * crop.cols + i);
      lat[to] = static_cast<float>(g.lat[from]);
      lon[to] = static_cast<float>(g.lon[from]);
      if (!c.areas.area.empty()) area[to] = c.areas.area[from];
    }
  const std::int64_t y0 = crop.my_row0 - crop.row0;
  w.write("nav_lat", {y0, 0}, {crop.my_rows, crop.cols}, lat.data());
  w.write("nav_lon", {y0, 0}, {crop.my_rows, crop.cols}, lon.data());
  w.write("cell_area", {y0, 0}, {crop.my_rows, crop.cols}, area.data());
  // The rank's rows of each month are one contiguous block in its buffer but
  // not in the file: one put per variable with the (12, rows, cols) block.
  static const float none = 0;
  const float* simulated = f.simulated.empty() ? &none : f.simulated.data();
  const float* reconstructed = f.reconstructed.empty() ? &none : f.reconstructed.data();
  w.write("co2flux_simulated", {0, y0, 0}, {12, crop.my_rows, crop.cols}, simulated);
  w.write("co2flux_reconstructed", {0, y0, 0}, {12, crop.my_rows, crop.cols}, reconstructed);
  if (c.d.design == "spatial") {
    static const signed char no = 0;
    w.write("sampled", {0, y0, 0}, {12, crop.my_rows, crop.cols},
            f.sampled.empty() ? &no : f.sampled.data());
  }
  w.close();
  output.commit();
}

struct Task {
  std::string experiment;
  int year;
};

// Collective: a complete cache at `path` made from this model file and
// starting in this month. A cache of another model file (the model was
// trained again) or of another --start-april choice is stale: it is redone.
bool cache_current(const std::string& path, const Model& model, int first_month, const Crop& crop,
                   const std::string& grid_checksum, MPI_Comm comm) {
  if (!output_complete(path, comm)) return false;
  int current = 0;
  std::string why;
  if (mpi::rank(comm) == 0) {
    try {
      auto f = io::GridFile::open(path, MPI_COMM_SELF);
      const auto sum = f->text_attribute("", "model_file_checksum");
      const auto first = f->number_attribute("co2flux_reconstructed", "first_month_reconstructed");
      // The cells it holds: caches written before regional caches were cut
      // to their region's box hold the whole grid.
      const auto y0 = f->number_attribute("", "y_offset").value_or(0);
      const auto x0 = f->number_attribute("", "x_offset").value_or(0);
      const std::int64_t ny = f->has_dimension("y") ? f->dimension_length("y") : 0;
      const std::int64_t nx = f->has_dimension("x") ? f->dimension_length("x") : 0;
      if (sum != "fnv1a64:" + model.checksum)
        why = concat("made from another ", model.name, " model file (", sum.value_or("no checksum"),
                     ")");
      else if (!first || static_cast<int>(*first) != first_month)
        why =
            concat("starts in month ", first ? static_cast<int>(*first) : 0, ", not ", first_month);
      else if (ny != crop.rows || nx != crop.cols || y0 != crop.row0 || x0 != crop.col0)
        why = concat("holds ", ny, " x ", nx, " cells at (", y0, ", ", x0, "), not the region's ",
                     crop.rows, " x ", crop.cols, " at (", crop.row0, ", ", crop.col0, ")");
      else if (f->text_attribute("", "input_grid_checksum") != grid_checksum)
        why = "was cut from another input grid";
      current = why.empty() ? 1 : 0;
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (!current) log::info("reconstruct: ", path, " is redone: ", why);
  }
  MPI_Bcast(&current, 1, MPI_INT, 0, comm);
  return current != 0;
}

}  // namespace

ReconstructSummary reconstruct(const config::Config& cfg, const ReconstructOptions& opt,
                               MPI_Comm comm) {
  const double t_start = wall_seconds();
  ReconstructSummary summary;
  Timers timers;
  for (const char* name : {"grid", "read", "windows", "predict", "write"}) timers.add(name, 0);
  data::DatasetDescription d;
  std::vector<data::Region> regions;
  all_ranks_agree(comm, [&] {
    d = data::load_dataset(cfg, opt.data_dir);
    FR_REQUIRE(!opt.experiments.empty(), "reconstruct: no experiment given");
    for (const auto& e : opt.experiments) d.experiment(e);
    FR_REQUIRE(!opt.regions.empty(), "reconstruct: no region given");
    for (const auto& r : opt.regions) regions.push_back(data::resolve_region(cfg, r));
    FR_REQUIRE(!opt.out_dir.empty(), "reconstruct: no output directory given");
    ensure_directory(opt.out_dir);
  });
  check_years(d, opt, comm);
  const std::vector<Model> models = load_models(opt, d, comm);
  for (const auto& m : models) summary.models.push_back(m.name);

  // Groups of ranks take different (experiment, year) tasks.
  std::vector<Task> tasks;
  for (const auto& e : opt.experiments)
    for (int y = opt.first_year; y <= opt.last_year; ++y) tasks.push_back({e, y});
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  const int wanted = opt.year_groups > 0 ? opt.year_groups : static_cast<int>(tasks.size());
  const int groups = std::max(1, std::min({wanted, ranks, static_cast<int>(tasks.size())}));
  const int color = static_cast<int>(static_cast<std::int64_t>(me) * groups / ranks);
  MPI_Comm group;
  MPI_Comm_split(comm, color, me, &group);
  const int group_rank = mpi::rank(group);
  summary.groups = groups;
  std::vector<Task> mine;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (static_cast<int>(i % groups) == color) mine.push_back(tasks[i]);

  log::info("reconstruct ", d.name, ": ", models.size(), " model(s), ", opt.experiments.size(),
            " experiment(s), ", regions.size(), " region(s), years ", opt.first_year, "-",
            opt.last_year, " on ", ranks, " rank(s) in ", groups, " group(s)",
            opt.start_april
                ? concat("; --start-april: months 1-", d.window - 1, " get the fill value")
                : "");

  int written = 0, reused = 0;
  std::int64_t samples = 0, points_written = 0;
  std::uint64_t bytes_read = 0;  // by this rank's year reader
  double file_read_seconds = 0;  // of which in the file reads (the rest: transposition)
  std::exception_ptr failure;
  try {
    data::Grid grid;
    CellAreas areas;
    std::string units;
    {
      auto t = timers.scope("grid");
      auto file = io::GridFile::open(d.file_for(mine.front().experiment, mine.front().year), group);
      grid = data::load_grid(*file, d, group, regions);  // rows balanced by the regions' points
      areas = cell_areas(*file, d, grid, group);
      // Units: the file's own when the dataset does not convert the target.
      const auto& target = d.variables[d.target_role()];
      if (target.scale == 1.0 && target.offset == 0.0)
        units = file->text_attribute(target.file_name, "units").value_or("");
      if (units.empty()) units = d.target_units;
    }
    // Every ocean point of each region (the same in every year), and their union.
    std::vector<std::vector<std::int64_t>> region_points;
    std::vector<std::int64_t> all_points;
    for (const auto& region : regions) {
      region_points.push_back(data::select_locations(grid, region, 1.0, d.seed, group));
      all_points.insert(all_points.end(), region_points.back().begin(), region_points.back().end());
    }
    const std::string grid_checksum = input_grid_checksum(grid, group);
    std::vector<Crop> crops;
    for (size_t r = 0; r < regions.size(); ++r)
      crops.push_back(crop_of(regions[r], region_points[r], grid,
                              d.file_for(mine.front().experiment, mine.front().year), group));
    std::sort(all_points.begin(), all_points.end());
    all_points.erase(std::unique(all_points.begin(), all_points.end()), all_points.end());
    std::int64_t expected = 0;  // this rank's windows, for the progress line
    for (const auto& p : region_points) expected += static_cast<std::int64_t>(p.size());
    expected *= static_cast<std::int64_t>(mine.size() * models.size()) *
                (12 - (opt.start_april ? d.window - 1 : 0));
    Progress progress("reconstruct: windows predicted (rank 0)", expected, "samples", 10.0);

    data::YearReader reader(d, grid, group);
    data::ObservationMask observation(d, grid, group);
    const std::int64_t batch = std::max<std::int64_t>(1, opt.batch);
    std::vector<float> features(static_cast<size_t>(batch) * d.window *
                                data::feature_names(d).size()),
        target(static_cast<size_t>(batch)), predicted(static_cast<size_t>(batch)), flat;
    // Reused chunk after chunk and year after year.
    data::Series series;
    std::vector<std::vector<float>> simulated(regions.size()),
        reconstructed(regions.size() * models.size());
    int task_index = 0;
    for (const auto& task : mine) {
      ++task_index;
      // Which caches this task still needs.
      std::vector<std::vector<std::string>> paths(regions.size());
      bool any = false;
      for (size_t r = 0; r < regions.size(); ++r)
        for (const auto& m : models) {
          paths[r].push_back((fs::path(opt.out_dir) /
                              cache_file_name(m.name, regions[r].name, task.experiment, task.year))
                                 .string());
          const bool done =
              !opt.force && cache_current(paths[r].back(), m, opt.start_april ? d.window : 1,
                                          crops[r], grid_checksum, group);
          if (done) {
            paths[r].back().clear();
            ++reused;
            progress.advance(
                expected / static_cast<std::int64_t>(mine.size() * models.size() * regions.size()));
          }
          any = any || !paths[r].back().empty();
        }
      if (!any) {
        log::info("reconstruct: ", task.experiment, " ", task.year,
                  ": every cache is complete from an earlier run (--force redoes them)");
        continue;
      }
      // January's windows reach back into the previous year unless starting later.
      const int january = data::month_index(task.year, 1);
      const data::MonthInterval months{opt.start_april ? january : january - (d.window - 1),
                                       data::month_index(task.year, 12)};
      const int january_slot = january - months.start;
      const auto needed = [&](size_t r, size_t mi) { return !paths[r][mi].empty(); };
      const size_t n_models = models.size();
      const auto region_needed = [&](size_t r) {
        for (size_t mi = 0; mi < n_models; ++mi)
          if (needed(r, mi)) return true;
        return false;
      };
      for (size_t r = 0; r < regions.size(); ++r) {
        if (!region_needed(r)) continue;
        const auto cells = static_cast<size_t>(12 * crops[r].plane());
        simulated[r].assign(cells, kCacheFill);
        for (size_t mi = 0; mi < n_models; ++mi)
          if (needed(r, mi)) reconstructed[r * n_models + mi].assign(cells, kCacheFill);
      }
      // Spatial design: the year's observed locations, marked in every month.
      std::vector<std::vector<signed char>> sampled(regions.size());
      if (d.design == "spatial") {
        const auto observed = observation.months(task.year);
        for (size_t r = 0; r < regions.size(); ++r) {
          if (!region_needed(r)) continue;
          const Crop& crop = crops[r];
          sampled[r].assign(static_cast<size_t>(12 * crop.plane()), 0);
          for (const auto p : region_points[r])
            if (observed[p])
              for (int m = 0; m < 12; ++m) sampled[r][m * crop.plane() + crop.index(p, grid)] = 1;
        }
      }
      std::vector<std::int64_t> windows_of(regions.size() * n_models, 0),
          skipped_of(regions.size());
      // A rank-local failure (e.g. in XGBoost) is agreed on before the
      // collective writes, so that no rank waits there alone; the failed
      // rank still takes part in the chunks' collective reads.
      std::exception_ptr predict_failure;

      // The points in chunks of consecutive (row-ordered) points: each chunk's
      // series is read, windowed and predicted in a buffer reused from chunk to
      // chunk, so memory does not grow with the grid and no year takes fresh
      // pages for a whole series. Every rank of the group takes part in as
      // many collective reads as the rank with the most chunks.
      const std::int64_t chunk = std::max<std::int64_t>(1, opt.chunk_points);
      const std::int64_t n_all = static_cast<std::int64_t>(all_points.size());
      const std::int64_t chunks = mpi::max((n_all + chunk - 1) / chunk, group);
      std::vector<std::int64_t> chunk_points;
      for (std::int64_t c = 0; c < chunks; ++c) {
        const std::int64_t p0 = std::min(n_all, c * chunk), p1 = std::min(n_all, p0 + chunk);
        chunk_points.assign(all_points.begin() + p0, all_points.begin() + p1);
        {
          auto t = timers.scope("read");
          data::read_series_into(reader, task.experiment, months, chunk_points, nullptr, series);
        }
        for (size_t r = 0; r < regions.size(); ++r) {
          if (!region_needed(r)) continue;
          // The region's points in this chunk (both lists ascending).
          const auto& all_of_region = region_points[r];
          const auto lo = chunk_points.empty()
                              ? all_of_region.end()
                              : std::lower_bound(all_of_region.begin(), all_of_region.end(),
                                                 chunk_points.front());
          const auto hi = chunk_points.empty()
                              ? all_of_region.end()
                              : std::upper_bound(lo, all_of_region.end(), chunk_points.back());
          const std::vector<std::int64_t> points(lo, hi);
          data::Series subset;  // the region's rows, unless it has every point of the chunk
          const data::Series& sub = points.size() == chunk_points.size() ? series : subset;
          data::WindowIndex windows;
          std::vector<double> statics;
          {
            auto t = timers.scope("windows");
            if (points.size() != chunk_points.size())
              subset = data::subset_series(series, chunk_points, points);
            windows = data::enumerate_windows(sub, points, grid, d, task.experiment);
            statics = data::point_statics(grid, points);
          }
          all_ranks_agree(group, [&] {
            if (d.missing_values == "error" && !windows.first_problem.empty())
              FR_FAIL(windows.first_problem);
          });
          skipped_of[r] += windows.skipped;
          const Crop& crop = crops[r];
          const std::int64_t plane = crop.plane();
          std::vector<std::int64_t> at(points.size());  // the points' indices in the crop plane
          for (size_t k = 0; k < points.size(); ++k) at[k] = crop.index(points[k], grid);
          for (size_t k = 0; k < points.size(); ++k)
            for (int m = 0; m < 12; ++m) {
              const float v =
                  sub.values[(k * sub.slots + january_slot + m) * sub.roles + d.target_role()];
              if (std::isfinite(v)) simulated[r][m * plane + at[k]] = v;
            }
          for (size_t mi = 0; mi < n_models; ++mi) {
            if (!needed(r, mi) || predict_failure) continue;
            const Model& model = models[mi];
            const kernels::Normalisation kn = data::kernel_normalisation(model.norm);
            auto& out = reconstructed[r * n_models + mi];
            windows_of[r * n_models + mi] += windows.size();
            try {
              for (std::int64_t i = 0; i < windows.size(); i += batch) {
                const std::int64_t n = std::min(batch, windows.size() - i);
                {
                  auto t = timers.scope("windows");
                  data::assemble_windows(sub, statics, windows, i, n, d.window, kn, features.data(),
                                         target.data());
                  Kokkos::fence();
                }
                {
                  auto t = timers.scope("predict");
                  model.predict(features.data(), n, predicted.data(), flat);
                }
                for (std::int64_t q = 0; q < n; ++q) {
                  const int month = windows.slot[i + q] - january_slot;  // 0..11
                  out[month * plane + at[windows.point[i + q]]] = static_cast<float>(
                      predicted[q] * model.norm.target_std + model.norm.target_mean);
                }
                progress.advance(n);
              }
            } catch (...) {
              predict_failure = std::current_exception();
            }
          }
        }
      }
      all_ranks_agree(group, [&] {
        if (predict_failure) std::rethrow_exception(predict_failure);
      });

      for (size_t r = 0; r < regions.size(); ++r) {
        const std::int64_t skipped = mpi::sum(skipped_of[r], group);
        for (size_t mi = 0; mi < n_models; ++mi) {
          if (!needed(r, mi)) continue;
          CacheContext context{d,          grid,  grid_checksum,   crops[r],
                               models[mi], areas, task.experiment, regions[r].name,
                               "",         units, task.year,       opt.start_april ? d.window : 1};
          for (const auto& b : regions[r].boxes)
            context.region_boxes +=
                concat(context.region_boxes.empty() ? "" : "; ", "lat [", b.lat_min, ", ",
                       b.lat_max, "], lon [", b.lon_min, ", ", b.lon_max, "]");
          if (context.region_boxes.empty()) context.region_boxes = "everywhere";
          const std::int64_t mine_windows = windows_of[r * n_models + mi];
          context.samples = mpi::sum(mine_windows, group);
          context.skipped = skipped;
          {
            auto t = timers.scope("write");
            write_cache(paths[r][mi], context,
                        {simulated[r], reconstructed[r * n_models + mi], sampled[r]}, group);
          }
          ++written;
          samples += mine_windows;
          points_written += mpi::sum(static_cast<std::int64_t>(region_points[r].size()), group);
          log::info("reconstruct: ", fs::path(paths[r][mi]).filename().string(), " (",
                    context.samples, " windows", skipped ? concat(", ", skipped, " skipped") : "",
                    "), year ", task_index, "/", mine.size(), " of rank 0's group");
        }
      }
    }
    progress.finish();
    bytes_read = reader.bytes_read();
    file_read_seconds = reader.io_seconds();
  } catch (...) {
    failure = std::current_exception();
  }
  MPI_Comm_free(&group);
  all_ranks_agree(comm, [&] {
    if (failure) std::rethrow_exception(failure);
  });

  // Counts per group are the same on its ranks: sum one rank per group.
  summary.caches_written = mpi::sum(group_rank == 0 ? written : 0, comm);
  summary.caches_reused = mpi::sum(group_rank == 0 ? reused : 0, comm);
  summary.points = mpi::sum(group_rank == 0 ? points_written : std::int64_t{0}, comm);
  summary.samples = mpi::sum(samples, comm);
  summary.predict_seconds = mpi::max(timers.seconds("predict"), comm);
  summary.read_seconds = mpi::max(timers.seconds("read"), comm);
  summary.write_seconds = mpi::max(timers.seconds("write"), comm);
  summary.bytes_read = static_cast<double>(mpi::sum(static_cast<std::int64_t>(bytes_read), comm));
  log::info("reconstruct: read ", log::bytes(summary.bytes_read), " of input fields over ", ranks,
            " rank(s); file reads ", log::seconds(mpi::max(file_read_seconds, comm)),
            " of the read time (max over ranks; the rest is ordering the values by point)");
  summary.seconds = mpi::max(wall_seconds() - t_start, comm);
  timers.report(comm, "reconstruct");
  return summary;
}

}  // namespace fluxrecon::recon
