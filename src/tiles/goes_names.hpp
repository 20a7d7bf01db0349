// GOES-16 ABI file names (spec 3.1): parsing the standard key
// `OR_ABI-<level>-<product><region>-M<mode>[C<channel>]_G16_s<start>_e<end>_c<created>.nc`,
// the S3 folder layout, and the names expected for a time window (used in the
// error that says which files are missing; there is no network here).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tiles/time_util.hpp"

namespace fluxrecon::tiles {

struct GoesKey {
  std::string level;    // "L1b" or "L2"
  std::string product;  // "Rad", "TPW", ...
  std::string region;   // "F", "C", "M1", "M2"
  int sensor_mode = 0;
  int channel = -1;                         // -1 for products without a channel
  Seconds start = 0, end = 0, created = 0;  // tenths of a second dropped
  std::string file_name;                    // the base name
};

// Parses a key or path (any directories before the base name); nullopt if the
// base name is not a GOES-16 ABI file name.
std::optional<GoesKey> parse_goes_key(const std::string& key_or_path);

// "YYYYJJJHHMMSS[t]" -> time (the tenths digit is dropped).
Seconds parse_goes_time(const std::string& digits, const std::string& what);

// Sensor mode of full-disk scans at `t`: 6 from 2019-04-02, else 3, and the
// repeat interval of full-disk scans in that mode (600 s or 900 s).
int expected_sensor_mode(Seconds t);
Seconds full_disk_interval(Seconds t);

// S3 folder of L1b radiances for `t`: "noaa-goes16/ABI-L1b-RadF/2020/033/15/".
std::string goes_l1b_folder(Seconds t);
// The same for a full-disk L2 product: "noaa-goes16/ABI-L2-ACHAF/2020/033/15/".
std::string goes_l2_folder(const std::string& product, Seconds t);
// "OR_ABI-L2-ACHAF-M6_G16_s2020033154*_e*_c*.nc".
std::string goes_l2_name_pattern(const std::string& product, Seconds t);
// Glob-like name of the radiance file of `channel` whose scan starts in the
// minute of `t`, e.g. "OR_ABI-L1b-RadF-M6C01_G16_s2020033154*_e*_c*.nc".
std::string goes_l1b_name_pattern(int channel, Seconds t);

}  // namespace fluxrecon::tiles
