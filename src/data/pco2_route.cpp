#include "data/pco2_route.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace fluxrecon::data {
namespace fs = std::filesystem;
using config::Schema;

namespace {

Schema source_schema(const std::string& default_name, const std::string& what) {
  return Schema()
      .text("name", default_name, {}, "variable in the files holding " + what + "; '' = none")
      .real("scale", 1.0, -Schema::inf, Schema::inf,
            "unit conversion: value = file_value * scale + offset")
      .real("offset", 0.0, -Schema::inf, Schema::inf, "unit conversion offset (after scale)")
      .real("constant", 0.0, -Schema::inf, Schema::inf, "value used when name is ''");
}

VariableSource source(const config::Config& cfg, const std::string& key, const std::string& role) {
  const auto v = cfg.sub("pco2_route." + key);
  return {role, v.get<std::string>("name"), v.get<double>("scale"), v.get<double>("offset"),
          v.has("constant") ? v.get<double>("constant") : 0.0};
}

}  // namespace

Schema pco2_route_schema() {
  Schema flux;
  flux.text("name", "", {},
            "the simulated air-sea CO2 flux the reconstructions are scored against, in "
            "mol m-2 s-1 after scale and offset; '' = the bulk flux of the simulated pCO2")
      .real("scale", 1.0, -Schema::inf, Schema::inf,
            "unit conversion: value = file_value * scale + offset")
      .real("offset", 0.0, -Schema::inf, Schema::inf, "unit conversion offset (after scale)");
  Schema pco2_air = source_schema("", "atmospheric pCO2 (uatm)");
  pco2_air
      .text("file", "", {},
            "or a CSV of monthly values (columns year and month, or time as YYYY-MM); relative = "
            "to the dataset directory")
      .text("column", "pco2_air", {}, "the CSV's value column");
  return Schema(
             "The target (variables.target) is surface-ocean pCO2 in uatm; SST (degC), SAL "
             "(psu) and ice_frac (0-1) come from the predictors of those names.")
      .flag("enabled", false,
            "the target is surface pCO2: reconstruct writes fluxes computed with the bulk formula "
            "F = k_w K0 (pCO2_sw - pCO2_air) (1 - ice) from the predicted pCO2")
      .section("flux", flux, "the simulated flux")
      .text("flux_sign", "positive out of the ocean",
            {"positive out of the ocean", "positive into the ocean"},
            "sign convention of the simulated flux and of the fluxes written")
      .section("wind_speed", source_schema("wind_speed", "the 10 m wind speed (m s-1)"),
               "wind speed for the transfer velocity")
      .section("pco2_air", pco2_air,
               "atmospheric pCO2: a file variable, a CSV series or a constant")
      .flag("air_is_xco2", false,
            "pco2_air is the dry-air mole fraction xCO2 (ppm): pCO2_air = xCO2 (1 atm - pH2O) "
            "with the water vapour pressure of Weiss and Price (1980) at the SST and salinity")
      .real("transfer_coefficient", kDefaultTransferCoefficient, 0.05, 1.0,
            "a in k_w = a U^2 (Sc/660)^-1/2 cm h-1: 0.251 (Wanninkhof 2014), 0.31 or 0.337 "
            "(Wanninkhof 1992, as in OCMIP and MITgcm BLING)");
}

void load_pco2_route(const config::Config& cfg, DatasetDescription& d) {
  Pco2Route& r = d.pco2;
  r.enabled = cfg.get<bool>("pco2_route.enabled");
  if (!r.enabled) return;
  const std::string at = cfg.origin() + ": key 'pco2_route.";
  r.flux = source(cfg, "flux", "flux");
  r.wind_speed = source(cfg, "wind_speed", "wind_speed");
  r.pco2_air = source(cfg, "pco2_air", "pco2_air");
  r.flux_sign = cfg.get<std::string>("pco2_route.flux_sign");
  r.transfer_coefficient = cfg.get<double>("pco2_route.transfer_coefficient");
  r.air_is_xco2 = cfg.get<bool>("pco2_route.air_is_xco2");
  FR_REQUIRE(!r.wind_speed.file_name.empty() || r.wind_speed.constant > 0, at,
             "wind_speed': name a wind-speed variable of the files or give a constant > 0 (m s-1)");
  const std::string file = cfg.get<std::string>("pco2_route.pco2_air.file");
  FR_REQUIRE(file.empty() || r.pco2_air.file_name.empty(), at,
             "pco2_air': give a file variable (name) or a CSV (file), not both");
  if (!file.empty()) {
    const fs::path path = file;
    r.pco2_air_series.name = "pco2_air";
    r.pco2_air_series.file = path.is_absolute()
                                 ? path.string()
                                 : (fs::path(d.directory) / path).lexically_normal().string();
    r.pco2_air_series.column = cfg.get<std::string>("pco2_route.pco2_air.column");
    r.pco2_air_series.values = read_monthly_csv(r.pco2_air_series.file, r.pco2_air_series.column);
  } else {
    FR_REQUIRE(!r.pco2_air.file_name.empty() || r.pco2_air.constant > 0, at,
               "pco2_air': name a variable of the files, a CSV (file) or a constant > 0 (uatm); "
               "the bulk formula needs the atmospheric pCO2");
  }
  // The formula reads SST, salinity and ice from the seed predictors.
  for (const char* role : {"SST", "SAL", "ice_frac"}) {
    bool found = false;
    for (const auto& v : d.variables) found = found || v.role == role;
    FR_REQUIRE(found, at, "enabled': the bulk formula needs the predictor ", role);
  }
  FR_REQUIRE(d.variables[d.target_role()].file_name != r.flux.file_name, at, "flux.name': '",
             r.flux.file_name,
             "' is also the target; the target of the pCO2 route is the surface pCO2 variable");
}

}  // namespace fluxrecon::data
