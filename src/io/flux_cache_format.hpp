// The layout of a reconstruction cache, <model>_<region>_<experiment>_<year>.nc
// (CDF-5, one year of monthly fields on a crop of the input grid): one home for
// its names, used by the writer (recon/cache_write), the reader
// (analysis/cache_reader) and the tests.
#pragma once

#include <string>

namespace fluxrecon::io::flux_cache {

inline constexpr int kMonths = 12;
// Outside the region, on land and where no window was complete.
inline constexpr float kFill = 1.0e20f;

// Dimensions: (time, y, x).
inline constexpr const char* kTime = "time";
inline constexpr const char* kY = "y";
inline constexpr const char* kX = "x";

// Variables.
inline constexpr const char* kTimeCounter = "time_counter";             // (time) days since Jan 1
inline constexpr const char* kLat = "nav_lat";                          // (y, x)
inline constexpr const char* kLon = "nav_lon";                          // (y, x)
inline constexpr const char* kSimulated = "co2flux_simulated";          // (time, y, x)
inline constexpr const char* kReconstructed = "co2flux_reconstructed";  // (time, y, x)
inline constexpr const char* kPco2Simulated = "pco2_simulated";         // pCO2 route only
inline constexpr const char* kPco2Reconstructed = "pco2_reconstructed";
inline constexpr const char* kSampled = "sampled";     // (time, y, x) byte, spatial design only
inline constexpr const char* kCellArea = "cell_area";  // (y, x) m2

// Attributes: of kReconstructed, then global ones.
inline constexpr const char* kFirstMonthReconstructed = "first_month_reconstructed";
inline constexpr const char* kModel = "model";
inline constexpr const char* kRegion = "region";
inline constexpr const char* kExperiment = "experiment";
inline constexpr const char* kYear = "year";
inline constexpr const char* kYOffset = "y_offset";  // 0-based first row in the input grid
inline constexpr const char* kXOffset = "x_offset";
inline constexpr const char* kInputGridNy = "input_grid_ny";
inline constexpr const char* kInputGridNx = "input_grid_nx";
inline constexpr const char* kInputGridChecksum = "input_grid_checksum";
inline constexpr const char* kModelFile = "model_file";
inline constexpr const char* kModelFileChecksum = "model_file_checksum";
inline constexpr const char* kDatasetConfig = "dataset_config";
inline constexpr const char* kSamplingDesign = "sampling_design";
inline constexpr const char* kSimulatedVariable = "simulated_variable";
inline constexpr const char* kPco2RouteSettings = "pco2_route_settings";
inline constexpr const char* kSoftware = "software";

inline std::string file_name(const std::string& model, const std::string& region,
                             const std::string& experiment, int year) {
  return model + "_" + region + "_" + experiment + "_" + std::to_string(year) + ".nc";
}

}  // namespace fluxrecon::io::flux_cache
