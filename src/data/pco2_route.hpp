// The pCO2 route: a dataset whose target is surface-ocean pCO2 (uatm) and
// whose reconstructions are turned into air-sea CO2 fluxes with the bulk
// formula of kernels/bulk_flux.hpp, side by side with models that predict
// the flux directly. The formula takes SST (degC), salinity (psu) and the
// ice fraction from the seed predictors SST, SAL and ice_frac, and the wind
// speed, atmospheric pCO2 and the simulated flux to score against from the
// keys below.
#pragma once

#include <optional>
#include <string>

#include "core/config.hpp"

namespace fluxrecon::data {

struct DatasetDescription;
struct VariableSource;
struct GlobalSeries;

// The `pco2_route` block of a dataset YAML.
config::Schema pco2_route_schema();

// Fills dataset.pco2 from the block (dataset.variables and .directory must
// be loaded). Errors name the YAML and the key.
void load_pco2_route(const config::Config& config, DatasetDescription& dataset);

// The bulk formula's transfer coefficient when the YAML gives none
// (Wanninkhof 2014, cm h-1 per (m s-1)^2).
constexpr double kDefaultTransferCoefficient = 0.251;

}  // namespace fluxrecon::data
