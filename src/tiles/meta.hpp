// meta.yaml of a tile dataset (spec section 1), validated strictly: unknown
// keys, wrong types and values outside the allowed ones are errors that name
// the file, the key and what is allowed. The dataset root is the directory of
// meta.yaml unless --data-path says otherwise.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "tiles/time_util.hpp"

namespace fluxrecon::tiles {

// One input of a product: a GOES channel (radiance, or brightness temperature
// with the `bt_` prefix) or an LES netCDF variable.
struct ProductInput {
  std::string token;  // as written: "13", "bt_13", "rlut"
  int channel = -1;   // goes16 only
  bool brightness_temperature = false;
  std::string variable;    // LES only
  std::string l2_product;  // goes16 aux only: ABI L2 product code (ACHA, TPW, ...)
};

struct Product {
  enum class Kind { truecolor_rgb, multichannel, singlechannel, l2_product };
  std::string text;  // "truecolor_rgb", "singlechannel__bt_13", ...
  Kind kind = Kind::singlechannel;
  std::vector<ProductInput> inputs;  // in the order listed
};

// `source` is "goes16" or "LES"; `key` names the meta.yaml key in messages.
// `aux` also allows the goes16 L2 products of kGoesL2Products (spec 1.3, Q13).
Product parse_product(const std::string& source, const std::string& text, const std::string& key,
                      bool aux = false);
extern const std::vector<std::string> kGoesL2Products;

struct Interval {
  Seconds start = 0, end = 0;  // inclusive
};

struct TimeFilter {
  enum class Kind { zenith, attribute };
  Kind kind = Kind::zenith;
  double hours = 0;               // zenith
  std::string attribute;          // year, month, day, hour, minute, second
  std::vector<long long> values;  // attribute
};

struct TimeSpec {
  bool present = false;
  std::vector<Interval> intervals;  // sorted, not overlapping
  std::vector<TimeFilter> filters;  // in file order
};

struct DomainSpec {
  bool as_source = true;
  double central_latitude = 0, central_longitude = 0, l_zonal = 0, l_meridional = 0;
};

struct TripletSpec {
  bool present = false;
  std::vector<std::pair<std::string, long long>> n_triplets;  // in file order, train first given
  int tile_N = 256;
  std::string splitting = "random_by_relative_sample_size";
  double neigh_dist_scaling = 1.0;
  bool faithful_geolocation = false;  // reproduce the original's mirrored tile centres (spec Q3)
};

struct SlidingWindowSpec {
  bool present = false;
  int tile_N = 256;
  int step_size = 0;
};

struct AuxSpec {
  std::string name, source;
  Product product;
  std::string strategy = "single_scene_per_aux_time";
  std::optional<Seconds> dt_aux, dt_max;
  std::string files;  // LES glob
};

struct SyntheticLesSpec {
  bool present = false;
  int nx = 512, ny = 512, nt = 6;
  double dx = 200.0;
  Seconds t_start = 0, dt = 600;
  double spectral_slope = 5.0 / 3.0;
  double cloud_fraction = 0.3;
  double u = 5.0, v = 2.0;  // advection (m/s) between time steps
  long long seed = 1;
  std::string coordinates = "xy";  // or "latlon"
  double central_latitude = 13.3, central_longitude = -57.5;
  std::vector<std::string> variables{"rlut"};
  int files = 1;  // time steps are spread over this many files
};

struct Meta {
  std::string meta_path;  // the meta.yaml read
  std::string data_path;  // dataset root (absolute)
  std::string name;       // basename of the dataset root
  std::string source;     // goes16 | LES
  Product product;
  TimeSpec time;
  DomainSpec domain;
  double resolution = 0;
  TripletSpec triplets;
  SlidingWindowSpec sliding;
  std::vector<AuxSpec> aux;
  std::string db_type = "yaml";
  std::string files = "*.nc";
  long long seed = 0;
  SyntheticLesSpec synthetic;

  const AuxSpec& aux_product(const std::string& name) const;
};

config::Schema meta_schema(const std::string& origin);
// Reads and validates; `data_path` "" = the directory of meta.yaml.
Meta load_meta(const std::string& meta_path, const std::string& data_path = "");
Meta meta_from_text(const std::string& yaml_text, const std::string& origin,
                    const std::string& data_path);

// Spec 2.3: interval membership (inclusive, any interval), then the filters
// in file order. `zenith_longitude` is the domain's central longitude; the
// zenith filter needs it (nullopt: error naming the key).
bool passes_time_filters(const TimeSpec& time, Seconds t, std::optional<double> zenith_longitude);

}  // namespace fluxrecon::tiles
