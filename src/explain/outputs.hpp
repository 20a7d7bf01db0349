// The files of `fluxrecon explain` for one model: a CSV per method with every
// value and the instance's lat, lon, time, region and month, one netCDF file
// with every method, and the figures (beeswarm summaries, mean |value| by
// variable and by lag, variable x month-of-window heat maps). Rank-local:
// rank 0 writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/sample_store.hpp"

namespace fluxrecon::explain {

// One method's values of every instance: [instance][columns], the first two
// columns the prediction and the expected value (z-scored target).
struct Table {
  std::string method;  // kernel_shap, tree_shap, timeshap_event, attention, ...
  std::vector<std::string> columns;
  std::vector<double> values;
};

struct OutputContext {
  std::string model, store_path, region;
  const io::SampleBlock* store = nullptr;  // lat, lon, year, month of every sample of the store
  const std::vector<std::int64_t>* picked = nullptr;  // the instances' rows of the store
  const std::vector<float>* windows = nullptr;        // the instances' windows, in order
  int window = 0, dynamic = 0;  // the flat layout: dynamic features of every step
  std::vector<std::string> features;
};

// Writes everything under `out_dir` and returns the paths written.
std::vector<std::string> write_outputs(const std::string& out_dir, const OutputContext& context,
                                       const std::vector<Table>& tables);

// Days since 1970-01-01 of the 15th of a month (proleptic Gregorian).
double mid_month_days_since_1970(int year, int month);

}  // namespace fluxrecon::explain
