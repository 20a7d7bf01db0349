// The pCO2 route in reconstruct (data/pco2_route.hpp): the inputs of the
// bulk formula for each region's cells, read beside the predictors, and the
// conversion of simulated and reconstructed pCO2 fields into fluxes.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/year_reader.hpp"

namespace fluxrecon::recon {

// The bulk formula's inputs on one region's cells, [12][plane] each; cells
// without a value hold the fill value.
struct FormulaInputs {
  std::vector<float> sst, salinity, ice, wind, pco2_air;
  std::vector<float> flux;  // the file's simulated flux (empty without one)
  void reset(std::size_t cells, bool with_flux, float fill);
};

// Reads the route's own variables (wind speed, atmospheric pCO2, simulated
// flux) of a year for a chunk of points, with a reader of its own, and
// files them with the seed predictors SST, SAL and ice_frac.
class FormulaReader {
 public:
  FormulaReader(const data::DatasetDescription& dataset, const data::Grid& grid, MPI_Comm comm);
  FormulaReader(const FormulaReader&) = delete;
  FormulaReader& operator=(const FormulaReader&) = delete;

  // Collective: reads the 12 months of `year` for `points` (ascending local indices).
  void read(const std::string& experiment, int year, const std::vector<std::int64_t>& points);

  // Files the inputs of point `point` (a local index among those read) into
  // cell `cell` of `inputs`: month m from `predictors` (a series laid out
  // [slot][role] for that point, January at `january_slot`).
  void file(std::int64_t point, const float* predictors, int roles, int january_slot,
            std::int64_t cell, std::int64_t plane, FormulaInputs& inputs) const;

  std::uint64_t bytes_read() const { return reader_.bytes_read(); }

 private:
  const data::DatasetDescription& dataset_;
  data::DatasetDescription own_;  // the route's variables as roles: wind, pco2_air, flux
  data::YearReader reader_;
  std::vector<std::int64_t> points_;
  std::vector<float> values_;  // [point][month][3]
  int year_ = 0, sst_role_ = 0, sal_role_ = 0, ice_role_ = 0;
};

// Collective: an error naming the dataset if the formula's inputs are out
// of the ranges of its units (SST in degC, salinity in psu, ice 0-1, wind
// m s-1, pCO2 uatm): the route must not turn kelvin into fluxes silently.
void check_formula_inputs(const data::DatasetDescription& dataset, const FormulaInputs& inputs,
                          float fill, MPI_Comm comm);

// The flux of every cell from its surface pCO2 `pco2` (same layout as the
// inputs), with the dataset's sign convention and coefficient.
void flux_from_pco2(const data::Pco2Route& route, const FormulaInputs& inputs,
                    const std::vector<float>& pco2, float fill, std::vector<float>& flux);

// The settings that make a route cache what it is (coefficient, variables),
// recorded in the caches so that a change redoes them.
std::string route_settings(const data::DatasetDescription& dataset);

}  // namespace fluxrecon::recon
