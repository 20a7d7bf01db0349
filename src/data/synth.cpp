// Driver of the synthetic testbed: decomposes the grid into row blocks, runs
// the synthetic-ocean kernels month by month (carrying each point's carbon
// state across years) and writes each year collectively with PnetCDF.
#include "data/synth.hpp"

#include <Kokkos_Core.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "io/nc_writer.hpp"
#include "kernels/synth_ocean.hpp"

namespace fluxrecon::data {
namespace {

namespace ks = kernels::synth;
using MemorySpace = Kokkos::DefaultExecutionSpace::memory_space;
using ExecSpace = Kokkos::DefaultExecutionSpace;

constexpr int enso_epoch = 1850;  // the ENSO index starts here, whatever the years asked
constexpr int max_year = 2100;
constexpr int time_origin_year = 1958;  // "days since 1958-01-01 00:00:00"

struct FieldInfo {
  int index;
  const char* name;
  const char* units;
  const char* standard_name;
  const char* long_name;
};

// Output variables in file order: the ten predictors, the target, diagnostics.
constexpr FieldInfo field_info[ks::n_fields] = {
    {ks::f_sst, "SST", "degC", "sea_surface_temperature", "sea surface temperature"},
    {ks::f_sal, "SAL", "psu", "sea_surface_salinity", "sea surface salinity"},
    {ks::f_ice, "ice_frac", "1", "sea_ice_area_fraction", "sea-ice area fraction"},
    {ks::f_mld, "mixed_layer_depth", "m", "ocean_mixed_layer_thickness", "mixed layer depth"},
    {ks::f_heat, "heat_flux_down", "W m-2", "surface_downward_heat_flux_in_sea_water",
     "net downward surface heat flux (+ into the ocean)"},
    {ks::f_water, "water_flux_up", "kg m-2 s-1", "water_flux_out_of_sea_ice_and_sea_water",
     "net upward surface freshwater flux, evaporation minus precipitation (+ out of the ocean)"},
    {ks::f_stress_x, "stress_X", "N m-2", "surface_downward_x_stress",
     "surface wind stress, x (eastward) component"},
    {ks::f_stress_y, "stress_Y", "N m-2", "surface_downward_y_stress",
     "surface wind stress, y (northward) component"},
    {ks::f_current_x, "currents_X", "m s-1", "sea_water_x_velocity",
     "surface current, x (eastward) component"},
    {ks::f_current_y, "currents_Y", "m s-1", "sea_water_y_velocity",
     "surface current, y (northward) component"},
    {ks::f_co2flux, "co2flux", "mol m-2 s-1", "surface_upward_mole_flux_of_carbon_dioxide",
     "air-sea CO2 flux (+ out of the ocean)"},
    {ks::f_wind, "wind_speed", "m s-1", "wind_speed", "10 m wind speed (diagnostic)"},
    {ks::f_pco2_sw, "pco2_sw", "uatm", "surface_partial_pressure_of_carbon_dioxide_in_sea_water",
     "surface-ocean CO2 partial pressure (diagnostic)"},
    {ks::f_pco2_air, "pco2_air", "uatm", "surface_partial_pressure_of_carbon_dioxide_in_air",
     "atmospheric CO2 partial pressure (diagnostic)"},
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm);
// the "standard" calendar is Gregorian for every year allowed here.
std::int64_t days_from_civil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const int yoe = year - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

int days_in_month(int year, int month) {  // month 1..12
  return static_cast<int>(days_from_civil(month == 12 ? year + 1 : year, month % 12 + 1, 1) -
                          days_from_civil(year, month, 1));
}

// The part of the grid this rank owns, with everything time-invariant.
struct Block {
  int row0 = 0, rows = 0, nx = 0;
  std::int64_t points() const { return static_cast<std::int64_t>(rows) * nx; }
  std::vector<float> lat, lon;
  std::vector<double> e1t, e2t;
  std::vector<signed char> tmask;
  Kokkos::View<ks::PointClimate*, MemorySpace> climate;
};

// Geographic cell behind file point (j, i): with the ORCA halo, x = 0 repeats
// x = nx-2, x = nx-1 repeats x = 1, and the top row repeats the row below
// mirrored (a north fold), so duplicated points carry identical values.
void geographic_index(const SynthOptions& o, int j, int i, int& gj, int& gi, bool& primary) {
  primary = true;
  if (!o.orca_halo) {
    gj = j;
    gi = i;
    return;
  }
  if (j == o.ny - 1) {
    j = o.ny - 2;
    i = o.nx - 1 - i;
    primary = false;
  }
  if (i == 0 || i == o.nx - 1) primary = false;
  gi = i == 0 ? o.nx - 3 : (i == o.nx - 1 ? 0 : i - 1);
  gj = j;
}

Block make_block(const SynthOptions& o, MPI_Comm comm) {
  const int size = mpi::size(comm), rank = mpi::rank(comm);
  Block b;
  b.nx = o.nx;
  b.row0 = static_cast<int>(static_cast<std::int64_t>(o.ny) * rank / size);
  b.rows = static_cast<int>(static_cast<std::int64_t>(o.ny) * (rank + 1) / size) - b.row0;
  const int ngx = o.orca_halo ? o.nx - 2 : o.nx;
  const int ngy = o.orca_halo ? o.ny - 1 : o.ny;
  const double dlon = 2.0 * ks::pi / ngx, dlat = ks::pi / ngy;
  const auto n = static_cast<size_t>(b.points());
  b.lat.resize(n);
  b.lon.resize(n);
  b.e1t.resize(n);
  b.e2t.resize(n);
  b.tmask.resize(n);
  Kokkos::View<float*, MemorySpace> lat("synth_lat", n), lon("synth_lon", n),
      weight("synth_area_weight", n);
  Kokkos::View<std::uint64_t*, MemorySpace> key("synth_key", n);
  auto lat_h = Kokkos::create_mirror_view(lat);
  auto lon_h = Kokkos::create_mirror_view(lon);
  auto weight_h = Kokkos::create_mirror_view(weight);
  auto key_h = Kokkos::create_mirror_view(key);
  for (int r = 0; r < b.rows; ++r) {
    for (int i = 0; i < o.nx; ++i) {
      const size_t p = static_cast<size_t>(r) * o.nx + i;
      int gj = 0, gi = 0;
      bool primary = true;
      geographic_index(o, b.row0 + r, i, gj, gi, primary);
      const double south = -0.5 * ks::pi + gj * dlat;
      // Exact spherical cell: e2t is the meridional arc, e1t is chosen so
      // that e1t * e2t is the area R^2 dlon (sin north - sin south).
      const double area =
          earth_radius_m * earth_radius_m * dlon * (std::sin(south + dlat) - std::sin(south));
      b.e2t[p] = earth_radius_m * dlat;
      b.e1t[p] = area / b.e2t[p];
      b.lat[p] = static_cast<float>(-90.0 + (gj + 0.5) * 180.0 / ngy);
      b.lon[p] = static_cast<float>(-180.0 + (gi + 0.5) * 360.0 / ngx);
      lat_h(p) = b.lat[p];
      lon_h(p) = b.lon[p];
      weight_h(p) = primary ? static_cast<float>(area) : 0.0f;
      key_h(p) = static_cast<std::uint64_t>(gj) * static_cast<std::uint64_t>(ngx) + gi;
    }
  }
  Kokkos::deep_copy(lat, lat_h);
  Kokkos::deep_copy(lon, lon_h);
  Kokkos::deep_copy(weight, weight_h);
  Kokkos::deep_copy(key, key_h);
  b.climate = Kokkos::View<ks::PointClimate*, MemorySpace>("synth_climate", n);
  Kokkos::parallel_for("synth::init_climate", Kokkos::RangePolicy<ExecSpace>(0, n),
                       ks::InitClimate<MemorySpace>{lat, lon, weight, key, b.climate});
  auto climate_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.climate);
  for (size_t p = 0; p < n; ++p) b.tmask[p] = static_cast<signed char>(climate_h(p).ocean);
  return b;
}

// Monthly ENSO index from enso_epoch on: AR(1) with lag-one correlation 0.92
// (e-folding ~1 year) and unit variance, innovations hashed from (seed, year,
// month), so every rank computes the same series.
std::vector<double> enso_series(std::uint64_t seed, int last_year) {
  constexpr double persistence = 0.92;
  const double innovation_scale = std::sqrt(1.0 - persistence * persistence);
  std::vector<double> index;
  double value = 0.0;
  for (int y = enso_epoch; y <= last_year; ++y) {
    for (int m = 0; m < 12; ++m) {
      value = persistence * value + innovation_scale * ks::enso_innovation(seed, y, m);
      index.push_back(value);
    }
  }
  return index;
}

ks::MonthForcing month_forcing(const SynthOptions& o, const std::vector<double>& enso,
                               double wind_factor, int year, int month) {
  ks::MonthForcing f;
  f.seed = o.seed;
  f.year = year;
  f.month = month;
  const int days = days_in_month(year, month + 1);
  const double day_of_year =
      static_cast<double>(days_from_civil(year, month + 1, 1) - days_from_civil(year, 1, 1));
  const double year_days =
      static_cast<double>(days_from_civil(year + 1, 1, 1) - days_from_civil(year, 1, 1));
  f.year_fraction = (day_of_year + 0.5 * days) / year_days;
  f.month_seconds = days * 86400.0;
  const size_t k = static_cast<size_t>(year - enso_epoch) * 12 + static_cast<size_t>(month);
  f.enso = enso[k];
  f.enso_previous = k > 0 ? enso[k - 1] : 0.0;
  const double t = year + f.year_fraction;
  f.pco2_atm = ks::atmospheric_pco2(t);
  f.pco2_ocean_offset = ks::ocean_pco2_offset(t);
  f.years_since_1990 = t - 1990.0;
  f.wind_factor = wind_factor;
  f.prepare();
  return f;
}

// Mid-month times in days since 1958-01-01.
std::vector<double> time_counter(int year) {
  std::vector<double> days(12);
  for (int m = 0; m < 12; ++m) {
    days[m] = static_cast<double>(days_from_civil(year, m + 1, 1) -
                                  days_from_civil(time_origin_year, 1, 1)) +
              0.5 * days_in_month(year, m + 1);
  }
  return days;
}

void define_file(io::NcWriter& w, const SynthOptions& o, const SynthExperiment& e, int year) {
  using io::NcType;
  w.define_dimension("time", 12);
  w.define_dimension("y", o.ny);
  w.define_dimension("x", o.nx);
  const std::vector<std::string> yx{"y", "x"}, tyx{"time", "y", "x"};
  w.define_variable("nav_lat", NcType::float32, yx);
  w.put_attribute("nav_lat", "units", "degrees_north");
  w.put_attribute("nav_lat", "standard_name", "latitude");
  w.put_attribute("nav_lat", "long_name", "latitude of T points");
  w.define_variable("nav_lon", NcType::float32, yx);
  w.put_attribute("nav_lon", "units", "degrees_east");
  w.put_attribute("nav_lon", "standard_name", "longitude");
  w.put_attribute("nav_lon", "long_name", "longitude of T points (-180..180)");
  w.define_variable("tmask", NcType::byte, yx);
  w.put_attribute("tmask", "long_name", "surface land-sea mask (1 = ocean, 0 = land)");
  w.put_attribute("tmask", "flag_values", NcType::byte, {0.0, 1.0});
  w.put_attribute("tmask", "flag_meanings", "land ocean");
  for (const char* name : {"e1t", "e2t"}) {
    w.define_variable(name, NcType::float64, yx);
    w.put_attribute(name, "units", "m");
    w.put_attribute(name, "long_name",
                    name[1] == '1' ? "zonal size of T cells" : "meridional size of T cells");
    w.put_attribute(name, "comment", "e1t * e2t is the exact spherical cell area");
  }
  w.define_variable("time_counter", NcType::float64, {"time"});
  w.put_attribute("time_counter", "units", "days since 1958-01-01 00:00:00");
  w.put_attribute("time_counter", "calendar", "standard");
  w.put_attribute("time_counter", "standard_name", "time");
  w.put_attribute("time_counter", "long_name", "middle of the month");
  w.put_attribute("time_counter", "axis", "T");
  for (const FieldInfo& f : field_info) {
    w.define_variable(f.name, NcType::float32, tyx);
    w.put_attribute(f.name, "units", f.units);
    w.put_attribute(f.name, "standard_name", f.standard_name);
    w.put_attribute(f.name, "long_name", f.long_name);
    w.put_attribute(f.name, "coordinates", "time_counter nav_lat nav_lon");
    w.put_attribute(f.name, "_FillValue", NcType::float32, {static_cast<double>(ks::fill_value)});
  }
  w.put_attribute("co2flux", "sign_convention", "positive out of the ocean");
  w.put_attribute("co2flux", "comment",
                  "bulk formula F = k_w K0 (pco2_sw - pco2_air) (1 - ice_frac) with k_w = 0.251 "
                  "U10^2 (Sc/660)^-0.5 (Wanninkhof 2014) and K0 from Weiss (1974)");
  w.put_attribute("", "title", "fluxrecon synthetic NEMO-style ocean testbed");
  w.put_attribute("", "Conventions", "CF-1.8");
  w.put_attribute("", "generator", "fluxrecon synth (kernels/synth_ocean.hpp)");
  w.put_attribute("", "software_version", FLUXRECON_VERSION);
  w.put_attribute("", "seed", std::to_string(o.seed));
  w.put_attribute("", "experiment", e.name);
  w.put_attribute("", "wind_factor", NcType::float64, {e.wind_factor});
  w.put_attribute("", "year", NcType::int32, {static_cast<double>(year)});
  w.put_attribute("", "spinup_years", NcType::int32, {static_cast<double>(o.spinup_years)});
  w.put_attribute("", "orca_halo", NcType::int32, {o.orca_halo ? 1.0 : 0.0});
  w.put_attribute("", "grid",
                  o.orca_halo ? "regular lat-lon with ORCA-like halo: x=0 repeats x=nx-2, "
                                "x=nx-1 repeats x=1, row y=ny-1 repeats row ny-2 mirrored in x"
                              : "regular lat-lon, cell centres, no duplicated points");
  w.put_attribute("", "flux_sign_convention", "co2flux positive out of the ocean");
  w.end_definitions();
}

void write_static(io::NcWriter& w, const Block& b, int year, MPI_Comm comm) {
  const std::vector<std::int64_t> start{b.row0, 0}, count{b.rows, b.nx};
  // A rank without rows still joins every collective with a zero count.
  static const float no_float = 0;
  static const double no_double = 0;
  static const signed char no_byte = 0;
  const bool empty = b.points() == 0;
  w.write("nav_lat", start, count, empty ? &no_float : b.lat.data());
  w.write("nav_lon", start, count, empty ? &no_float : b.lon.data());
  w.write("tmask", start, count, empty ? &no_byte : b.tmask.data());
  w.write("e1t", start, count, empty ? &no_double : b.e1t.data());
  w.write("e2t", start, count, empty ? &no_double : b.e2t.data());
  const std::vector<double> times = time_counter(year);
  const bool root = mpi::rank(comm) == 0;
  w.write("time_counter", {0}, {root ? 12 : 0}, times.data());
}

}  // namespace

void validate(const SynthOptions& o) {
  FR_REQUIRE(!o.out_dir.empty(), "synth: out_dir is empty; give the output directory");
  FR_REQUIRE(!o.prefix.empty() && o.prefix.find('/') == std::string::npos, "synth: prefix '",
             o.prefix, "' must be non-empty and contain no '/'");
  const int min_nx = o.orca_halo ? 6 : 4, min_ny = o.orca_halo ? 4 : 3;
  FR_REQUIRE(o.nx >= min_nx && o.nx <= 100000, "synth: nx = ", o.nx, " outside ", min_nx,
             "..100000", o.orca_halo ? " (orca_halo)" : "");
  FR_REQUIRE(o.ny >= min_ny && o.ny <= 100000, "synth: ny = ", o.ny, " outside ", min_ny,
             "..100000", o.orca_halo ? " (orca_halo)" : "");
  FR_REQUIRE(static_cast<double>(o.nx) * o.ny < 2147483647.0, "synth: a ", o.nx, " x ", o.ny,
             " grid has over 2^31 points");
  FR_REQUIRE(o.spinup_years >= 0 && o.spinup_years <= 50, "synth: spinup_years = ", o.spinup_years,
             " outside 0..50");
  FR_REQUIRE(o.first_year - o.spinup_years >= enso_epoch && o.last_year <= max_year &&
                 o.first_year <= o.last_year,
             "synth: years ", o.first_year, "..", o.last_year, " with ", o.spinup_years,
             " spin-up years must satisfy ", enso_epoch,
             " + spinup_years <= first_year <= "
             "last_year <= ",
             max_year);
  FR_REQUIRE(!o.experiments.empty(), "synth: no experiments given");
  std::set<std::string> names;
  for (const auto& e : o.experiments) {
    FR_REQUIRE(!e.name.empty() && e.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                           "0123456789_.-") == std::string::npos,
               "synth: experiment name '", e.name,
               "' must be non-empty and use only letters, "
               "digits, '_', '.', '-'");
    FR_REQUIRE(names.insert(e.name).second, "synth: experiment '", e.name, "' given twice");
    FR_REQUIRE(e.wind_factor >= 0.25 && e.wind_factor <= 4.0, "synth: experiment '", e.name,
               "' wind_factor = ", e.wind_factor, " outside 0.25..4");
  }
  const io::WriteFormat format = io::write_format_from_name(o.format);
  // 64-bit offset files limit a fixed-size variable to 4 GiB.
  const double variable_bytes = 12.0 * 4.0 * o.nx * static_cast<double>(o.ny);
  FR_REQUIRE(format == io::WriteFormat::cdf5 || variable_bytes < 4294967296.0, "synth: a ", o.nx,
             " x ", o.ny, " grid needs ", variable_bytes,
             " bytes per variable, over the 4 GiB limit of 64bit_offset; use format cdf5");
}

std::string synth_file_path(const SynthOptions& o, const std::string& experiment, int year) {
  return (std::filesystem::path(o.out_dir) /
          (o.prefix + "_" + experiment + "_" + std::to_string(year) + ".nc"))
      .string();
}

SynthSummary generate_testbed(const SynthOptions& o, MPI_Comm comm) {
  const double t_start = MPI_Wtime();
  all_ranks_agree(comm, [&] {
    validate(o);
    FR_REQUIRE(Kokkos::is_initialized(), "synth: Kokkos is not initialized");
  });
  const io::WriteFormat format = io::write_format_from_name(o.format);
  const int rank = mpi::rank(comm);
  const int n_years = o.last_year - o.first_year + 1;
  const auto n_experiments = static_cast<int>(o.experiments.size());

  // Which files to write: decided on rank 0, so all ranks agree.
  std::vector<int> pending(static_cast<size_t>(n_experiments) * n_years, 1);
  if (rank == 0 && !o.force) {
    for (int e = 0; e < n_experiments; ++e)
      for (int y = 0; y < n_years; ++y)
        pending[e * n_years + y] =
            output_complete(synth_file_path(o, o.experiments[e].name, o.first_year + y)) ? 0 : 1;
  }
  MPI_Bcast(pending.data(), static_cast<int>(pending.size()), MPI_INT, 0, comm);
  int to_write = 0;
  for (int p : pending) to_write += p;

  SynthSummary summary;
  log::info("synth: ", o.nx, " x ", o.ny, " grid", o.orca_halo ? " (ORCA halo)" : "", ", years ",
            o.first_year, "..", o.last_year, ", ", n_experiments, " experiment(s), seed ", o.seed,
            ", ", mpi::size(comm), " rank(s): ", to_write, " file(s) to write, ",
            pending.size() - static_cast<size_t>(to_write), " complete");

  Block block = make_block(o, comm);
  const auto n = static_cast<size_t>(block.points());
  Kokkos::View<ks::CarbonState*, MemorySpace> state("synth_state", n);
  Kokkos::View<float**, Kokkos::LayoutRight, MemorySpace> fields("synth_fields", ks::n_fields, n);
  auto fields_h = Kokkos::create_mirror_view(fields);
  const std::vector<double> enso = enso_series(o.seed, o.last_year);
  const float no_float = 0;

  int written = 0;
  double written_seconds = 0;
  for (int e = 0; e < n_experiments; ++e) {
    const SynthExperiment& experiment = o.experiments[e];
    int last_pending = -1;
    for (int y = 0; y < n_years; ++y) {
      if (pending[e * n_years + y])
        last_pending = o.first_year + y;
      else
        summary.files_skipped.push_back(synth_file_path(o, experiment.name, o.first_year + y));
    }
    if (last_pending < 0) {
      log::info("synth: ", experiment.name, ": all ", n_years, " file(s) complete, skipped");
      continue;
    }
    Kokkos::parallel_for("synth::init_state", Kokkos::RangePolicy<ExecSpace>(0, n),
                         ks::InitState<MemorySpace>{block.climate, state});
    for (int year = o.first_year - o.spinup_years; year <= last_pending; ++year) {
      const bool write = year >= o.first_year && pending[e * n_years + (year - o.first_year)];
      const double t_file = MPI_Wtime();
      const std::string path = synth_file_path(o, experiment.name, year);
      std::unique_ptr<AtomicOutput> output;
      std::unique_ptr<io::NcWriter> writer;
      double write_time = 0;
      if (write) {
        const double t0 = MPI_Wtime();
        output = std::make_unique<AtomicOutput>(path, comm);
        writer = std::make_unique<io::NcWriter>(output->temp_path(), comm, format);
        define_file(*writer, o, experiment, year);
        write_static(*writer, block, year, comm);
        write_time += MPI_Wtime() - t0;
      }
      double year_flux_mol = 0;
      for (int month = 0; month < 12; ++month) {
        const double t0 = MPI_Wtime();
        const ks::MonthForcing forcing =
            month_forcing(o, enso, experiment.wind_factor, year, month);
        double flux_mol_per_s = 0;
        Kokkos::parallel_reduce("synth::ocean_month", Kokkos::RangePolicy<ExecSpace>(0, n),
                                ks::OceanMonth<MemorySpace>{block.climate, state, fields, forcing},
                                flux_mol_per_s);
        year_flux_mol += flux_mol_per_s * forcing.month_seconds;
        if (write) Kokkos::deep_copy(fields_h, fields);
        Kokkos::fence();
        const double t1 = MPI_Wtime();
        summary.compute_seconds += t1 - t0;
        if (!write) continue;
        const std::vector<std::int64_t> start{month, block.row0, 0}, count{1, block.rows, block.nx};
        for (const FieldInfo& f : field_info) {
          const float* values = n == 0 ? &no_float : fields_h.data() + f.index * n;
          writer->write(f.name, start, count, values);
        }
        write_time += MPI_Wtime() - t1;
      }
      const double pgc = mpi::sum(year_flux_mol, comm) * kernels::carbon_molar_mass / 1.0e15;
      if (year >= o.first_year) summary.global_flux.push_back({experiment.name, year, pgc, write});
      if (!write) continue;
      const double t0 = MPI_Wtime();
      writer->close();
      writer.reset();
      output->commit();
      write_time += MPI_Wtime() - t0;
      summary.write_seconds += write_time;
      std::uint64_t bytes = 0;
      if (rank == 0) {
        std::error_code ec;
        bytes = std::filesystem::file_size(path, ec);
        if (ec) bytes = 0;  // only a statistic; the commit succeeded
      }
      MPI_Bcast(&bytes, 1, MPI_UINT64_T, 0, comm);
      summary.bytes_written += bytes;
      summary.files_written.push_back(path);
      ++written;
      const double file_seconds = MPI_Wtime() - t_file;
      written_seconds += file_seconds;
      const double eta = written_seconds / written * (to_write - written);
      log::info("synth: [", written, "/", to_write, "] ", path, "  ", log::bytes(bytes), " in ",
                log::seconds(file_seconds), " (", log::bytes(bytes / file_seconds), "/s, write ",
                log::seconds(write_time), "), global flux ", pgc, " PgC/yr, ETA ",
                log::seconds(eta));
    }
  }
  // Timings are the slowest rank's, so every rank returns the same summary.
  summary.compute_seconds = mpi::max(summary.compute_seconds, comm);
  summary.write_seconds = mpi::max(summary.write_seconds, comm);
  summary.seconds = mpi::max(MPI_Wtime() - t_start, comm);
  log::debug("synth: compute ", log::seconds(summary.compute_seconds), ", write ",
             log::seconds(summary.write_seconds), " (slowest rank)");
  return summary;
}

std::string synth_summary_line(const SynthSummary& s, const std::string& out_dir) {
  double mean_flux = 0;
  for (const auto& f : s.global_flux)
    mean_flux += f.pgc_per_year / static_cast<double>(s.global_flux.size());
  return concat("synth: wrote ", s.files_written.size(), " file(s) (", s.files_skipped.size(),
                " already complete) to ", out_dir, ", ",
                log::bytes(static_cast<double>(s.bytes_written)), " in ", log::seconds(s.seconds),
                " (", log::bytes(s.seconds > 0 ? s.bytes_written / s.seconds : 0.0), "/s)",
                s.global_flux.empty()
                    ? std::string()
                    : concat("; mean global flux ", mean_flux, " PgC/yr (+ out of the ocean)"));
}

}  // namespace fluxrecon::data
