// The bulk CO2 flux formula against hand-computed values from the published
// coefficients (Wanninkhof 2014, Weiss 1974), and its sign and ice scaling.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/bulk_flux.hpp"

namespace {

using namespace fluxrecon::kernels;

TEST(BulkFlux, SchmidtNumberMatchesTheWanninkhofPolynomial) {
  // 2116.8 - 136.25*20 + 4.7353*400 - 0.092307*8000 + 0.0007555*160000
  //   = 2116.8 - 2725 + 1894.12 - 738.456 + 120.88 = 668.344
  EXPECT_NEAR(schmidt_number_co2(20.0), 668.344, 1e-9);
  EXPECT_NEAR(schmidt_number_co2(0.0), 2116.8, 1e-12);
  // Sc falls monotonically with temperature over the ocean's range.
  for (double t = -2.0; t < 35.0; t += 1.0)
    EXPECT_GT(schmidt_number_co2(t), schmidt_number_co2(t + 1.0)) << "t = " << t;
}

TEST(BulkFlux, TransferVelocityIsQuadraticInWindAndNormalisedAtSc660) {
  EXPECT_NEAR(transfer_velocity_cm_per_hour(10.0, 660.0), 25.1, 1e-12);
  // 25.1 * sqrt(660 / 668.344) = 24.942826...
  EXPECT_NEAR(transfer_velocity_cm_per_hour(10.0, 668.344), 24.942826, 1e-6);
  EXPECT_NEAR(transfer_velocity_cm_per_hour(5.0, 800.0),
              transfer_velocity_cm_per_hour(10.0, 800.0) / 4.0, 1e-12);
}

TEST(BulkFlux, SolubilityMatchesWeiss1974) {
  // Weiss (1974) eq. 12, written out independently: T = 293.15 K, S = 35.
  const double t100 = 2.9315;
  const double ln_k0 = -60.2409 + 93.4517 * (100.0 / 293.15) + 23.3585 * std::log(t100) +
                       35.0 * (0.023517 - 0.023656 * t100 + 0.0047036 * t100 * t100);
  EXPECT_NEAR(co2_solubility_weiss(20.0, 35.0), std::exp(ln_k0), 1e-14);
  // Hand evaluation: ln K0 = -60.2409 + 31.8785 + 25.1228 - 0.1893 = -3.4289,
  // K0 = 0.03241 mol kg-1 atm-1.
  EXPECT_NEAR(co2_solubility_weiss(20.0, 35.0), 0.03241, 5e-5);
  // Colder and fresher water dissolves more CO2.
  EXPECT_GT(co2_solubility_weiss(0.0, 35.0), co2_solubility_weiss(20.0, 35.0));
  EXPECT_GT(co2_solubility_weiss(20.0, 30.0), co2_solubility_weiss(20.0, 35.0));
  // 0 degC, 35 psu by hand: ln K0 = -2.7665, K0 = 0.0629.
  EXPECT_NEAR(co2_solubility_weiss(0.0, 35.0), 0.0629, 3e-4);
}

TEST(BulkFlux, FluxInMolePerSquareMetrePerSecondPositiveOutOfTheOcean) {
  // U = 10 m/s, 20 degC, 35 psu, pCO2_sw - pCO2_air = -100 uatm, no ice:
  // k = 24.942826 cm/h = 6.92856e-5 m/s; K0 = 0.0324074 mol/kg/atm * 1025
  // = 33.218 mol/m3/atm; dp = -1e-4 atm  ->  F = -2.3015e-7 mol/m2/s.
  const double k = 24.942826 * 0.01 / 3600.0;
  const double k0 = co2_solubility_weiss(20.0, 35.0) * 1025.0;
  const double expected = k * k0 * (-100.0e-6);
  const double flux = co2_flux_bulk(10.0, 20.0, 35.0, 300.0, 400.0, 0.0);
  EXPECT_NEAR(flux, expected, 1e-6 * std::fabs(expected));
  EXPECT_NEAR(flux, -2.3015e-7, 2e-11);
  EXPECT_LT(flux, 0.0) << "undersaturated water takes CO2 up: negative";
  EXPECT_GT(co2_flux_bulk(10.0, 20.0, 35.0, 450.0, 400.0, 0.0), 0.0)
      << "supersaturated water outgasses: positive";
  // In g C m-2 month-1 (30 days), the unit of the Takahashi fields: -7.165.
  EXPECT_NEAR(flux * carbon_molar_mass * 30 * 86400, -7.165, 2e-3);
}

TEST(BulkFlux, NoFluxAtEquilibriumOrUnderFullIce) {
  EXPECT_EQ(co2_flux_bulk(12.0, 5.0, 34.0, 400.0, 400.0, 0.0), 0.0);
  EXPECT_EQ(co2_flux_bulk(12.0, 5.0, 34.0, 300.0, 400.0, 1.0), 0.0);
  const double open = co2_flux_bulk(12.0, 5.0, 34.0, 300.0, 400.0, 0.0);
  EXPECT_NEAR(co2_flux_bulk(12.0, 5.0, 34.0, 300.0, 400.0, 0.25), 0.75 * open, 1e-20);
  // Ice fractions outside 0..1 (e.g. percent by mistake) are clamped, never amplify.
  EXPECT_EQ(co2_flux_bulk(12.0, 5.0, 34.0, 300.0, 400.0, 80.0), 0.0);
  EXPECT_EQ(co2_flux_bulk(12.0, 5.0, 34.0, 300.0, 400.0, -0.5), open);
  // No wind, no exchange.
  EXPECT_EQ(co2_flux_bulk(0.0, 5.0, 34.0, 300.0, 400.0, 0.0), 0.0);
}

TEST(BulkFlux, WaterVapourPressureMatchesWeissAndPrice1980) {
  // Weiss and Price (1980) eq. 10 at 20 degC, 35 psu:
  // ln pH2O = 24.4543 - 67.4509 / 2.9315 - 4.8489 ln 2.9315 - 0.000544 * 35
  //         = 24.4543 - 23.00883 - 5.21524 - 0.01904 = -3.78881 -> 0.0226226 atm,
  // pure water's 2.339 kPa (0.023084 atm) lowered by about 2 % by the salt.
  EXPECT_NEAR(water_vapour_pressure_atm(20.0, 35.0), 0.0226226, 1e-6);
  EXPECT_NEAR(water_vapour_pressure_atm(20.0, 35.0) / 0.023084, 0.98, 0.005);
  // 0 degC: pure water's 0.6112 kPa (0.006032 atm), 2 % lower in seawater.
  EXPECT_NEAR(water_vapour_pressure_atm(0.0, 35.0), 0.0059113, 1e-6);
  EXPECT_GT(water_vapour_pressure_atm(30.0, 35.0), 2 * water_vapour_pressure_atm(15.0, 35.0));
}

TEST(BulkFlux, FluxFromPco2FieldsWithSignFillAndMoistAir) {
  const float fill = 1.0e20f;
  // Five cells: an ordinary one, a fill pCO2, a NaN wind, 50 % ice, and
  // the ordinary one again with the air given as a dry mole fraction.
  std::vector<float> pco2 = {300, fill, 300, 300, 300}, sst = {20, 20, 20, 20, 20},
                     sal = {35, 35, 35, 35, 35}, ice = {0, 0, 0, 0.5f, 0},
                     wind = {10, 10, std::nanf(""), 10, 10}, air = {400, 400, 400, 400, 400},
                     out(5, -1.0f);
  FluxFromPco2 into{pco2.data(), sst.data(), sal.data(), ice.data(), wind.data(),
                    air.data(),  out.data(), 0.251,      -1.0,       fill};
  for (std::int64_t i = 0; i < 4; ++i) into(i);
  const double expected = -co2_flux_bulk(10.0, 20.0, 35.0, 300.0, 400.0, 0.0);
  EXPECT_GT(expected, 0.0) << "uptake is positive into the ocean";
  EXPECT_NEAR(out[0], expected, 1e-6 * expected);
  EXPECT_EQ(out[1], fill);
  EXPECT_EQ(out[2], fill);
  EXPECT_NEAR(out[3], 0.5 * expected, 1e-6 * expected);
  // The coefficient scales the flux; xCO2 400 ppm in moist air at 20 degC is
  // 400 (1 - 0.0226226) = 390.951 uatm.
  FluxFromPco2 moist = into;
  moist.coefficient = 0.337;
  moist.air_is_xco2 = true;
  moist(4);
  EXPECT_NEAR(out[4], -co2_flux_bulk(10.0, 20.0, 35.0, 300.0, 390.951, 0.0, 0.337),
              2e-5 * expected);
  EXPECT_NEAR(out[4] / expected, 0.337 / 0.251 * 90.951 / 100.0, 1e-4);
}

}  // namespace
