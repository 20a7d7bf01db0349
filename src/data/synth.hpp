// The embedded default data: a generator of NEMO-style yearly netCDF files
// from the synthetic ocean of kernels/synth_ocean.hpp, written in parallel
// with PnetCDF. Deterministic for a seed and independent of the number of
// ranks; any size from a 4-degree grid to ORCA025 (1442 x 1021).
//
// Files: <out_dir>/<prefix>_<experiment>_<year>.nc with dims time(12), y, x;
// nav_lat, nav_lon, tmask, e1t, e2t, time_counter and, as float (time, y, x)
// with _FillValue 1e20 on land, the predictors SST, SAL, ice_frac,
// mixed_layer_depth, heat_flux_down, water_flux_up, stress_X, stress_Y,
// currents_X, currents_Y, the target co2flux (mol m-2 s-1, + out of the
// ocean) and the diagnostics wind_speed, pco2_sw, pco2_air.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::data {

// NEMO's Earth radius; e1t * e2t of all distinct cells sums to 4 pi R^2.
constexpr double earth_radius_m = 6371229.0;

// One model run. Runs differ only in their wind forcing, like the seed's
// ".hind" (experiment_1) and ".wind" (experiment_2) runs.
struct SynthExperiment {
  std::string name;          // in file names and the `experiment` attribute
  double wind_factor = 1.0;  // scales the 10 m wind vector (stress ~ factor^2), 0.25..4
};

struct SynthOptions {
  std::string out_dir;             // created if missing
  std::string prefix = "testbed";  // file name prefix
  int nx = 90;                     // columns, incl. the 2 halo columns when orca_halo
  int ny = 45;                     // rows, incl. the north-fold row when orca_halo
  int first_year = 1958;           // first year written, >= 1850 + spinup_years
  int last_year = 2018;            // last year written, <= 2100
  std::vector<SynthExperiment> experiments = {{"experiment_1", 1.0}, {"experiment_2", 1.1}};
  unsigned long long seed = 42;  // all randomness derives from it
  int spinup_years = 2;          // years run (not written) before first_year, 0..50
  bool orca_halo = false;        // add ORCA-like cyclic halo columns and a north-fold row
  bool force = false;            // rewrite files that are already complete
  std::string format = "cdf5";   // "cdf5" or "64bit_offset"
};

struct SynthYearFlux {
  std::string experiment;
  int year = 0;
  double pgc_per_year = 0;  // global area-integrated co2flux, + out of the ocean
  bool written = false;     // false: file was complete and only recomputed
};

struct SynthSummary {
  std::vector<std::string> files_written;
  std::vector<std::string> files_skipped;  // complete already (no force)
  std::uint64_t bytes_written = 0;
  double seconds = 0;                      // wall time of generate_testbed (slowest rank)
  double compute_seconds = 0;              // kernels incl. spin-up (slowest rank)
  double write_seconds = 0;                // netCDF define/put/close/commit (slowest rank)
  std::vector<SynthYearFlux> global_flux;  // every computed (experiment, year) >= first_year
};

// Throws a fluxrecon::Error naming the first invalid field and what is allowed.
void validate(const SynthOptions& options);

// <out_dir>/<prefix>_<experiment>_<year>.nc
std::string synth_file_path(const SynthOptions& options, const std::string& experiment, int year);

// Collective over `comm`. Ranks own contiguous blocks of rows; every file is
// written to a temporary name and renamed when complete; complete files are
// skipped unless options.force (their years are still computed when a later
// year needs the carbon state). Returns the same summary on every rank.
SynthSummary generate_testbed(const SynthOptions& options, MPI_Comm comm);

// The one-line summary of a synth run (the subcommand's and the pipeline stage's).
std::string synth_summary_line(const SynthSummary& summary, const std::string& out_dir);

}  // namespace fluxrecon::data
