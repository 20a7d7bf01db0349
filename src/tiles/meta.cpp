#include "tiles/meta.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

bool absent(const YAML::Node& n) {
  return !n.IsDefined() || n.IsNull() || (n.IsMap() && n.size() == 0);
}

void require_map(const YAML::Node& n, const std::string& where, const std::string& key) {
  FR_REQUIRE(n.IsMap(), where, ": key '", key, "': expected a block of keys");
}

void only_keys(const YAML::Node& n, const std::vector<std::string>& allowed,
               const std::string& where, const std::string& key) {
  for (const auto& kv : n) {
    const auto k = kv.first.as<std::string>();
    FR_REQUIRE(std::find(allowed.begin(), allowed.end(), k) != allowed.end(), where, ": key '", key,
               ".", k, "': unknown key; allowed keys here: ", join(allowed));
  }
}

double number(const YAML::Node& n, const std::string& where, const std::string& key) {
  double v = 0;
  FR_REQUIRE(n.IsScalar() && YAML::convert<double>::decode(n, v) && std::isfinite(v), where,
             ": key '", key, "': expected a number, got '", n.IsScalar() ? n.Scalar() : "<block>",
             "'");
  return v;
}

long long integer(const YAML::Node& n, const std::string& where, const std::string& key) {
  long long v = 0;
  FR_REQUIRE(n.IsScalar() && YAML::convert<long long>::decode(n, v), where, ": key '", key,
             "': expected an integer, got '", n.IsScalar() ? n.Scalar() : "<block>", "'");
  return v;
}

bool valid_name(const std::string& s) {
  static const std::regex pattern("^[A-Za-z0-9][A-Za-z0-9_.-]*$");
  return std::regex_match(s, pattern);
}

// One interval {t_start, t_end | N_days} or a nested {intervals: [...]}.
void collect_intervals(const YAML::Node& n, const std::string& where, const std::string& key,
                       std::vector<Interval>& out) {
  require_map(n, where, key);
  if (n["intervals"]) {
    only_keys(n, {"intervals", "filters"}, where, key);
    FR_REQUIRE(n["intervals"].IsSequence() && n["intervals"].size() > 0, where, ": key '", key,
               ".intervals': expected a non-empty list of {t_start, t_end or N_days}");
    for (size_t i = 0; i < n["intervals"].size(); ++i)
      collect_intervals(n["intervals"][i], where, key + ".intervals[" + std::to_string(i) + "]",
                        out);
    return;
  }
  only_keys(n, {"t_start", "t_end", "N_days", "filters"}, where, key);
  FR_REQUIRE(n["t_start"], where, ": key '", key,
             "': an interval needs t_start and one of t_end or N_days");
  FR_REQUIRE(n["t_end"] || n["N_days"], where, ": key '", key,
             "': an interval needs t_end or N_days after t_start");
  FR_REQUIRE(!(n["t_end"] && n["N_days"]), where, ": key '", key,
             "': give either t_end or N_days, not both");
  Interval iv;
  iv.start = parse_datetime(n["t_start"].as<std::string>(), where + ": " + key + ".t_start");
  if (n["t_end"]) {
    iv.end = parse_datetime(n["t_end"].as<std::string>(), where + ": " + key + ".t_end");
  } else {
    const double days = number(n["N_days"], where, key + ".N_days");
    FR_REQUIRE(days > 0, where, ": key '", key, ".N_days': expected a number > 0, got ", days);
    iv.end = iv.start + static_cast<Seconds>(std::llround(days * 86400.0));
  }
  FR_REQUIRE(iv.end > iv.start, where, ": key '", key, "': the interval is inverted or empty (",
             iso_datetime(iv.start), " to ", iso_datetime(iv.end),
             "); t_end must be after t_start");
  out.push_back(iv);
}

const std::vector<std::string> kAttributeFilters = {"year", "month",  "day",
                                                    "hour", "minute", "second"};

TimeSpec parse_time(const YAML::Node& n, const std::string& where) {
  TimeSpec spec;
  if (absent(n)) return spec;
  spec.present = true;
  require_map(n, where, "time");
  FR_REQUIRE(!n["source"], where,
             ": key 'time.source': trajectory-based times are not supported; give t_start with "
             "t_end or N_days, or intervals");
  collect_intervals(n, where, "time", spec.intervals);
  std::sort(spec.intervals.begin(), spec.intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  for (size_t i = 1; i < spec.intervals.size(); ++i)
    FR_REQUIRE(spec.intervals[i].start >= spec.intervals[i - 1].end, where,
               ": key 'time.intervals': intervals overlap (",
               iso_datetime(spec.intervals[i - 1].start), " to ",
               iso_datetime(spec.intervals[i - 1].end), " and ",
               iso_datetime(spec.intervals[i].start), " to ", iso_datetime(spec.intervals[i].end),
               "); give disjoint intervals");
  if (const auto f = n["filters"]; f && !f.IsNull()) {
    require_map(f, where, "time.filters");
    for (const auto& kv : f) {
      const auto k = kv.first.as<std::string>();
      const std::string key = "time.filters." + k;
      TimeFilter tf;
      if (k == "N_hours_from_zenith") {
        tf.kind = TimeFilter::Kind::zenith;
        tf.hours = number(kv.second, where, key);
        FR_REQUIRE(tf.hours > 0 && tf.hours <= 12, where, ": key '", key,
                   "': expected hours in (0, 12], got ", tf.hours);
      } else if (std::find(kAttributeFilters.begin(), kAttributeFilters.end(), k) !=
                 kAttributeFilters.end()) {
        tf.kind = TimeFilter::Kind::attribute;
        tf.attribute = k;
        if (kv.second.IsSequence()) {
          FR_REQUIRE(kv.second.size() > 0, where, ": key '", key, "': expected at least one value");
          for (size_t i = 0; i < kv.second.size(); ++i)
            tf.values.push_back(integer(kv.second[i], where, key + "[" + std::to_string(i) + "]"));
        } else {
          tf.values.push_back(integer(kv.second, where, key));
        }
      } else {
        FR_FAIL(where, ": key '", key, "': no such time filter; allowed: N_hours_from_zenith, ",
                join(kAttributeFilters), " (datetime attributes take a list of values",
                k == "minutes" ? "; did you mean 'minute'?" : "", ")");
      }
      spec.filters.push_back(tf);
    }
  }
  return spec;
}

DomainSpec parse_domain(const YAML::Node& n, const std::string& where) {
  DomainSpec d;
  if (absent(n)) return d;
  require_map(n, where, "domain");
  if (n["kind"]) {
    only_keys(n, {"kind"}, where, "domain");
    const auto kind = n["kind"].as<std::string>();
    FR_REQUIRE(kind == "as_source", where, ": key 'domain.kind': value '", kind,
               "' is not allowed; expected as_source (or give central_latitude, "
               "central_longitude, l_zonal and l_meridional instead of kind)");
    return d;
  }
  const std::vector<std::string> keys = {"central_latitude", "central_longitude", "l_zonal",
                                         "l_meridional"};
  only_keys(n, keys, where, "domain");
  for (const auto& k : keys)
    FR_REQUIRE(n[k], where, ": key 'domain.", k, "' is missing: a local domain needs all of ",
               join(keys), " (or kind: as_source)");
  d.as_source = false;
  d.central_latitude = number(n["central_latitude"], where, "domain.central_latitude");
  d.central_longitude = number(n["central_longitude"], where, "domain.central_longitude");
  d.l_zonal = number(n["l_zonal"], where, "domain.l_zonal");
  d.l_meridional = number(n["l_meridional"], where, "domain.l_meridional");
  FR_REQUIRE(std::abs(d.central_latitude) < 90, where,
             ": key 'domain.central_latitude': expected a value in (-90, 90), got ",
             d.central_latitude);
  FR_REQUIRE(d.central_longitude >= -180 && d.central_longitude <= 360, where,
             ": key 'domain.central_longitude': expected a value in [-180, 360], got ",
             d.central_longitude);
  FR_REQUIRE(d.l_zonal > 0 && d.l_meridional > 0 && d.l_zonal < 2e7 && d.l_meridional < 2e7, where,
             ": keys 'domain.l_zonal' and 'domain.l_meridional': expected lengths in metres "
             "in (0, 2e7), got ",
             d.l_zonal, " and ", d.l_meridional);
  return d;
}

config::Schema triplet_schema(const std::string& where) {
  config::Schema s("triplet sampling");
  s.custom(
      "N_triplets", YAML::Node(), "integer or {collection: integer}",
      [where](const YAML::Node& v, const std::string& key) {
        if (v.IsScalar()) {
          const long long n = integer(v, where, "sampling.triplets." + key);
          FR_REQUIRE(n >= 1, where, ": key 'sampling.triplets.N_triplets': expected >= 1, got ", n);
          return v;
        }
        require_map(v, where, "sampling.triplets.N_triplets");
        long long total = 0;
        for (const auto& kv : v) {
          const auto name = kv.first.as<std::string>();
          FR_REQUIRE(valid_name(name), where, ": key 'sampling.triplets.N_triplets.", name,
                     "': a collection name must be letters, digits, '_', '-' or '.'");
          const long long n = integer(kv.second, where, "sampling.triplets.N_triplets." + name);
          FR_REQUIRE(n >= 0, where, ": key 'sampling.triplets.N_triplets.", name,
                     "': expected >= 0, got ", n);
          total += n;
        }
        FR_REQUIRE(v["train"], where,
                   ": key 'sampling.triplets.N_triplets': a 'train' collection is required");
        FR_REQUIRE(total > 0, where,
                   ": key 'sampling.triplets.N_triplets': the counts must sum to more than 0");
        return v;
      },
      "triplets to make: an integer (all 'train') or counts per collection, e.g. {train: 10, "
      "study: 2}");
  s.integer("tile_N", 256, 2, 65536, "tile size in pixels");
  s.text("scene_collections_splitting", std::string("random_by_relative_sample_size"),
         {"random_by_relative_sample_size"}, "how scenes are split into collections");
  s.real("neigh_dist_scaling", 1.0, 1e-6, 100.0,
         "neighbour tile offset in units of the tile size (in a random direction)");
  s.flag("faithful_geolocation", false,
         "true: geolocate tiles as convml-data does, at the mirror image (-x, -y) of their "
         "recorded position; false: at (x, y)");
  return s;
}

config::Schema sliding_schema() {
  config::Schema s("sliding-window tiles over the regridded scenes");
  s.integer("tile_N", std::nullopt, 2, 65536, "tile size in pixels");
  s.integer("step_size", std::nullopt, 1, 65536,
            "step between tiles in pixels (--step-size overrides it)");
  return s;
}

config::Schema synthetic_schema() {
  config::Schema s("synthetic LES-like source files made when source_data/LES has none");
  s.integer("nx", 512, 8, 16384, "cells along x");
  s.integer("ny", 512, 8, 16384, "cells along y");
  s.integer("nt", 6, 1, 10000, "time steps");
  s.real("dx", 200.0, 1e-3, 1e6, "grid spacing in metres (x/y) or its equivalent (lat/lon)");
  s.text("t_start", std::string("2020-02-02T12:00:00"), {}, "time of the first step (UTC)");
  s.text("dt", std::string("PT10M"), {}, "ISO-8601 duration between steps");
  s.real("spectral_slope", 5.0 / 3.0, 0.0, 6.0,
         "beta of the isotropic spectrum E(k) ~ k^-beta of the underlying Gaussian field");
  s.real("cloud_fraction", 0.3, 0.0, 1.0, "fraction of cells that are cloudy");
  s.real("u", 5.0, -100, 100, "eastward advection of the cloud field (m/s)");
  s.real("v", 2.0, -100, 100, "northward advection of the cloud field (m/s)");
  s.integer("seed", 1, 0, config::Schema::int_max, "random seed of the field");
  s.text("coordinates", std::string("xy"), {"xy", "latlon"},
         "x/y in metres, or 1-D lat/lon around the centre below");
  s.real("central_latitude", 13.3, -80, 80, "centre latitude (coordinates: latlon)");
  s.real("central_longitude", -57.5, -180, 360, "centre longitude (coordinates: latlon)");
  s.texts("variables", std::vector<std::string>{"rlut"}, {}, "variables written", 1);
  s.integer("files", 1, 1, 10000, "number of files the time steps are spread over");
  return s;
}

config::Schema aux_schema(const std::string& where) {
  auto duration = [where](const YAML::Node& v, const std::string& key) {
    if (!(v.IsScalar() && v.Scalar().empty()))
      parse_iso_duration(v.as<std::string>(), where + ": " + key);
    return v;
  };
  config::Schema s("an auxiliary product");
  s.text("source", std::nullopt, {"goes16", "LES"}, "where the aux product comes from");
  s.text("type", std::nullopt, {}, "product string (same grammar as the primary type)");
  s.text("scene_mapping_strategy", std::string("single_scene_per_aux_time"),
         {"single_scene_per_aux_time", "all_scenes_within_dt_aux"},
         "how aux times are matched to scenes");
  s.custom("dt_aux", YAML::Node(std::string()), "ISO-8601 duration", duration,
           "time spacing of the aux data (inferred from the sorted aux times if not given)");
  s.custom("dt_max", YAML::Node(std::string()), "ISO-8601 duration", duration,
           "largest scene-to-aux time difference accepted (default dt_aux / 2)");
  s.text("files", std::string(), {}, "LES: glob of the aux source files (default: files)");
  return s;
}

YAML::Node validated_block(const YAML::Node& v, const config::Schema& schema,
                           const std::string& where, const std::string& key) {
  config::Config::from_yaml(v, schema, where + ": " + key);
  return v;
}

}  // namespace

const std::vector<std::string> kGoesL2Products = {"ACHA", "TPW", "RSR", "CPS", "ACM"};

Product parse_product(const std::string& source, const std::string& text, const std::string& key,
                      bool aux) {
  Product p;
  p.text = text;
  if (source == "goes16" &&
      std::find(kGoesL2Products.begin(), kGoesL2Products.end(), text) != kGoesL2Products.end()) {
    FR_REQUIRE(
        aux, key, ": the ABI L2 product '", text,
        "' can only be an aux product; the primary type is truecolor_rgb, singlechannel__ or "
        "multichannel__");
    p.kind = Product::Kind::l2_product;
    ProductInput in;
    in.token = text;
    in.l2_product = text;
    p.inputs.push_back(in);
    return p;
  }
  const std::string forms =
      source == "goes16"
          ? "truecolor_rgb, singlechannel__<c> or multichannel__<c1>__<c2>..., where <c> is a "
            "channel 1-16 (radiance) or bt_<7-16> (brightness temperature); aux products may also "
            "be an ABI L2 product: ACHA, TPW, RSR, CPS, ACM"
          : "singlechannel__<variable> or multichannel__<variable1>__<variable2>...";
  if (source == "goes16" && text == "truecolor_rgb") {
    p.kind = Product::Kind::truecolor_rgb;
    for (int c : {1, 2, 3}) {
      ProductInput in;
      in.token = std::to_string(c);
      in.channel = c;
      p.inputs.push_back(in);
    }
    return p;
  }
  std::vector<std::string> tokens;
  for (size_t pos = 0;;) {
    const auto next = text.find("__", pos);
    tokens.push_back(text.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 2;
  }
  const bool multi = tokens[0] == "multichannel", single = tokens[0] == "singlechannel";
  FR_REQUIRE((multi && tokens.size() >= 2) || (single && tokens.size() == 2), key, ": '", text,
             "' is not a product for source ", source, "; expected ", forms);
  p.kind = multi ? Product::Kind::multichannel : Product::Kind::singlechannel;
  std::set<std::string> seen;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    FR_REQUIRE(!t.empty() && seen.insert(t).second, key, ": '", text, "': input '", t,
               "' is empty or repeated; expected ", forms);
    ProductInput in;
    in.token = t;
    if (source == "goes16") {
      static const std::regex chan(R"(^(?:(bt)_)?(\d{1,2})$)");
      std::smatch m;
      FR_REQUIRE(std::regex_match(t, m, chan), key, ": '", text, "': channel token '", t,
                 "' is not allowed; expected N (1-16) or bt_N (7-16)");
      in.channel = std::stoi(m[2]);
      in.brightness_temperature = m[1].matched;
      FR_REQUIRE(in.channel >= 1 && in.channel <= 16, key, ": '", text, "': channel ", in.channel,
                 " does not exist; ABI channels are 1-16");
      FR_REQUIRE(!in.brightness_temperature || in.channel >= 7, key, ": '", text,
                 "': brightness temperature is only defined for the infrared channels 7-16, not ",
                 in.channel);
      for (const auto& other : p.inputs)
        FR_REQUIRE(other.channel != in.channel, key, ": '", text, "': channel ", in.channel,
                   " is listed twice");
    } else {
      static const std::regex var(R"(^[A-Za-z][A-Za-z0-9_]*$)");
      FR_REQUIRE(std::regex_match(t, var), key, ": '", text, "': '", t,
                 "' is not a netCDF variable name");
      in.variable = t;
    }
    p.inputs.push_back(in);
  }
  return p;
}

config::Schema meta_schema(const std::string& where) {
  config::Schema sampling("sampling of tiles and grids");
  sampling.real("resolution", std::nullopt, 1e-6, 1e9,
                "grid spacing in metres per pixel of every regridded product and tile");
  sampling.custom(
      "triplets", YAML::Node(YAML::NodeType::Map), "block",
      [where](const YAML::Node& v, const std::string& key) {
        return absent(v) ? v : validated_block(v, triplet_schema(where), where, key);
      },
      "triplet sampling: N_triplets, tile_N, scene_collections_splitting, "
      "neigh_dist_scaling");
  sampling.custom(
      "rect-slidingwindow", YAML::Node(YAML::NodeType::Map), "block",
      [where](const YAML::Node& v, const std::string& key) {
        return absent(v) ? v : validated_block(v, sliding_schema(), where, key);
      },
      "sliding-window tiles: tile_N and step_size");

  config::Schema s("tile dataset (meta.yaml)");
  s.text("source", std::nullopt, {"goes16", "LES"}, "source of the scenes");
  s.text("type", std::nullopt, {}, "product: see the README");
  s.custom(
      "time", YAML::Node(YAML::NodeType::Map), "block",
      [where](const YAML::Node& v, const std::string&) {
        parse_time(v, where);
        return v;
      },
      "t_start with t_end or N_days, or intervals; optional filters");
  s.custom(
      "domain", YAML::Node(YAML::NodeType::Map), "block",
      [where](const YAML::Node& v, const std::string&) {
        parse_domain(v, where);
        return v;
      },
      "central_latitude, central_longitude, l_zonal, l_meridional (m), or kind: as_source");
  s.section("sampling", sampling, "resolution and tile sampling", true);
  s.map_of("aux_products", aux_schema(where), "named auxiliary products");
  s.text("db_type", std::string("yaml"), {"yaml", "json"}, "format of the scene databases");
  s.text("files", std::string("*.nc"), {},
         "LES: glob of source files in source_data/LES/source_files");
  s.integer("seed", 0, 0, config::Schema::int_max,
            "random seed of the triplet sampling (same seed, same dataset on any rank count)");
  s.custom(
      "synthetic_les", YAML::Node(YAML::NodeType::Map), "block",
      [where](const YAML::Node& v, const std::string& key) {
        return absent(v) ? v : validated_block(v, synthetic_schema(), where, key);
      },
      "LES only: make synthetic source files when none exist");
  return s;
}

const AuxSpec& Meta::aux_product(const std::string& aux_name) const {
  std::vector<std::string> names;
  for (const auto& a : aux) {
    if (a.name == aux_name) return a;
    names.push_back(a.name);
  }
  FR_FAIL(meta_path, ": aux product '", aux_name, "' is not defined in aux_products (defined: ",
          names.empty() ? std::string("none") : join(names), ")");
}

namespace {
Meta parse_meta(const std::string& yaml_text, const std::string& origin,
                const std::string& data_path) {
  const auto cfg = config::Config::from_text(yaml_text, meta_schema(origin), origin);
  const YAML::Node& root = cfg.node();
  Meta m;
  m.meta_path = origin;
  m.data_path = fs::absolute(fs::path(data_path)).lexically_normal().string();
  if (m.data_path.size() > 1 && m.data_path.back() == '/') m.data_path.pop_back();
  m.name = fs::path(m.data_path).filename().string();
  m.source = cfg.get<std::string>("source");
  m.product = parse_product(m.source, cfg.get<std::string>("type"), origin + ": key 'type'");
  m.time = parse_time(root["time"], origin);
  m.domain = parse_domain(root["domain"], origin);
  m.resolution = cfg.get<double>("sampling.resolution");
  m.db_type = cfg.get<std::string>("db_type");
  m.files = cfg.get<std::string>("files");
  m.seed = cfg.get<long long>("seed");

  if (m.source == "goes16") {
    FR_REQUIRE(m.time.present, origin,
               ": key 'time' is required for source goes16 (t_start with "
               "t_end or N_days, or intervals)");
    FR_REQUIRE(!m.domain.as_source, origin,
               ": key 'domain': source goes16 needs a local domain (central_latitude, "
               "central_longitude, l_zonal, l_meridional); as_source would be the whole disk");
  }
  for (const auto& f : m.time.filters)
    FR_REQUIRE(f.kind != TimeFilter::Kind::zenith || !m.domain.as_source, origin,
               ": key 'time.filters.N_hours_from_zenith' needs a domain with central_longitude "
               "(domain kind as_source has none)");

  const YAML::Node tr = root["sampling"]["triplets"];
  if (!absent(tr)) {
    m.triplets.present = true;
    const YAML::Node n = tr["N_triplets"];
    if (n.IsScalar())
      m.triplets.n_triplets.emplace_back("train", n.as<long long>());
    else
      for (const auto& kv : n)
        m.triplets.n_triplets.emplace_back(kv.first.as<std::string>(), kv.second.as<long long>());
    const auto t = config::Config::from_yaml(tr, triplet_schema(origin), origin);
    m.triplets.tile_N = static_cast<int>(t.get<long long>("tile_N"));
    m.triplets.splitting = t.get<std::string>("scene_collections_splitting");
    m.triplets.neigh_dist_scaling = t.get<double>("neigh_dist_scaling");
    m.triplets.faithful_geolocation = t.get<bool>("faithful_geolocation");
  }
  const YAML::Node sw = root["sampling"]["rect-slidingwindow"];
  if (!absent(sw)) {
    m.sliding.present = true;
    m.sliding.tile_N = sw["tile_N"].as<int>();
    m.sliding.step_size = sw["step_size"].as<int>();
  }
  for (const auto& name : cfg.keys("aux_products")) {
    const auto a = cfg.sub("aux_products." + name);
    AuxSpec spec;
    spec.name = name;
    FR_REQUIRE(valid_name(name) && name.find("__") == std::string::npos, origin,
               ": key 'aux_products.", name,
               "': an aux name must be letters, digits, '_', '-' or '.' (it names directories)");
    spec.source = a.get<std::string>("source");
    spec.product = parse_product(spec.source, a.get<std::string>("type"),
                                 origin + ": key 'aux_products." + name + ".type'", true);
    spec.strategy = a.get<std::string>("scene_mapping_strategy");
    const auto dt_aux = a.get<std::string>("dt_aux"), dt_max = a.get<std::string>("dt_max");
    if (!dt_aux.empty()) spec.dt_aux = parse_iso_duration(dt_aux, origin + ": aux dt_aux");
    if (!dt_max.empty()) spec.dt_max = parse_iso_duration(dt_max, origin + ": aux dt_max");
    spec.files = a.get<std::string>("files").empty() ? m.files : a.get<std::string>("files");
    FR_REQUIRE(spec.source == m.source, origin, ": key 'aux_products.", name, ".source': '",
               spec.source, "' differs from the primary source '", m.source,
               "'; aux products must come from the same source (same scenes' geometry)");
    m.aux.push_back(spec);
  }
  const YAML::Node syn = root["synthetic_les"];
  if (!absent(syn)) {
    FR_REQUIRE(m.source == "LES", origin, ": key 'synthetic_les' is only allowed for source LES");
    const auto c = config::Config::from_yaml(syn, synthetic_schema(), origin + ": synthetic_les");
    auto& s = m.synthetic;
    s.present = true;
    s.nx = static_cast<int>(c.get<long long>("nx"));
    s.ny = static_cast<int>(c.get<long long>("ny"));
    s.nt = static_cast<int>(c.get<long long>("nt"));
    s.dx = c.get<double>("dx");
    s.t_start = parse_datetime(c.get<std::string>("t_start"), origin + ": synthetic_les.t_start");
    s.dt = parse_iso_duration(c.get<std::string>("dt"), origin + ": synthetic_les.dt");
    FR_REQUIRE(s.dt >= 60, origin,
               ": key 'synthetic_les.dt': expected at least one minute "
               "(scene IDs have minute precision)");
    s.spectral_slope = c.get<double>("spectral_slope");
    s.cloud_fraction = c.get<double>("cloud_fraction");
    s.u = c.get<double>("u");
    s.v = c.get<double>("v");
    s.seed = c.get<long long>("seed");
    s.coordinates = c.get<std::string>("coordinates");
    s.central_latitude = c.get<double>("central_latitude");
    s.central_longitude = c.get<double>("central_longitude");
    s.variables = c.get<std::vector<std::string>>("variables");
    s.files = static_cast<int>(c.get<long long>("files"));
    for (const auto& in : m.product.inputs)
      FR_REQUIRE(
          std::find(s.variables.begin(), s.variables.end(), in.variable) != s.variables.end(),
          origin, ": key 'synthetic_les.variables' does not include '", in.variable,
          "' used by type '", m.product.text, "'");
  }
  return m;
}

}  // namespace

Meta meta_from_text(const std::string& yaml_text, const std::string& origin,
                    const std::string& data_path) {
  // The blocks this file parses itself convert YAML nodes; a value of the
  // wrong kind there (a map where text belongs) is the user's error to see.
  try {
    return parse_meta(yaml_text, origin, data_path);
  } catch (const YAML::Exception& e) {
    FR_FAIL(origin, ": line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg,
            " (a value of the wrong kind there, e.g. a list or a map where text or a number "
            "belongs)");
  }
}

Meta load_meta(const std::string& meta_path, const std::string& data_path) {
  std::ifstream in(meta_path);
  FR_REQUIRE(in.good(), "cannot read '", meta_path, "': no such file or not readable");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root_node;
  try {
    root_node = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    FR_FAIL(meta_path, ": not valid YAML: ", e.what());
  }
  FR_REQUIRE(!absent(root_node), meta_path,
             ": is empty; define at least `source`, `type` and `sampling.resolution`");
  const std::string root =
      data_path.empty() ? fs::absolute(fs::path(meta_path)).parent_path().string() : data_path;
  return meta_from_text(text.str(), meta_path, root);
}

bool passes_time_filters(const TimeSpec& time, Seconds t, std::optional<double> zenith_longitude) {
  if (!time.present) return true;
  bool inside = false;
  for (const auto& iv : time.intervals) inside = inside || (t >= iv.start && t <= iv.end);
  if (!inside) return false;
  for (const auto& f : time.filters) {
    if (f.kind == TimeFilter::Kind::zenith) {
      FR_REQUIRE(zenith_longitude.has_value(),
                 "time.filters.N_hours_from_zenith needs the domain's central_longitude");
      const double tz = nearest_zenith_time(t, *zenith_longitude);
      if (!(std::abs(static_cast<double>(t) - tz) < f.hours * 3600.0)) return false;
    } else {
      const Civil c = civil(t);
      const long long v = f.attribute == "year"     ? c.year
                          : f.attribute == "month"  ? c.month
                          : f.attribute == "day"    ? c.day
                          : f.attribute == "hour"   ? c.hour
                          : f.attribute == "minute" ? c.minute
                                                    : c.second;
      if (std::find(f.values.begin(), f.values.end(), v) == f.values.end()) return false;
    }
  }
  return true;
}

}  // namespace fluxrecon::tiles
