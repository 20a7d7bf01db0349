// The synthetic ocean behind `fluxrecon synth`: for one grid point and one
// month, the ten NEMO-style predictors, the wind, the CO2 partial pressures and
// the air-sea CO2 flux. Built to be physically grounded rather than random:
//
// - fixed procedural geography (continents, basins, upwelling zones);
// - seasonal cycles with the right hemispheric phase, a warming trend, an
//   ENSO-like mode (an AR(1) index with an equatorial-Pacific pattern) and
//   spatially smooth "weather" from counter-based hashes, so that values never
//   depend on how the grid is split over ranks;
// - a mixed-layer carbon budget carried from month to month (winter
//   entrainment, light-limited spring/summer production, upwelling, air-sea
//   exchange), so that the flux is a lagged, non-linear function of the
//   predictors, as in a real ocean model.
//
// Everything here is a device function or a small functor: no I/O, no MPI.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

#include "kernels/bulk_flux.hpp"

namespace fluxrecon::kernels::synth {

constexpr double pi = 3.14159265358979323846;
constexpr double two_pi = 2.0 * pi;
constexpr double seconds_per_year = 365.2425 * 86400.0;
constexpr double earth_omega = 7.2921e-5;            // s-1
constexpr double rho_cp_seawater = 1025.0 * 3990.0;  // J m-3 K-1
constexpr double air_density = 1.22;                 // kg m-3
constexpr double drag_coefficient = 1.25e-3;         // neutral 10 m drag, constant
constexpr double reference_dic = 2.0e-3;             // mol kg-1, converts air-sea flux to dDIC/DIC
constexpr float fill_value = 1.0e20f;

// ---------------------------------------------------------------- random numbers
// Counter-based: every number is a hash of (seed, stream, year, month, place),
// never the state of a sequential generator, so any rank computes any point.

KOKKOS_INLINE_FUNCTION std::uint64_t mix64(std::uint64_t z) {  // splitmix64 finaliser
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
KOKKOS_INLINE_FUNCTION std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v) {
  return mix64(h ^ mix64(v));
}
// Uniform in [0, 1) from the top 53 bits.
KOKKOS_INLINE_FUNCTION double unit_uniform(std::uint64_t h) {
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

enum Stream : std::uint64_t {
  stream_coast = 1,
  stream_sst,
  stream_sst_eddy,
  stream_wind_u,
  stream_wind_v,
  stream_mld,
  stream_precip,
  stream_heat,
  stream_current_u,
  stream_current_v,
  stream_salinity,
  stream_enso,
  n_streams
};

// Key of one noise field for one month.
KOKKOS_INLINE_FUNCTION std::uint64_t month_key(std::uint64_t seed, std::uint64_t stream, int year,
                                               int month) {
  const auto y = static_cast<std::uint64_t>(static_cast<std::int64_t>(year) + 1000000);
  return hash_combine(hash_combine(hash_combine(seed, stream), y),
                      static_cast<std::uint64_t>(month));
}

// Standard normal innovation of the ENSO index for one month (Box-Muller).
KOKKOS_INLINE_FUNCTION double enso_innovation(std::uint64_t seed, int year, int month) {
  const std::uint64_t key = month_key(seed, stream_enso, year, month);
  const double u1 = 1.0 - unit_uniform(mix64(key));  // (0, 1]
  const double u2 = unit_uniform(mix64(key ^ 0x5DEECE66DULL));
  return kmath::sqrt(-2.0 * kmath::log(u1)) * kmath::cos(two_pi * u2);
}

// White noise with unit variance at one grid point (mesoscale "eddies").
KOKKOS_INLINE_FUNCTION double white_noise(std::uint64_t key, std::uint64_t point) {
  return (2.0 * unit_uniform(hash_combine(key, point)) - 1.0) * 1.7320508075688772;
}

// Smooth value noise of about unit variance with correlation length
// `cell_deg`, periodic in longitude and independent of the model grid, so a
// 4-degree and a quarter-degree grid see the same weather.
KOKKOS_INLINE_FUNCTION double value_noise(std::uint64_t key, double lat, double lon,
                                          double cell_deg) {
  const int nlon = static_cast<int>(360.0 / cell_deg + 0.5);
  const double a = (lon + 180.0) * nlon / 360.0;
  const double b = (lat + 90.0) / cell_deg;
  const double fa = kmath::floor(a), fb = kmath::floor(b);
  int i0 = static_cast<int>(fa) % nlon;
  if (i0 < 0) i0 += nlon;
  const int i1 = (i0 + 1) % nlon;
  const auto j0 = static_cast<std::uint64_t>(static_cast<std::int64_t>(fb) + 4096);
  const double ta = a - fa, tb = b - fb;
  const double wa = ta * ta * (3.0 - 2.0 * ta), wb = tb * tb * (3.0 - 2.0 * tb);
  auto corner = [&](int i, std::uint64_t j) {
    const std::uint64_t node = (j << 20) + static_cast<std::uint64_t>(i);
    return 2.0 * unit_uniform(mix64(key ^ (node * 0x9E3779B97F4A7C15ULL))) - 1.0;
  };
  const double south = corner(i0, j0) + wa * (corner(i1, j0) - corner(i0, j0));
  const double north = corner(i0, j0 + 1) + wa * (corner(i1, j0 + 1) - corner(i0, j0 + 1));
  return 2.33 * (south + wb * (north - south));  // 2.33 restores unit variance
}

// ---------------------------------------------------------------- geography

KOKKOS_INLINE_FUNCTION double bump(double x, double centre, double width) {
  const double d = (x - centre) / width;
  return kmath::exp(-d * d);
}
// Smooth step from 0 (x << edge) to 1 (x >> edge).
KOKKOS_INLINE_FUNCTION double step(double x, double edge, double width) {
  return 0.5 * (1.0 + kmath::tanh((x - edge) / width));
}
// Longitude difference wrapped into [-180, 180).
KOKKOS_INLINE_FUNCTION double lon_diff(double lon, double centre) {
  const double d = lon - centre;
  return d - 360.0 * kmath::floor((d + 180.0) / 360.0);
}
KOKKOS_INLINE_FUNCTION double bump2(double lat, double lon, double lat0, double lon0, double wlat,
                                    double wlon) {
  const double dy = (lat - lat0) / wlat, dx = lon_diff(lon, lon0) / wlon;
  return kmath::exp(-dy * dy - dx * dx);
}
KOKKOS_INLINE_FUNCTION double clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// Procedural continents: a union of ellipses in (lat, lon) with a noisy
// coastline from a fixed key (the planet does not change with the seed).
// Roughly the Americas, Greenland, Africa, Eurasia, Australia, Antarctica.
KOKKOS_INLINE_FUNCTION bool is_ocean(double lat, double lon) {
  constexpr int n_land = 33;
  // centre lat, centre lon, half-extent lat, half-extent lon (degrees)
  constexpr float land[n_land][4] = {
      {54, -102, 18, 36}, {38, -95, 9, 20},  {64, -150, 7, 16},  {24, -104, 8, 9},
      {15, -89, 5, 8},    {9, -80, 3, 5},    {73, -41, 11, 18},  {72, -95, 7, 26},
      {-8, -60, 17, 18},  {-29, -63, 12, 9}, {-46, -70, 8, 4},   {7, -68, 5, 10},
      {17, 12, 16, 28},   {-8, 24, 14, 13},  {-26, 25, 8, 8},    {9, 42, 5, 7},
      {-19, 47, 6, 2.5},  {55, 95, 18, 75},  {50, 15, 11, 20},   {64, 20, 7, 10},
      {23, 47, 9, 10},    {21, 79, 11, 9},   {16, 103, 9, 7},    {33, 113, 10, 12},
      {65, 160, 7, 22},   {40, -4, 4, 5},    {54, -3, 4, 3},     {38, 36, 5, 11},
      {0, 114, 4, 4},     {-5, 141, 3, 8},   {-25, 134, 12, 19}, {-42, 173, 5, 3},
      {-66, -63, 5, 4}};
  const double coast = 0.22 * value_noise(mix64(stream_coast), lat, lon, 6.0);
  if (lat < -66.0 + 2.5 * coast / 0.22) return false;  // Antarctica
  for (int e = 0; e < n_land; ++e) {
    const double dy = (lat - land[e][0]) / land[e][2];
    const double dx = lon_diff(lon, land[e][1]) / land[e][3];
    if (dy * dy + dx * dx < 1.0 + coast) return false;
  }
  return true;
}

// Time-invariant properties of one ocean point, computed once per run.
struct PointClimate {
  float lat = 0, lon = 0;
  float area_weight = 0;  // m2; 0 for duplicated (halo) points
  std::uint64_t key = 0;  // geographic index, for per-point noise
  int ocean = 0;
  float north = 0;  // 1 in the northern hemisphere, 0 in the southern (smooth)
  float polar = 0;  // 1 poleward of ~60 degrees
  float sin_lat = 0, cos_lat = 0;
  float storm_track = 0;                 // 0..1, mid-latitude storm-track rain
  float air_season = 0;                  // weight of the NH seasonal cycle of atmospheric CO2
  float sst_mean = 0;                    // degC, annual mean of the 1990 climate
  float sst_amp = 0;                     // degC, seasonal half-range, signed by hemisphere
  float enso_sst = 0;                    // degC per unit ENSO index
  float warming_rate = 0;                // degC per year
  float sal_mean = 0;                    // psu
  float mld_winter = 0, mld_summer = 0;  // m
  float wind_u = 0, wind_v = 0;          // m s-1, climatological 10 m wind vector
  float westerly_sh = 0;                 // weight of the Southern Annular Mode trend
  float trade_enso = 0;                  // m s-1 zonal wind anomaly per unit ENSO index
  float current_u = 0;                   // m s-1, geostrophic zonal current
  float enso_current = 0;                // m s-1 per unit ENSO index
  float heat_transport = 0;              // W m-2, mean heat gain balancing ocean heat transport
  float dic_deep = 0;                    // dDIC/DIC of the water below the mixed layer
  float nutrient_deep = 0;               // nutrient below the mixed layer, 0..1
  float upwelling = 0;                   // fraction of the mixed layer replaced per month
  float enso_weight = 0;                 // how strongly El Nino shuts the upwelling here, 0..1
  float growth_max = 0;  // month-1, nutrient-replete production rate (iron-limited in HNLC)
  float pco2_diseq = 0;  // uatm, circulation-driven pCO2 offset at sst_mean
  float coriolis = 0;    // s-1
  float enso_rain = 0;   // mm day-1 per unit ENSO index
};

KOKKOS_INLINE_FUNCTION PointClimate point_climate(double lat, double lon, std::uint64_t key,
                                                  double area_weight) {
  PointClimate c;
  c.lat = static_cast<float>(lat);
  c.lon = static_cast<float>(lon);
  c.key = key;
  c.area_weight = static_cast<float>(area_weight);
  c.ocean = is_ocean(lat, lon) ? 1 : 0;
  if (!c.ocean) return c;
  const double a = kmath::fabs(lat);
  const double nh = step(lat, 0.0, 4.0);  // 1 in the north, 0 in the south
  const double coslat = kmath::cos(lat * pi / 180.0);
  c.north = static_cast<float>(nh);
  c.polar = static_cast<float>(step(a, 60.0, 4.0));
  c.sin_lat = static_cast<float>(kmath::sin(lat * pi / 180.0));
  c.cos_lat = static_cast<float>(coslat);
  c.storm_track = static_cast<float>(bump(a, 50.0, 10.0));
  c.air_season = static_cast<float>(step(lat, 30.0, 10.0));
  // Basins and regions.
  // Pacific: west of the Americas (-79) and east of the Maritime Continent (115).
  const double pacific = 1.0 - step(lon, -79.0, 1.5) * (1.0 - step(lon, 115.0, 3.0));
  const double pacific_east = bump(lon_diff(lon, -120.0), 0.0, 35.0) * pacific;
  const double pacific_eq = bump(lon_diff(lon, -150.0), 0.0, 55.0) * pacific;
  const double atlantic = step(lon, -78.0, 4.0) * (1.0 - step(lon, 15.0, 4.0)) *
                          step(lat, -40.0, 4.0) * (1.0 - step(lat, 70.0, 4.0));
  const double coastal_upwelling = bump2(lat, lon, 31, -122, 8, 6) +
                                   bump2(lat, lon, -15, -78, 10, 6) +
                                   bump2(lat, lon, 22, -19, 7, 5) + bump2(lat, lon, -22, 12, 8, 5);
  const double gulf_stream = bump2(lat, lon, 38, -62, 4, 16);
  const double kuroshio = bump2(lat, lon, 36, 150, 4, 14);
  const double cold_tongue = bump(lat, -1.0, 4.0) * pacific_east;
  const double subpolar_atlantic = bump2(lat, lon, 58, -30, 11, 32);

  // Temperature: zonal profile, North Atlantic Drift, warm pool, cold
  // tongue, eastern-boundary upwelling, Antarctic Circumpolar fronts.
  c.sst_mean = static_cast<float>(-1.8 + 29.8 * coslat * coslat + 3.5 * subpolar_atlantic +
                                  1.0 * bump2(lat, lon, 5, 150, 14, 35) - 2.5 * cold_tongue -
                                  3.0 * coastal_upwelling - 2.5 * step(-lat, 50.0, 4.0) -
                                  2.5 * step(a, 63.0, 5.0));
  const double amp = 0.5 + nh * 4.5 * bump(a, 40.0, 18.0) + (1.0 - nh) * 2.8 * bump(a, 40.0, 16.0) +
                     1.3 * step(a, 55.0, 6.0);
  c.sst_amp = static_cast<float>(amp * kmath::tanh(lat / 6.0));
  c.enso_sst = static_cast<float>(1.0 * bump(lat, 0.0, 7.0) * pacific_east);
  c.warming_rate =
      static_cast<float>(0.008 + 0.008 * step(lat, 20.0, 15.0) - 0.004 * step(-lat, 45.0, 5.0));
  // Salinity: salty evaporative subtropics and Atlantic, fresh ITCZ and Arctic.
  c.sal_mean =
      static_cast<float>(34.6 + 1.3 * bump(a, 24.0, 10.0) - 0.6 * bump(lat, 7.0, 5.0) -
                         2.2 * step(lat, 66.0, 4.0) - 0.5 * step(-lat, 55.0, 5.0) + 0.9 * atlantic);
  // Mixed layer: deep winter convection in the subpolar North Atlantic and
  // the Southern Ocean, mode waters at mid latitudes, shallow in summer.
  c.mld_winter =
      static_cast<float>(40.0 + 110.0 * bump(a, 42.0, 14.0) +
                         480.0 * bump2(lat, lon, 58, -35, 6, 22) + 180.0 * bump(lat, -53.0, 6.0));
  c.mld_summer =
      static_cast<float>(18.0 + 12.0 * bump(a, 55.0, 12.0) + 10.0 * bump(lat, 0.0, 12.0));
  // Winds: trades, westerlies (stronger in the south), polar easterlies,
  // Walker-circulation easterlies over the equatorial Pacific.
  c.wind_u = static_cast<float>(-6.5 * bump(a, 15.0, 10.0) +
                                (8.0 * nh + 10.5 * (1.0 - nh)) * bump(a, 49.0, 13.0) -
                                3.0 * bump(a, 72.0, 6.0) - 3.5 * bump(lat, 0.0, 7.0) * pacific_eq);
  c.wind_v = static_cast<float>(kmath::tanh(lat / 3.0) *
                                (-2.5 * bump(a, 15.0, 10.0) + 1.5 * bump(a, 45.0, 12.0)));
  c.westerly_sh = static_cast<float>((1.0 - nh) * bump(a, 55.0, 12.0));
  c.trade_enso = static_cast<float>(1.4 * bump(lat, 0.0, 7.0) * pacific_eq);
  // Currents: South Equatorial Current, North Equatorial Countercurrent,
  // North Equatorial Current, ACC, western boundary currents.
  c.current_u =
      static_cast<float>(-0.40 * bump(lat, -1.0, 4.0) + 0.35 * bump(lat, 7.0, 2.5) -
                         0.15 * bump(lat, 15.0, 5.0) - 0.12 * bump(lat, -15.0, 6.0) +
                         0.25 * bump(lat, -53.0, 6.0) + 0.5 * gulf_stream + 0.45 * kuroshio);
  c.enso_current = static_cast<float>(0.25 * bump(lat, 0.0, 4.0) * pacific_eq);
  c.heat_transport = static_cast<float>(
      25.0 * bump(a, 0.0, 20.0) + 40.0 * cold_tongue + 30.0 * coastal_upwelling -
      20.0 * bump(a, 50.0, 12.0) - 90.0 * gulf_stream - 70.0 * kuroshio - 40.0 * subpolar_atlantic);
  // Carbon and nutrients: the water below the mixed layer is richer in DIC
  // and nutrients at high latitudes and in upwelling zones.
  c.dic_deep =
      static_cast<float>(0.004 + 0.016 * step(a, 42.0, 5.0) + 0.004 * step(-lat, 45.0, 5.0) +
                         0.09 * cold_tongue + 0.020 * coastal_upwelling);
  c.nutrient_deep = static_cast<float>(
      clamp(0.15 + 0.85 * step(a, 38.0, 5.0) + 0.8 * cold_tongue + 0.6 * coastal_upwelling, 0, 1));
  c.upwelling = static_cast<float>(0.20 * bump(lat, 0.0, 3.5) * pacific_east +
                                   0.10 * coastal_upwelling + 0.04 * bump(lat, -62.0, 5.0));
  c.enso_weight = static_cast<float>(bump(lat, 0.0, 6.0) * pacific_east);
  c.growth_max = static_cast<float>(
      1.4 * (1.0 - 0.6 * bump(lat, 0.0, 8.0) * pacific_eq - 0.5 * step(-lat, 45.0, 5.0)));
  // Large-scale disequilibrium: outgassing tropics and Antarctic divergence
  // (the cold tongue gets its excess from upwelled DIC instead), strong sinks
  // in the subpolar North Atlantic, at 40-50 S and in the Arctic.
  c.pco2_diseq = static_cast<float>(20.0 * bump(lat, 0.0, 15.0) - 40.0 * cold_tongue -
                                    50.0 * subpolar_atlantic - 45.0 * bump(lat, -45.0, 8.0) -
                                    25.0 * bump(lat, 42.0, 10.0) + 12.0 * bump(lat, -64.0, 4.0) -
                                    20.0 * step(lat, 65.0, 4.0));
  c.coriolis = static_cast<float>(2.0 * earth_omega * c.sin_lat);
  c.enso_rain = static_cast<float>(4.0 * bump(lat, 0.0, 6.0) * pacific_eq);
  return c;
}

// ---------------------------------------------------------------- carbon forcing

// Global-mean atmospheric pCO2 (uatm) at decimal year t: the pre-industrial
// 280 uatm plus an exponentially growing excess, ~315 in 1958, ~406 in 2018
// (close to the Mauna Loa record).
KOKKOS_INLINE_FUNCTION double atmospheric_pco2(double t) {
  return 280.0 + 35.0 * kmath::exp(0.0212 * (t - 1958.0));
}
// Offset (uatm, <= 0) of the surface ocean's reference pCO2 from the
// atmosphere: the ocean trails a growing atmosphere by `lag_years` years of
// growth, plus a fixed undersaturation that stands for the net effect of the
// circulation. Both calibrated so that the global uptake of the default
// testbed is ~1.7 PgC/yr in 1958 rising to ~2.3 PgC/yr in 2018.
KOKKOS_INLINE_FUNCTION double ocean_pco2_offset(double t) {
  constexpr double lag_years = 4.5, undersaturation = 6.5;
  const double growth_per_year = 0.0212 * 35.0 * kmath::exp(0.0212 * (t - 1958.0));
  return -lag_years * growth_per_year - undersaturation;
}

// ---------------------------------------------------------------- one month

// Global (same on every rank) forcing of one month.
struct MonthForcing {
  std::uint64_t seed = 0;
  int year = 0, month = 0;   // month 0..11
  double year_fraction = 0;  // mid-month, 0..1
  double month_seconds = 0;
  double enso = 0, enso_previous = 0;  // AR(1) index (unit variance) this and last month
  double pco2_atm = 0;                 // uatm, global mean atmospheric pCO2
  double pco2_ocean_offset = 0;        // uatm, how far the surface ocean lags the atmosphere
  double years_since_1990 = 0;         // time of the trends
  double wind_factor = 1;              // experiment's wind scaling

  // Set by prepare(): what depends on the month only, computed once instead
  // of at every point.
  std::uint64_t keys[n_streams] = {};  // month_key of every noise stream
  double sst_cos = 0, sst_sin = 0;     // phase of the SST cycle, NH maximum late Aug/early Sep
  double winter_cos = 0;               // +1 in NH mid-winter (mid-January)
  double brine_nh = 0, brine_sh = 0;   // brine rejection, peaks in late winter
  double mld_shape_nh = 0, mld_shape_sh = 0;
  double itcz_lat = 0;                // the ITCZ is furthest north in August
  double air_season = 0;              // NH atmospheric CO2 peaks in May
  double sin_decl = 0, cos_decl = 0;  // solar declination
  double log_wind_factor = 0;

  void prepare();
};

// Per-point memory carried from month to month (and year to year).
struct CarbonState {
  double dic = 0;        // dDIC/DIC of the mixed layer
  double nutrient = 0;   // mixed-layer nutrient, 0..1
  double mld_prev = -1;  // last month's MLD (m); < 0 before the first month
  double sst_anom = 0;   // persistent SST anomaly (degC)
};

enum Field : int {
  f_sst = 0,
  f_sal,
  f_ice,
  f_mld,
  f_heat,
  f_water,
  f_stress_x,
  f_stress_y,
  f_current_x,
  f_current_y,
  f_co2flux,
  f_wind,
  f_pco2_sw,
  f_pco2_air,
  n_fields
};

// Depth of the seasonal mixed layer as a fraction of its winter range; u is
// the fraction of the year since deepening began in mid-September (NH): slow
// deepening to a maximum in early March, restratification within ~6 weeks.
KOKKOS_INLINE_FUNCTION double mld_season_shape(double u) {
  constexpr double peak = 0.47, restratified = 0.59;
  if (u < peak) {
    const double s = kmath::sin(0.5 * pi * u / peak);
    return s * s;
  }
  if (u < restratified) {
    const double c = kmath::cos(0.5 * pi * (u - peak) / (restratified - peak));
    return c * c;
  }
  return 0.0;
}
KOKKOS_INLINE_FUNCTION double frac(double x) { return x - kmath::floor(x); }

// Daily-mean top-of-atmosphere insolation over the solar constant (0..~0.55)
// at latitude phi and solar declination delta.
KOKKOS_INLINE_FUNCTION double daily_insolation(double sin_phi, double cos_phi, double sin_delta,
                                               double cos_delta) {
  const double x = clamp(-sin_phi * sin_delta / (cos_phi * cos_delta), -1.0, 1.0);
  const double h0 = kmath::acos(x);  // half-day length (rad)
  return (h0 * sin_phi * sin_delta + cos_phi * cos_delta * kmath::sin(h0)) / pi;
}

inline void MonthForcing::prepare() {
  for (std::uint64_t s = 0; s < n_streams; ++s) keys[s] = month_key(seed, s, year, month);
  const double tau = year_fraction;
  sst_cos = kmath::cos(two_pi * (tau - 0.66));
  sst_sin = kmath::sin(two_pi * (tau - 0.66));
  winter_cos = kmath::cos(two_pi * (tau - 0.04));
  brine_nh = kmath::cos(two_pi * (tau - 0.2));
  brine_sh = kmath::cos(two_pi * (tau - 0.7));
  mld_shape_nh = mld_season_shape(frac(tau - 0.71));
  mld_shape_sh = mld_season_shape(frac(tau - 0.21));
  itcz_lat = 6.0 + 4.0 * kmath::cos(two_pi * (tau - 0.6));
  air_season = kmath::cos(two_pi * (tau - 0.37));
  const double decl = 0.4091 * kmath::sin(two_pi * (tau - 0.2164));
  sin_decl = kmath::sin(decl);
  cos_decl = kmath::cos(decl);
  log_wind_factor = kmath::log(wind_factor);
}

// All fields of one ocean point for one month; advances the carbon state.
// Returns the CO2 flux (mol m-2 s-1) in double precision for integrals.
KOKKOS_INLINE_FUNCTION double ocean_month(const PointClimate& c, const MonthForcing& f,
                                          CarbonState& s, float* out, std::size_t stride) {
  const double lat = c.lat, lon = c.lon;
  const double nh = c.north;
  auto noise = [&](std::uint64_t stream, double cell_deg) {
    return value_noise(f.keys[stream], lat, lon, cell_deg);
  };

  // Salinity and freezing point.
  const double brine = nh * f.brine_nh + (1.0 - nh) * f.brine_sh;
  const double sal = c.sal_mean + 0.25 * c.polar * brine + 0.08 * noise(stream_salinity, 12.0);
  const double t_freeze = -0.054 * sal;

  // SST: climatology + season + trend + ENSO + a persistent AR(1) anomaly.
  const double anom_prev = s.sst_anom;
  const double innovation =
      0.8 * noise(stream_sst, 10.0) + 0.6 * white_noise(f.keys[stream_sst_eddy], c.key);
  s.sst_anom = 0.75 * anom_prev + 0.3 * innovation;
  const double t_raw = c.sst_mean + c.sst_amp * f.sst_cos + c.warming_rate * f.years_since_1990 +
                       c.enso_sst * f.enso + s.sst_anom;
  // A softplus keeps SST smoothly above freezing where the raw seasonal curve
  // would fall below it; its slope (the open-water fraction of the tendency)
  // is the logistic function.
  const double width = 0.4;
  const double x_freeze = (t_raw - t_freeze) / width;
  const double e_freeze = x_freeze > 30.0 ? 0.0 : kmath::exp(x_freeze);
  const double sst = t_freeze + width * (x_freeze > 30.0 ? x_freeze : kmath::log1p(e_freeze));
  const double open_fraction = x_freeze > 30.0 ? 1.0 : e_freeze / (1.0 + e_freeze);
  const double dtraw_dt =
      -two_pi * c.sst_amp * f.sst_sin / seconds_per_year + c.warming_rate / seconds_per_year +
      (c.enso_sst * (f.enso - f.enso_previous) + s.sst_anom - anom_prev) / f.month_seconds;
  const double dsst_dt = open_fraction * dtraw_dt;
  const double ice = 0.97 * [&] {
    const double x = clamp((t_freeze + 1.0 - sst) / 0.9, 0.0, 1.0);
    return x * x * (3.0 - 2.0 * x);
  }();

  // Winds: stronger in local winter, SAM trend, ENSO weakens the trades.
  const double winter = (2.0 * nh - 1.0) * f.winter_cos;  // +1 in local mid-winter
  const double wind_scale =
      (1.0 + 0.22 * winter) * (1.0 + 0.002 * c.westerly_sh * f.years_since_1990);
  const double u = f.wind_factor * (c.wind_u * wind_scale + c.trade_enso * f.enso +
                                    1.6 * noise(stream_wind_u, 12.0));
  const double v = f.wind_factor * (c.wind_v * wind_scale + 1.6 * noise(stream_wind_v, 12.0));
  const double gust = 5.0 * f.wind_factor;  // monthly-mean speed exceeds the mean vector
  const double u10 = kmath::sqrt(u * u + v * v + gust * gust);
  const double stress_scale = air_density * drag_coefficient * u10 * (1.0 - 0.5 * ice);
  const double tau_x = stress_scale * u, tau_y = stress_scale * v;

  // Mixed layer: seasonal shape per hemisphere, deeper with wind and with
  // cold anomalies (convection), log-normal weather noise.
  const double shape = nh * f.mld_shape_nh + (1.0 - nh) * f.mld_shape_sh;
  const double mld = clamp(
      (c.mld_summer + (c.mld_winter - c.mld_summer) * shape) *
          kmath::exp(0.8 * f.log_wind_factor + 0.15 * noise(stream_mld, 8.0) - 0.12 * s.sst_anom),
      10.0, 2000.0);

  // Currents: geostrophic zonal jets + Ekman drift in the Ekman layer.
  const double f0 = 2.0 * earth_omega * 0.07;  // regularises 1/f within ~4 degrees of the equator
  const double inv_f = c.coriolis / (static_cast<double>(c.coriolis) * c.coriolis + f0 * f0);
  const double ekman_depth = clamp(mld, 20.0, 80.0);
  const double u_cur = c.current_u + c.enso_current * f.enso +
                       tau_y * inv_f / (seawater_density * ekman_depth) +
                       0.06 * noise(stream_current_u, 3.0);
  const double v_cur =
      -tau_x * inv_f / (seawater_density * ekman_depth) + 0.06 * noise(stream_current_v, 3.0);

  // Heat: the slab mixed-layer budget rho cp (h dSST/dt + w_e dT) with the
  // entrainment of cooler water w_e dT while the layer deepens; warming is
  // trapped in the shallow restratified layer. Plus what the circulation
  // carries away and weather noise.
  const double deepening = s.mld_prev > 0.0 && mld > s.mld_prev ? (mld - s.mld_prev) : 0.0;
  const double heated_depth = dsst_dt > 0.0 ? clamp(mld, 0.0, 2.0 * c.mld_summer) : mld;
  const double thermocline_jump = 0.5 + 0.3 * kmath::fabs(c.sst_amp);
  const double heat =
      rho_cp_seawater * (heated_depth * dsst_dt + deepening / f.month_seconds * thermocline_jump) +
      c.heat_transport * (1.0 - 0.7 * ice) + 12.0 * noise(stream_heat, 10.0);

  // Freshwater: evaporation grows with wind and SST (Clausius-Clapeyron);
  // precipitation in the migrating ITCZ and the storm tracks; mm/day.
  const double evaporation = 2.6 * (u10 / 7.0) * kmath::exp(0.06 * (sst - 20.0)) * (1.0 - ice);
  const double rain = (0.7 + 7.0 * bump(lat, f.itcz_lat, 5.0) + 2.2 * c.storm_track +
                       (f.enso > 0 ? c.enso_rain * f.enso : 0.0)) *
                      kmath::exp(0.3 * noise(stream_precip, 10.0) - 0.045);
  const double water_up = (evaporation - rain) / 86400.0;  // kg m-2 s-1

  // Carbon: entrainment when the mixed layer deepens, upwelling (shut by El
  // Nino), light-limited production after restratification, slow exchange
  // with the interior, then the air-sea flux acting on the mixed layer.
  if (s.mld_prev > 0.0 && mld > s.mld_prev) {
    const double entrained = (mld - s.mld_prev) / mld;
    s.dic += entrained * (c.dic_deep - s.dic);
    s.nutrient += entrained * (c.nutrient_deep - s.nutrient);
  }
  const double upwelled = clamp(
      c.upwelling * f.wind_factor * f.wind_factor * (1.0 - 0.8 * f.enso * c.enso_weight), 0.0, 0.5);
  s.dic += upwelled * (c.dic_deep - s.dic);
  s.nutrient += upwelled * (c.nutrient_deep - s.nutrient);
  const double light = daily_insolation(c.sin_lat, c.cos_lat, f.sin_decl, f.cos_decl);
  const double limitation = light / (light + 0.12) * 40.0 / (40.0 + mld) * (1.0 - ice);
  const double production = s.nutrient * (1.0 - kmath::exp(-c.growth_max * limitation));
  s.nutrient -= production;
  s.dic -= 0.022 * production;
  s.dic *= 0.88;  // exchange with the interior, ~8 months

  const double pco2_air = f.pco2_atm + 1.5 * nh + 3.0 * c.air_season * f.air_season;
  const double revelle = clamp(14.5 - 0.22 * sst, 8.0, 15.0);
  const double pco2_ref = f.pco2_atm + f.pco2_ocean_offset + c.pco2_diseq;
  // Over decades the carbonate system re-equilibrates with the atmosphere, so
  // only a quarter of the warming trend raises pCO2 thermally.
  const double sst_ref =
      (c.sst_mean > -1.9 ? c.sst_mean : -1.9) + 0.75 * c.warming_rate * f.years_since_1990;
  const double pco2_sw = pco2_ref * kmath::exp(0.0423 * (sst - sst_ref)) * (1.0 + revelle * s.dic);
  const double flux = co2_flux_bulk(u10, sst, sal, pco2_sw, pco2_air, ice);
  s.dic =
      clamp(s.dic - flux * f.month_seconds / (seawater_density * mld * reference_dic), -0.1, 0.2);
  s.mld_prev = mld;

  out[f_sst * stride] = static_cast<float>(sst);
  out[f_sal * stride] = static_cast<float>(sal);
  out[f_ice * stride] = static_cast<float>(ice);
  out[f_mld * stride] = static_cast<float>(mld);
  out[f_heat * stride] = static_cast<float>(heat);
  out[f_water * stride] = static_cast<float>(water_up);
  out[f_stress_x * stride] = static_cast<float>(tau_x);
  out[f_stress_y * stride] = static_cast<float>(tau_y);
  out[f_current_x * stride] = static_cast<float>(u_cur);
  out[f_current_y * stride] = static_cast<float>(v_cur);
  out[f_co2flux * stride] = static_cast<float>(flux);
  out[f_wind * stride] = static_cast<float>(u10);
  out[f_pco2_sw * stride] = static_cast<float>(pco2_sw);
  out[f_pco2_air * stride] = static_cast<float>(pco2_air);
  return flux;
}

// ---------------------------------------------------------------- functors

// Fills the climate of each point from its location.
template <class MemorySpace>
struct InitClimate {
  Kokkos::View<const float*, MemorySpace> lat, lon, area_weight;
  Kokkos::View<const std::uint64_t*, MemorySpace> key;
  Kokkos::View<PointClimate*, MemorySpace> climate;
  KOKKOS_INLINE_FUNCTION void operator()(const int p) const {
    climate(p) = point_climate(lat(p), lon(p), key(p), area_weight(p));
  }
};

// One month for every point: fields (n_fields x points, fill on land) and the
// area-integrated flux (mol s-1) as the reduction value.
template <class MemorySpace>
struct OceanMonth {
  Kokkos::View<const PointClimate*, MemorySpace> climate;
  Kokkos::View<CarbonState*, MemorySpace> state;
  Kokkos::View<float**, Kokkos::LayoutRight, MemorySpace> fields;
  MonthForcing forcing;
  KOKKOS_INLINE_FUNCTION void operator()(const int p, double& flux_sum) const {
    const PointClimate& c = climate(p);
    float* out = &fields(0, p);
    const std::size_t stride = fields.extent(1);
    if (!c.ocean) {
      for (int v = 0; v < n_fields; ++v) out[v * stride] = fill_value;
      return;
    }
    flux_sum += ocean_month(c, forcing, state(p), out, stride) * c.area_weight;
  }
};

// Start of the spin-up: no carbon anomaly, half the deep nutrient.
template <class MemorySpace>
struct InitState {
  Kokkos::View<const PointClimate*, MemorySpace> climate;
  Kokkos::View<CarbonState*, MemorySpace> state;
  KOKKOS_INLINE_FUNCTION void operator()(const int p) const {
    CarbonState s;
    s.nutrient = 0.5 * climate(p).nutrient_deep;
    state(p) = s;
  }
};

}  // namespace fluxrecon::kernels::synth
