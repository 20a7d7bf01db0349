#include "recon/pco2_fields.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "kernels/bulk_flux.hpp"

namespace fluxrecon::recon {
namespace {

enum OwnRole { wind_role = 0, pco2_air_role = 1, flux_role = 2, own_roles = 3 };

// The dataset as the route's reader sees it: its three variables as roles.
data::DatasetDescription route_dataset(const data::DatasetDescription& d) {
  data::DatasetDescription own = d;
  own.variables = {d.pco2.wind_speed, d.pco2.pco2_air, d.pco2.flux};
  own.series.clear();
  own.year_feature = own.month_features = false;
  return own;
}

int role_of(const data::DatasetDescription& d, const std::string& role) {
  for (size_t i = 0; i < d.variables.size(); ++i)
    if (d.variables[i].role == role) return static_cast<int>(i);
  FR_FAIL(d.origin, ": the pCO2 route needs the predictor ", role);
}

std::string describe(const data::VariableSource& v) {
  if (v.file_name.empty()) return concat("constant ", v.constant);
  return concat("'", v.file_name, "' * ", v.scale, " + ", v.offset);
}

}  // namespace

void FormulaInputs::reset(std::size_t cells, bool with_flux, float fill) {
  for (auto* v : {&sst, &salinity, &ice, &wind, &pco2_air}) v->assign(cells, fill);
  if (with_flux)
    flux.assign(cells, fill);
  else
    flux.clear();
}

FormulaReader::FormulaReader(const data::DatasetDescription& dataset, const data::Grid& grid,
                             MPI_Comm comm)
    : dataset_(dataset),
      own_(route_dataset(dataset)),
      reader_(own_, grid, comm),
      sst_role_(role_of(dataset, "SST")),
      sal_role_(role_of(dataset, "SAL")),
      ice_role_(role_of(dataset, "ice_frac")) {}

void FormulaReader::read(const std::string& experiment, int year,
                         const std::vector<std::int64_t>& points) {
  year_ = year;
  points_ = points;
  values_.assign(points.size() * 12 * own_roles, 0.0f);
  reader_.read_into(experiment, year, points, 1, 12, values_.data(), 12, 0);
  const auto& series = dataset_.pco2.pco2_air_series;
  if (series.values.empty()) return;
  for (int m = 0; m < 12; ++m) {
    const auto v = static_cast<float>(series.at(data::month_index(year, m + 1)));
    for (size_t k = 0; k < points.size(); ++k)
      values_[(k * 12 + m) * own_roles + pco2_air_role] = v;
  }
}

void FormulaReader::file(std::int64_t point, const float* predictors, int roles, int january_slot,
                         std::int64_t cell, std::int64_t plane, FormulaInputs& in) const {
  const float* own = values_.data() + point * 12 * own_roles;
  for (int m = 0; m < 12; ++m) {
    const std::int64_t at = m * plane + cell;
    const float* p = predictors + static_cast<std::int64_t>(january_slot + m) * roles;
    in.sst[at] = p[sst_role_];
    in.salinity[at] = p[sal_role_];
    in.ice[at] = p[ice_role_];
    in.wind[at] = own[m * own_roles + wind_role];
    in.pco2_air[at] = own[m * own_roles + pco2_air_role];
    if (!in.flux.empty()) in.flux[at] = own[m * own_roles + flux_role];
  }
}

void check_formula_inputs(const data::DatasetDescription& d, const FormulaInputs& in, float fill,
                          MPI_Comm comm) {
  struct Input {
    const std::vector<float>& values;
    const char* what;
    double low, high;
    std::string source;
  };
  const auto& v = d.variables;
  const Input inputs[] = {
      {in.sst, "SST (degC)", -3.0, 45.0, describe(v[role_of(d, "SST")])},
      {in.salinity, "salinity SAL (psu)", 0.0, 50.0, describe(v[role_of(d, "SAL")])},
      {in.ice, "ice_frac (0-1)", 0.0, 1.0, describe(v[role_of(d, "ice_frac")])},
      {in.wind, "wind speed (m s-1)", 0.0, 60.0, describe(d.pco2.wind_speed)},
      {in.pco2_air, d.pco2.air_is_xco2 ? "atmospheric xCO2 (ppm)" : "atmospheric pCO2 (uatm)",
       100.0, 3000.0,
       d.pco2.pco2_air_series.values.empty() ? describe(d.pco2.pco2_air)
                                             : "the CSV " + d.pco2.pco2_air_series.file}};
  all_ranks_agree(comm, [&] {
    for (const auto& input : inputs) {
      // Minima of (value, -value): the range in one reduction.
      double range[2] = {HUGE_VAL, HUGE_VAL};
      for (const float x : input.values)
        if (std::isfinite(x) && x != fill) {
          range[0] = std::min(range[0], static_cast<double>(x));
          range[1] = std::min(range[1], -static_cast<double>(x));
        }
      MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_DOUBLE, MPI_MIN, comm);
      if (range[0] == HUGE_VAL) continue;
      const double tolerance = 1e-3 * (input.high - input.low);
      FR_REQUIRE(range[0] >= input.low - tolerance && -range[1] <= input.high + tolerance, d.origin,
                 ": the pCO2 route's bulk formula takes ", input.what, " in ", input.low, "..",
                 input.high, " but ", input.source, " ranges ", range[0], "..", -range[1],
                 "; convert it with scale and offset in the dataset YAML");
    }
  });
}

void flux_from_pco2(const data::Pco2Route& route, const FormulaInputs& in,
                    const std::vector<float>& pco2, float fill, std::vector<float>& flux) {
  flux.resize(pco2.size());
  if (pco2.empty()) return;
  Kokkos::parallel_for(
      "flux_from_pco2",
      Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(
          0, static_cast<std::int64_t>(pco2.size())),
      kernels::FluxFromPco2{pco2.data(), in.sst.data(), in.salinity.data(), in.ice.data(),
                            in.wind.data(), in.pco2_air.data(), flux.data(),
                            route.transfer_coefficient, route.into_ocean() ? -1.0 : 1.0, fill,
                            route.air_is_xco2});
  Kokkos::fence();
}

std::string route_settings(const data::DatasetDescription& d) {
  const auto& r = d.pco2;
  std::ostringstream s;
  s.precision(17);
  s << "transfer_coefficient " << r.transfer_coefficient << "; wind_speed "
    << describe(r.wind_speed) << "; pco2_air "
    << (r.pco2_air_series.values.empty()
            ? describe(r.pco2_air)
            : "CSV " + r.pco2_air_series.file + " column " + r.pco2_air_series.column)
    << (r.air_is_xco2 ? " (xCO2, moistened)" : "") << "; flux "
    << (r.flux.file_name.empty() ? "bulk formula" : describe(r.flux)) << "; sign " << r.flux_sign;
  return s.str();
}

}  // namespace fluxrecon::recon
