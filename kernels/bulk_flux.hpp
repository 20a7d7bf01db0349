// The bulk air-sea CO2 flux formula (shared/docs/FLUX-PHYSICS.md):
//
//   F = k_w * K0 * (pCO2_sw - pCO2_air) * (1 - ice)      [mol m-2 s-1, + out of the ocean]
//
// with the Wanninkhof (2014) Schmidt number and transfer velocity and the
// Weiss (1974) solubility. Plain device functions in double precision so that
// the synthetic ocean, the reconstruction and the tests share one definition.
#pragma once

#include <Kokkos_Core.hpp>

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

// Gas transfer velocity k_w = 0.251 U10^2 (Sc/660)^-1/2 in cm h-1
// (Wanninkhof 2014, for the second moment of the wind; with a monthly-mean
// speed it underestimates k by a few percent).
KOKKOS_INLINE_FUNCTION double transfer_velocity_cm_per_hour(double u10, double schmidt) {
  return 0.251 * u10 * u10 * kmath::sqrt(660.0 / schmidt);
}

// CO2 solubility K0 in mol kg-1 atm-1 (Weiss 1974, eq. 12 with the
// mol kg-1 atm-1 constants of his Table 1).
KOKKOS_INLINE_FUNCTION double co2_solubility_weiss(double sst_c, double salinity) {
  const double t100 = (sst_c + kelvin_offset) / 100.0;
  const double ln_k0 = -60.2409 + 93.4517 / t100 + 23.3585 * kmath::log(t100) +
                       salinity * (0.023517 + t100 * (-0.023656 + 0.0047036 * t100));
  return kmath::exp(ln_k0);
}

// Air-sea CO2 flux in mol m-2 s-1, positive OUT of the ocean.
// u10 in m s-1, sst in degC, salinity in psu, pCO2 in uatm, ice_frac 0..1.
KOKKOS_INLINE_FUNCTION double co2_flux_bulk(double u10, double sst_c, double salinity,
                                            double pco2_sw_uatm, double pco2_air_uatm,
                                            double ice_frac) {
  const double k_m_per_s =
      transfer_velocity_cm_per_hour(u10, schmidt_number_co2(sst_c)) * cm_per_hour_to_m_per_s;
  const double k0_mol_per_m3_atm = co2_solubility_weiss(sst_c, salinity) * seawater_density;
  const double dpco2_atm = (pco2_sw_uatm - pco2_air_uatm) * 1.0e-6;
  const double open_water = 1.0 - (ice_frac < 0.0 ? 0.0 : (ice_frac > 1.0 ? 1.0 : ice_frac));
  return k_m_per_s * k0_mol_per_m3_atm * dpco2_atm * open_water;
}

}  // namespace fluxrecon::kernels
