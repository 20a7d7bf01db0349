#include "data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/features.hpp"
#include "data/pco2_route.hpp"

namespace fluxrecon::data {
namespace fs = std::filesystem;
using config::Schema;

const std::array<std::string, kDynamicFeatures>& predictor_names() {
  static const std::array<std::string, kDynamicFeatures> names = {
      "SST",           "SAL",      "ice_frac", "mixed_layer_depth", "heat_flux_down",
      "water_flux_up", "stress_X", "stress_Y", "currents_X",        "currents_Y"};
  return names;
}

const std::array<std::string, kFeatures>& feature_names() {
  static const std::array<std::string, kFeatures> names = [] {
    std::array<std::string, kFeatures> n;
    for (int i = 0; i < kDynamicFeatures; ++i) n[i] = predictor_names()[i];
    n[10] = "sin_lat";
    n[11] = "cos_lat";
    n[12] = "sin_lon";
    n[13] = "cos_lon";
    return n;
  }();
  return names;
}

const std::array<std::string, kPositionFeatures>& position_feature_names() {
  static const std::array<std::string, kPositionFeatures> names = {"sin_lat", "cos_lat", "sin_lon",
                                                                   "cos_lon"};
  return names;
}

double GlobalSeries::at(int month) const {
  const auto it = std::lower_bound(values.begin(), values.end(), std::make_pair(month, -HUGE_VAL));
  FR_REQUIRE(it != values.end() && it->first == month, file, ": the series '", column,
             "' (feature ", name, ") has no value for ", month / 12, "-", month % 12 + 1,
             "; the periods of the dataset need every month from the first training month on");
  return it->second;
}

std::vector<std::pair<int, double>> read_monthly_csv(const std::string& path,
                                                     const std::string& column) {
  std::ifstream in(path);
  FR_REQUIRE(in, path, ": cannot open the series file");
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& text) {
    std::vector<std::string> cells;
    std::stringstream ss(text);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      const auto a = cell.find_first_not_of(" \t\r"), b = cell.find_last_not_of(" \t\r");
      cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
    }
    return cells;
  };
  int line_no = 0;
  while (header.empty() && std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    header = split(line);
  }
  auto find = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int col = find(column), year_col = find("year"), month_col = find("month"),
            time_col = find("time");
  FR_REQUIRE(col >= 0, path, ": no column '", column,
             "' in the header (columns: ", line.empty() ? "none" : line, ")");
  FR_REQUIRE((year_col >= 0 && month_col >= 0) || time_col >= 0, path,
             ": the header needs the columns 'year' and 'month' or a column 'time' (YYYY-MM)");
  std::vector<std::pair<int, double>> values;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    const auto cells = split(line);
    auto number = [&](int c, const char* what) {
      FR_REQUIRE(c < static_cast<int>(cells.size()), path, ":", line_no, ": no ", what, " value");
      char* end = nullptr;
      const double v = std::strtod(cells[c].c_str(), &end);
      FR_REQUIRE(!cells[c].empty() && *end == '\0' && std::isfinite(v), path, ":", line_no, ": ",
                 what, " '", cells[c], "' is not a finite number");
      return v;
    };
    int year = 0, month = 0;
    if (year_col >= 0 && month_col >= 0) {
      year = static_cast<int>(number(year_col, "year"));
      month = static_cast<int>(number(month_col, "month"));
    } else {
      FR_REQUIRE(time_col < static_cast<int>(cells.size()) &&
                     std::sscanf(cells[time_col].c_str(), "%d-%d", &year, &month) == 2,
                 path, ":", line_no, ": time '",
                 time_col < static_cast<int>(cells.size()) ? cells[time_col] : "",
                 "' is not YYYY-MM");
    }
    FR_REQUIRE(month >= 1 && month <= 12, path, ":", line_no, ": month ", month,
               " is not in 1..12");
    values.emplace_back(month_index(year, month), number(col, column.c_str()));
  }
  FR_REQUIRE(!values.empty(), path, ": no values in column '", column, "'");
  std::sort(values.begin(), values.end());
  for (size_t i = 1; i < values.size(); ++i)
    FR_REQUIRE(values[i].first != values[i - 1].first, path, ": ", values[i].first / 12, "-",
               values[i].first % 12 + 1, " appears twice");
  return values;
}

namespace {

// "YYYY-MM" or a bare year.
int parse_month(const YAML::Node& n, const std::string& path, bool is_end) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  static const std::regex ym(R"(^(\d{1,4})-(\d{1,2})$)"), y(R"(^(\d{1,4})$)");
  std::smatch m;
  if (std::regex_match(s, m, ym)) {
    const int month = std::stoi(m[2]);
    FR_REQUIRE(month >= 1 && month <= 12, path, ": month ", month, " is not in 1..12");
    return month_index(std::stoi(m[1]), month);
  }
  if (std::regex_match(s, m, y)) return month_index(std::stoi(m[1]), is_end ? 12 : 1);
  FR_FAIL(path, ": expected a year (1958) or a month (1958-01), got '", s, "'");
}

// A period: [first_year, last_year], a list of such pairs, or
// {t_start: YYYY-MM, t_end: YYYY-MM}, or a list of those. Normalised to a
// list of [start_month_index, end_month_index].
YAML::Node normalise_period(const YAML::Node& value, const std::string& path) {
  std::vector<MonthInterval> intervals;
  auto add_pair = [&](const YAML::Node& a, const YAML::Node& b, const std::string& p) {
    MonthInterval iv{parse_month(a, p, false), parse_month(b, p, true)};
    auto text = [](int m) { return concat(m / 12, "-", m % 12 + 1 < 10 ? "0" : "", m % 12 + 1); };
    FR_REQUIRE(iv.end >= iv.start, p, ": the period ends before it starts (", text(iv.start),
               " to ", text(iv.end), ")");
    intervals.push_back(iv);
  };
  auto add_item = [&](const YAML::Node& item, const std::string& p) {
    if (item.IsMap()) {
      for (const auto& kv : item) {
        const auto k = kv.first.as<std::string>();
        FR_REQUIRE(k == "t_start" || k == "t_end", p, ": unknown key '", k,
                   "'; expected t_start and t_end");
      }
      FR_REQUIRE(item["t_start"] && item["t_end"], p, ": needs both t_start and t_end");
      add_pair(item["t_start"], item["t_end"], p);
    } else if (item.IsSequence() && item.size() == 2 && item[0].IsScalar()) {
      add_pair(item[0], item[1], p);
    } else {
      FR_FAIL(p, ": expected [first_year, last_year] or {t_start: YYYY-MM, t_end: YYYY-MM}");
    }
  };
  if (value.IsSequence() && value.size() > 0 && !value[0].IsScalar()) {
    for (size_t i = 0; i < value.size(); ++i)
      add_item(value[i], path + "[" + std::to_string(i) + "]");
  } else {
    add_item(value, path);
  }
  for (size_t i = 1; i < intervals.size(); ++i)
    FR_REQUIRE(intervals[i].start > intervals[i - 1].end, path,
               ": intervals must be in time order and must not overlap");
  YAML::Node out(YAML::NodeType::Sequence);
  for (const auto& iv : intervals) {
    YAML::Node pair(YAML::NodeType::Sequence);
    pair.push_back(iv.start);
    pair.push_back(iv.end);
    out.push_back(pair);
  }
  return out;
}

Schema variable_schema(const std::string& default_name) {
  return Schema()
      .text("name", default_name, {},
            "variable name in the file; '' = not in the file, use constant")
      .real("scale", 1.0, -Schema::inf, Schema::inf,
            "unit conversion: value = file_value * scale + offset")
      .real("offset", 0.0, -Schema::inf, Schema::inf, "unit conversion offset (after scale)")
      .real("constant", 0.0, -Schema::inf, Schema::inf, "value used when name is ''");
}

Schema build_schema() {
  Schema variables("file variables for the 10 predictors and the target");
  for (const auto& p : predictor_names())
    variables.section(p, variable_schema(p), "predictor " + p);
  variables.section("target", variable_schema("co2flux"), "the target (air-sea CO2 flux)");

  Schema box;
  box.real("lat_min", -90.0, -90.0, 90.0, "southern bound (inclusive)")
      .real("lat_max", 90.0, -90.0, 90.0, "northern bound (inclusive)")
      .real("lon_min", -180.0, -360.0, 360.0,
            "western bound (inclusive); > lon_max wraps the dateline")
      .real("lon_max", 180.0, -360.0, 360.0, "eastern bound (inclusive)");

  Schema s("Dataset description for fluxrecon prepare (one YAML per dataset).");
  s.section("dataset",
            Schema()
                .text("name", std::nullopt, {}, "short name, used in output names")
                .text("source", "nemo", {"nemo", "cmip", "synthetic"}, "kind of model output")
                .text("description", "", {}, "free text, copied into outputs")
                .text("directory", ".", {}, "folder of the files; relative = to this YAML's folder")
                .text("target_units", "", {}, "units of the target after conversion (for outputs)")
                .text("target_sign", "", {},
                      "sign convention of the target, e.g. 'positive into the ocean'"),
            "what the dataset is and where it lives", true);
  s.map_of("experiments",
           Schema()
               .text("pattern", std::nullopt, {},
                     "file path pattern with {year}; without {year} one file holds all years")
               .real("wind_factor", 1.0, 0.25, 4.0,
                     "synthetic testbed only: scales the wind of this run (stress ~ factor^2)"),
           "named model runs (e.g. experiment_1, experiment_2)", 1);
  s.section("synth",
            Schema()
                .text("prefix", "testbed", {}, "file name prefix: <prefix>_<experiment>_<year>.nc")
                .integer("nx", 90, 8, 20000, "columns (4-degree: 90; ORCA025 size: 1442)")
                .integer("ny", 45, 4, 20000, "rows (4-degree: 45; ORCA025 size: 1021)")
                .integer("first_year", 1958, 1852, 2100, "first year written")
                .integer("last_year", 1967, 1852, 2100, "last year written")
                .integer("seed", 42, 0, Schema::int_max, "seed of every random number")
                .integer("spinup_years", 2, 0, 50, "years run (not written) before first_year")
                .flag("orca_halo", false, "add ORCA-like cyclic halo columns and a north-fold row")
                .text("format", "cdf5", {"cdf5", "64bit_offset"}, "netCDF format written"),
            "synthetic testbed generator (fluxrecon synth; only for source: synthetic)");
  s.text("training_experiment", std::nullopt, {},
         "the experiment that training and validation read");
  s.section(
      "grid",
      Schema()
          .text("latitude", "nav_lat", {}, "latitude variable, 2-D (y,x) or 1-D (y)")
          .text("longitude", "nav_lon", {}, "longitude variable, 2-D (y,x) or 1-D (x)")
          .text("mask", "tmask", {},
                "ocean mask: integer variable (ocean > 0) or a float field (ocean where finite at "
                "the first time)")
          .text("cell_width", "e1t", {},
                "zonal cell width (m) for area weights; '' = spherical geometry")
          .text("cell_height", "e2t", {}, "meridional cell height (m); '' = spherical geometry")
          .text("time", "time_counter", {}, "time variable (CF units and calendar)")
          .flag("drop_duplicate_points", true,
                "count ORCA cyclic-halo and north-fold duplicates once"),
      "grid variables");
  s.section("variables", variables, "predictor and target variables");
  s.section(
      "features",
      Schema()
          .map_of("variables",
                  Schema()
                      .text("name", std::nullopt, {}, "variable name in the file")
                      .real("scale", 1.0, -Schema::inf, Schema::inf,
                            "unit conversion: value = file_value * scale + offset")
                      .real("offset", 0.0, -Schema::inf, Schema::inf, "unit conversion offset"),
                  "extra predictors read from the files (feature name -> variable), after the "
                  "seed's 10, in this order, e.g. a carbon-state variable declared observable")
          .map_of("series",
                  Schema()
                      .text("file", std::nullopt, {},
                            "CSV with a header: columns year and month (or time as YYYY-MM) and "
                            "the value column; relative = to the dataset directory")
                      .text("column", "", {}, "value column ('' = the feature's name)"),
                  "global monthly series broadcast to every cell (feature name -> CSV), e.g. "
                  "atmospheric xCO2")
          .texts("time", std::vector<std::string>{}, {"year", "month"},
                 "time features: year (fractional year of the month, a trend term) and month "
                 "(its sin and cos)"),
      "predictors beyond the seed's 14 (order: the 10, extra variables, series, time features, "
      "then the 4 position features)");
  s.section(
      "time",
      Schema()
          .custom("train", YAML::Load("[1958, 1988]"), "period", normalise_period,
                  "training period: [first_year, last_year], {t_start, t_end} or a list of them")
          .custom("validation", YAML::Load("[1989, 2008]"), "period", normalise_period,
                  "validation period, same forms")
          .integers("test", std::vector<long long>{2009, 2018}, 1, 9999,
                    "test years [first, last] (one test set per year, region and experiment)", 2),
      "periods");
  s.section(
      "domain",
      Schema()
          .text("train_region", "global", {},
                "region of training/validation locations (built-in name or a box name)")
          .texts("test_regions", std::vector<std::string>{"global"}, {}, "regions of the test sets",
                 1)
          .texts("test_experiments", std::vector<std::string>{}, {},
                 "experiments for test sets ([] = all)")
          .map_of("boxes", Schema().list_of("boxes", box, "lat/lon boxes, united", 1),
                  "user regions: name -> {boxes: [{lat_min, lat_max, lon_min, lon_max}, ...]}"),
      "regions");
  s.section("sampling",
            Schema()
                .text("design", "temporal", {"temporal", "spatial"},
                      "temporal: training and validation periods at fixed locations, test years "
                      "at every location (periods must not overlap); spatial: cell-months "
                      "observed under `mask` in the training period train, those of the "
                      "validation years validate, test sets hold each year's never-observed "
                      "locations (periods may overlap)")
                .text("mask", "random_per_year", {"fixed", "random_per_year", "file"},
                      "spatial design: which cells are observed: the same drawn fraction of "
                      "locations every year, a fraction drawn anew every year, or a netCDF mask")
                .text("mask_file", "", {},
                      "mask: file: netCDF path with {year} (or one file of all years) on the "
                      "model grid; relative = to the dataset directory")
                .text("mask_variable", "mask", {},
                      "mask: file: variable (time, y, x), 1 where a cell-month is observed")
                .real("fraction", 0.01, 0.0, 1.0,
                      "fraction of ocean locations drawn for training/validation (per year with "
                      "mask: random_per_year)")
                .real("test_fraction", 1.0, 0.0, 1.0, "fraction of locations in the test sets")
                .integer("seed", 42, 0, Schema::int_max,
                         "seed of the location draw (same locations every year)")
                .integer("window", 4, 1, 24, "months per sample window (target = last month)")
                .text("missing_values", "error", {"error", "skip"},
                      "NaN/fill inside the ocean mask: stop with an error, or skip the affected "
                      "windows and count them"),
            "location sampling and windows");
  s.section("pco2_route", pco2_route_schema(),
            "the pCO2 route: the target is surface pCO2 and reconstruct computes fluxes from the "
            "predictions with the bulk formula");
  return s;
}

// Extra predictors: file variables (before the target), CSV series, time
// features; every feature name must be unique.
void load_features(const config::Config& cfg, DatasetDescription& d) {
  std::set<std::string> names(predictor_names().begin(), predictor_names().end());
  names.insert(position_feature_names().begin(), position_feature_names().end());
  auto claim = [&](const std::string& name, const std::string& key) {
    FR_REQUIRE(names.insert(name).second, cfg.origin(), ": key '", key, "': the feature name '",
               name, "' is taken (by a seed predictor, a position feature or another feature)");
  };
  const VariableSource target = d.variables.back();
  d.variables.pop_back();
  for (const auto& name : cfg.keys("features.variables")) {
    const auto v = cfg.sub("features.variables." + name);
    claim(name, "features.variables." + name);
    d.variables.push_back(
        {name, v.get<std::string>("name"), v.get<double>("scale"), v.get<double>("offset"), 0.0});
    FR_REQUIRE(!d.variables.back().file_name.empty(), cfg.origin(), ": key 'features.variables.",
               name, ".name': an extra predictor must be read from the files");
  }
  d.variables.push_back(target);
  for (const auto& name : cfg.keys("features.series")) {
    const auto v = cfg.sub("features.series." + name);
    claim(name, "features.series." + name);
    GlobalSeries g;
    g.name = name;
    const fs::path file = v.get<std::string>("file");
    g.file = file.is_absolute() ? file.string()
                                : (fs::path(d.directory) / file).lexically_normal().string();
    g.column = v.get<std::string>("column").empty() ? name : v.get<std::string>("column");
    g.values = read_monthly_csv(g.file, g.column);
    d.series.push_back(std::move(g));
  }
  for (const auto& t : cfg.get<std::vector<std::string>>("features.time")) {
    FR_REQUIRE(!(t == "year" && d.year_feature) && !(t == "month" && d.month_features),
               cfg.origin(), ": key 'features.time': '", t, "' is listed twice");
    (t == "year" ? d.year_feature : d.month_features) = true;
  }
}

std::string month_text(int m) {
  return concat(m / 12, "-", m % 12 + 1 < 10 ? "0" : "", m % 12 + 1);
}

// Temporal design: the periods must not share a month (a test sample would
// be a training sample). Spatial design: whole years, any overlap.
void check_periods(const DatasetDescription& d) {
  auto describe = [](const MonthInterval& iv) {
    return concat(month_text(iv.start), " to ", month_text(iv.end));
  };
  if (d.design == "spatial") {
    for (const auto* period : {&d.train, &d.validation})
      for (const auto& iv : *period)
        FR_REQUIRE(iv.start % 12 == 0 && iv.end % 12 == 11, d.origin, ": key 'time.",
                   period == &d.train ? "train" : "validation",
                   "': the spatial design takes whole "
                   "years (its masks are drawn per year), got ",
                   describe(iv));
    return;
  }
  for (const auto& t : d.train)
    for (const auto& v : d.validation)
      FR_REQUIRE(t.end < v.start || v.end < t.start, d.origin,
                 ": keys 'time.train' and 'time.validation' overlap (", describe(t), " and ",
                 describe(v),
                 "): in the temporal design a validation sample would also be a "
                 "training sample; separate the periods or use sampling.design: spatial");
  for (int y : d.test_years) {
    for (const auto& iv : d.train)
      FR_REQUIRE(iv.end < month_index(y, 1) || iv.start > month_index(y, 12), d.origin,
                 ": key 'time.test': the test year ", y, " overlaps the training period (",
                 describe(iv),
                 "): in the temporal design a test sample would also be a "
                 "training sample; separate the periods or use sampling.design: spatial");
    // Validation only picks the epoch to keep: scores there are optimistic,
    // not leaked, and small datasets may have no other year to test on.
    for (const auto& iv : d.validation)
      if (!(iv.end < month_index(y, 1) || iv.start > month_index(y, 12)))
        log::info("warning: ", d.origin, ": the test year ", y, " overlaps the validation period (",
                  describe(iv), "): its scores are not independent of the choice of epoch");
  }
}

}  // namespace

const config::Schema& dataset_schema() {
  static const Schema schema = build_schema();
  return schema;
}

Region resolve_region(const config::Config& cfg, const std::string& name) {
  Region region;
  if (builtin_region(name, region)) return region;
  const auto boxes = cfg.sub("domain.boxes");
  for (const auto& key : boxes.keys()) {
    if (key != name) continue;
    region.name = name;
    for (const auto& b : boxes.items(key + ".boxes"))
      region.boxes.push_back(LatLonBox{b.get<double>("lat_min"), b.get<double>("lat_max"),
                                       b.get<double>("lon_min"), b.get<double>("lon_max")});
    return region;
  }
  std::string allowed;
  for (const auto& n : builtin_region_names()) allowed += n + ", ";
  for (const auto& k : boxes.keys()) allowed += k + ", ";
  FR_FAIL(cfg.origin(), ": unknown region '", name,
          "'; expected one of: ", allowed.substr(0, allowed.size() - 2));
}

const Experiment& DatasetDescription::experiment(const std::string& wanted) const {
  for (const auto& e : experiments)
    if (e.name == wanted) return e;
  std::string names;
  for (const auto& e : experiments) names += (names.empty() ? "" : ", ") + e.name;
  FR_FAIL(origin, ": unknown experiment '", wanted, "'; the dataset defines: ", names);
}

std::string DatasetDescription::file_for(const std::string& exp, int year) const {
  std::string path = experiment(exp).pattern;
  const auto at = path.find("{year}");
  if (at != std::string::npos) path.replace(at, 6, std::to_string(year));
  return fs::path(path).is_absolute() ? path : (fs::path(directory) / path).string();
}

DatasetDescription load_dataset(const config::Config& cfg, const std::string& data_dir_override) {
  DatasetDescription d;
  d.origin = cfg.origin();
  d.name = cfg.get<std::string>("dataset.name");
  d.source = cfg.get<std::string>("dataset.source");
  d.target_units = cfg.get<std::string>("dataset.target_units");
  d.target_sign = cfg.get<std::string>("dataset.target_sign");
  const fs::path dir = cfg.get<std::string>("dataset.directory");
  if (!data_dir_override.empty()) {
    d.directory = data_dir_override;
    d.directory_source = "--data-dir";
  } else if (dir.is_absolute()) {
    d.directory = dir.string();
    d.directory_source = concat("key 'dataset.directory' of ", cfg.origin());
  } else {
    d.directory = (fs::path(cfg.origin()).parent_path() / dir).lexically_normal().string();
    if (d.directory.empty()) d.directory = ".";
    d.directory_source =
        concat("key 'dataset.directory' ('", dir.string(), "', relative to the folder of ",
               cfg.origin(), ", not to the working directory; --data-dir overrides it)");
  }
  for (const auto& name : cfg.keys("experiments"))
    d.experiments.push_back({name, cfg.get<std::string>("experiments." + name + ".pattern")});
  d.training_experiment = cfg.get<std::string>("training_experiment");
  d.experiment(d.training_experiment);  // validates the name

  d.latitude = cfg.get<std::string>("grid.latitude");
  d.longitude = cfg.get<std::string>("grid.longitude");
  d.mask = cfg.get<std::string>("grid.mask");
  d.cell_width = cfg.get<std::string>("grid.cell_width");
  d.cell_height = cfg.get<std::string>("grid.cell_height");
  d.time = cfg.get<std::string>("grid.time");
  d.drop_duplicate_points = cfg.get<bool>("grid.drop_duplicate_points");

  std::vector<std::string> roles(predictor_names().begin(), predictor_names().end());
  roles.push_back("target");
  for (const auto& role : roles) {
    const auto v = cfg.sub("variables." + role);
    d.variables.push_back({role, v.get<std::string>("name"), v.get<double>("scale"),
                           v.get<double>("offset"), v.get<double>("constant")});
  }
  FR_REQUIRE(!d.variables.back().file_name.empty(), cfg.origin(),
             ": key 'variables.target.name': the target must be read from the files");
  load_features(cfg, d);

  auto period = [&](const std::string& key) {
    std::vector<MonthInterval> out;
    for (const auto& pair : cfg.node()["time"][key])
      out.push_back({pair[0].as<int>(), pair[1].as<int>()});
    return out;
  };
  d.train = period("train");
  d.validation = period("validation");
  const auto test = cfg.get<std::vector<int>>("time.test");
  FR_REQUIRE(test[1] >= test[0], cfg.origin(), ": key 'time.test': last year ", test[1],
             " is before the first ", test[0]);
  for (int y = test[0]; y <= test[1]; ++y) d.test_years.push_back(y);

  d.train_region = resolve_region(cfg, cfg.get<std::string>("domain.train_region"));
  for (const auto& r : cfg.get<std::vector<std::string>>("domain.test_regions"))
    d.test_regions.push_back(resolve_region(cfg, r));
  d.test_experiments = cfg.get<std::vector<std::string>>("domain.test_experiments");
  if (d.test_experiments.empty())
    for (const auto& e : d.experiments) d.test_experiments.push_back(e.name);
  for (const auto& e : d.test_experiments) d.experiment(e);

  d.design = cfg.get<std::string>("sampling.design");
  d.sampling_mask = cfg.get<std::string>("sampling.mask");
  d.mask_variable = cfg.get<std::string>("sampling.mask_variable");
  const std::string mask_file = cfg.get<std::string>("sampling.mask_file");
  if (d.design == "spatial" && d.sampling_mask == "file") {
    FR_REQUIRE(!mask_file.empty(), cfg.origin(),
               ": key 'sampling.mask_file': sampling.mask is 'file' but no file is named");
    d.mask_pattern = mask_file;  // resolved like the experiments' patterns
  }
  d.window = cfg.get<int>("sampling.window");  // before the series checks, which use it
  check_periods(d);
  // The series must cover every month a window of the periods reaches.
  for (const auto* intervals : {&d.train, &d.validation})
    for (const auto& iv : *intervals) require_series_months(d, {iv.start - (d.window - 1), iv.end});
  for (int y : d.test_years)
    require_series_months(d, {month_index(y, 1) - (d.window - 1), month_index(y, 12)});
  d.train_fraction = cfg.get<double>("sampling.fraction");
  d.test_fraction = cfg.get<double>("sampling.test_fraction");
  d.seed = cfg.get<unsigned long long>("sampling.seed");
  d.missing_values = cfg.get<std::string>("sampling.missing_values");
  load_pco2_route(cfg, d);
  return d;
}

}  // namespace fluxrecon::data
