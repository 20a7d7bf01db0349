// The bulk air-sea CO2 flux formula (shared/docs/FLUX-PHYSICS.md):
//
//   F = k_w * K0 * (pCO2_sw - pCO2_air) * (1 - ice)      [mol m-2 s-1, + out of the ocean]
//
// with the Wanninkhof (2014) Schmidt number and transfer velocity and the
// Weiss (1974) solubility. Plain device functions in double precision so that
// the synthetic ocean, the reconstruction and the tests share one definition.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace fluxrecon::kernels {

// Kokkos moved its math functions out of Experimental in 3.7; one alias set
// keeps the kernels building against Debian's 3.4 and newer user builds.
namespace kmath {
#if defined(KOKKOS_VERSION) && KOKKOS_VERSION >= 30700
using Kokkos::acos;
using Kokkos::cos;
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::log;
using Kokkos::log1p;
using Kokkos::sin;
using Kokkos::sqrt;
using Kokkos::tanh;
#else
using Kokkos::Experimental::acos;
using Kokkos::Experimental::cos;
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::log;
using Kokkos::Experimental::log1p;
using Kokkos::Experimental::sin;
using Kokkos::Experimental::sqrt;
using Kokkos::Experimental::tanh;
#endif
}  // namespace kmath

constexpr double kelvin_offset = 273.15;
constexpr double seawater_density = 1025.0;   // kg m-3, converts K0 per kg to per m3
constexpr double carbon_molar_mass = 12.011;  // g mol-1
constexpr double cm_per_hour_to_m_per_s = 0.01 / 3600.0;

// Schmidt number of CO2 in seawater (35 psu), Wanninkhof (2014) Table 1;
// valid for -2..40 degC.
KOKKOS_INLINE_FUNCTION double schmidt_number_co2(double sst_c) {
  const double t = sst_c;
  return 2116.8 + t * (-136.25 + t * (4.7353 + t * (-0.092307 + t * 0.0007555)));
}

// Gas transfer velocity k_w = a U10^2 (Sc/660)^-1/2 in cm h-1 with a = 0.251
// (Wanninkhof 2014, for the second moment of the wind; with a monthly-mean
// speed it underestimates k by a few percent); models such as MITgcm BLING
// use a = 0.31 or 0.337 (Wanninkhof 1992).
constexpr double wanninkhof2014_coefficient = 0.251;
KOKKOS_INLINE_FUNCTION double transfer_velocity_cm_per_hour(
    double u10, double schmidt, double coefficient = wanninkhof2014_coefficient) {
  return coefficient * u10 * u10 * kmath::sqrt(660.0 / schmidt);
}

// CO2 solubility K0 in mol kg-1 atm-1 (Weiss 1974, eq. 12 with the
// mol kg-1 atm-1 constants of his Table 1).
KOKKOS_INLINE_FUNCTION double co2_solubility_weiss(double sst_c, double salinity) {
  const double t100 = (sst_c + kelvin_offset) / 100.0;
  const double ln_k0 = -60.2409 + 93.4517 / t100 + 23.3585 * kmath::log(t100) +
                       salinity * (0.023517 + t100 * (-0.023656 + 0.0047036 * t100));
  return kmath::exp(ln_k0);
}

// Water vapour pressure over seawater in atm at 100 % humidity (Weiss and
// Price 1980, eq. 10): the atmospheric pCO2 of a dry-air mole fraction xCO2
// at 1 atm is xCO2 (1 - pH2O).
KOKKOS_INLINE_FUNCTION double water_vapour_pressure_atm(double sst_c, double salinity) {
  const double t100 = (sst_c + kelvin_offset) / 100.0;
  return kmath::exp(24.4543 - 67.4509 / t100 - 4.8489 * kmath::log(t100) - 0.000544 * salinity);
}

// Air-sea CO2 flux in mol m-2 s-1, positive OUT of the ocean.
// u10 in m s-1, sst in degC, salinity in psu, pCO2 in uatm, ice_frac 0..1.
KOKKOS_INLINE_FUNCTION double co2_flux_bulk(double u10, double sst_c, double salinity,
                                            double pco2_sw_uatm, double pco2_air_uatm,
                                            double ice_frac,
                                            double coefficient = wanninkhof2014_coefficient) {
  const double k_m_per_s =
      transfer_velocity_cm_per_hour(u10, schmidt_number_co2(sst_c), coefficient) *
      cm_per_hour_to_m_per_s;
  const double k0_mol_per_m3_atm = co2_solubility_weiss(sst_c, salinity) * seawater_density;
  const double dpco2_atm = (pco2_sw_uatm - pco2_air_uatm) * 1.0e-6;
  const double open_water = 1.0 - (ice_frac < 0.0 ? 0.0 : (ice_frac > 1.0 ? 1.0 : ice_frac));
  return k_m_per_s * k0_mol_per_m3_atm * dpco2_atm * open_water;
}

// The flux of every cell-month from its surface pCO2 (the pCO2 route):
// inputs and output [n] floats; a cell whose pCO2 or any input is NaN or
// the fill value gets `fill`. `sign` is +1 for positive out of the ocean, -1 for into it.
struct FluxFromPco2 {
  const float* pco2_sw;
  const float *sst_c, *salinity, *ice_frac, *wind_speed, *pco2_air;
  float* flux;
  double coefficient = wanninkhof2014_coefficient, sign = 1.0;
  float fill = 0.0f;
  bool air_is_xco2 = false;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    const float in[6] = {pco2_sw[i],  sst_c[i],      salinity[i],
                         ice_frac[i], wind_speed[i], pco2_air[i]};
    for (const float v : in)
      if (!(v == v) || v == fill) {
        flux[i] = fill;
        return;
      }
    const double air =
        air_is_xco2 ? in[5] * (1.0 - water_vapour_pressure_atm(in[1], in[2])) : double(in[5]);
    flux[i] = static_cast<float>(
        sign * co2_flux_bulk(in[4], in[1], in[2], in[0], air, in[3], coefficient));
  }
};

}  // namespace fluxrecon::kernels
