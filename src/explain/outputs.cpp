#include "explain/outputs.hpp"

#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "explain/methods.hpp"
#include "io/nc_writer.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::explain {
namespace fs = std::filesystem;

double mid_month_days_since_1970(int year, int month) {
  // Days from civil (H. Hinnant's algorithm), for the 15th.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + 14;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097.0 + doe - 719468.0;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Tables by variable (a column per feature after the two head columns): each
// instance's leading driver is the feature of largest |value|.
bool by_variable(const Table& t) {
  return t.method == "kernel_shap_by_variable" || t.method == "tree_shap_by_variable" ||
         t.method == "timeshap_feature";
}
int leading(const Table& t, size_t i, size_t features) {
  const size_t width = t.columns.size();
  int best = 0;
  for (size_t f = 1; f < features; ++f)
    if (std::fabs(t.values[i * width + 2 + f]) > std::fabs(t.values[i * width + 2 + best]))
      best = static_cast<int>(f);
  return best;
}

std::string write_csv(const std::string& path, const OutputContext& c, const Table& t) {
  std::ostringstream out;
  out << "instance,store_index,lat,lon,year,month,time_days_since_1970,region";
  for (const auto& col : t.columns) out << ',' << csv_field(col);
  const bool lead = by_variable(t);
  out << (lead ? ",leading_variable\n" : "\n");
  const auto& b = *c.store;
  const size_t width = t.columns.size();
  for (size_t i = 0; i < c.picked->size(); ++i) {
    const auto k = static_cast<size_t>((*c.picked)[i]);
    out << i << ',' << k << ',' << log::number(b.lat[k]) << ',' << log::number(b.lon[k]) << ','
        << b.year[k] << ',' << b.month[k] << ','
        << log::number(mid_month_days_since_1970(b.year[k], b.month[k])) << ','
        << csv_field(c.region);
    for (size_t j = 0; j < width; ++j) out << ',' << log::number(t.values[i * width + j]);
    if (lead)
      out << ',' << csv_field(c.features[static_cast<size_t>(leading(t, i, c.features.size()))]);
    out << '\n';
  }
  write_text_atomically(path, out.str());
  return path;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "|") + x;
  return s;
}

std::string write_netcdf(const std::string& path, const OutputContext& c,
                         const std::vector<Table>& tables) {
  AtomicOutput output(path, MPI_COMM_SELF);
  {
    io::NcWriter w(output.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
    using io::NcType;
    const auto n = static_cast<std::int64_t>(c.picked->size());
    w.define_dimension("instance", n);
    w.put_attribute("", "title", "fluxrecon explain: explanations of model " + c.model);
    w.put_attribute("", "model", c.model);
    w.put_attribute("", "instances_from", c.store_path);
    w.put_attribute("", "region", c.region);
    w.put_attribute("", "units", "z-scored target (the model's normalisation)");
    for (const char* v : {"lat", "lon"}) {
      w.define_variable(v, NcType::float32, {"instance"});
      w.put_attribute(v, "units", v[1] == 'a' ? "degrees_north" : "degrees_east");
    }
    w.define_variable("time", NcType::float64, {"instance"});
    w.put_attribute("time", "units", "days since 1970-01-01 00:00:00");
    w.put_attribute("time", "calendar", "proleptic_gregorian");
    for (const char* v : {"year", "month", "store_index"})
      w.define_variable(v, NcType::int32, {"instance"});
    for (const auto& t : tables) {
      const std::string dim = t.method + "_column";
      w.define_dimension(dim, static_cast<std::int64_t>(t.columns.size()));
      w.define_variable(t.method, NcType::float64, {"instance", dim});
      w.put_attribute(t.method, "columns", join(t.columns));
      w.put_attribute(t.method, "column_separator", "|");
      w.put_attribute(t.method, "_FillValue", NcType::float64, {NAN});
      if (by_variable(t)) {
        const std::string lead = t.method + "_leading_variable";
        w.define_variable(lead, NcType::int32, {"instance"});
        w.put_attribute(lead, "long_name", "index of the variable of largest |value|");
        w.put_attribute(lead, "variables", join(c.features));
      }
    }
    w.end_definitions();
    std::vector<float> lat, lon;
    std::vector<double> time;
    std::vector<std::int32_t> year, month, index;
    const auto& b = *c.store;
    for (const auto k64 : *c.picked) {
      const auto k = static_cast<size_t>(k64);
      lat.push_back(b.lat[k]);
      lon.push_back(b.lon[k]);
      year.push_back(b.year[k]);
      month.push_back(b.month[k]);
      index.push_back(static_cast<std::int32_t>(k64));
      time.push_back(mid_month_days_since_1970(b.year[k], b.month[k]));
    }
    w.write("lat", {0}, {n}, lat.data());
    w.write("lon", {0}, {n}, lon.data());
    w.write("time", {0}, {n}, time.data());
    w.write("year", {0}, {n}, year.data());
    w.write("month", {0}, {n}, month.data());
    w.write("store_index", {0}, {n}, index.data());
    for (const auto& t : tables) {
      w.write(t.method, {0, 0}, {n, static_cast<std::int64_t>(t.columns.size())}, t.values.data());
      if (!by_variable(t)) continue;
      std::vector<std::int32_t> lead(static_cast<size_t>(n));
      for (size_t i = 0; i < lead.size(); ++i) lead[i] = leading(t, i, c.features.size());
      w.write(t.method + "_leading_variable", {0}, {n}, lead.data());
    }
    w.close();
  }
  output.commit();
  return path;
}

// Mean over instances of |value| per column (skipping the head columns and NaN).
std::vector<double> mean_abs(const Table& t, size_t first, size_t count) {
  const size_t width = t.columns.size(), n = width ? t.values.size() / width : 0;
  std::vector<double> m(count, 0.0);
  std::vector<double> k(count, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < count; ++j) {
      const double v = t.values[i * width + first + j];
      if (std::isnan(v)) continue;
      m[j] += std::fabs(v);
      k[j] += 1;
    }
  for (size_t j = 0; j < count; ++j) m[j] = k[j] > 0 ? m[j] / k[j] : NAN;
  return m;
}

// The input value behind column j of a table (after its two head columns)
// of instance i: flat layout (kernel_shap, tree_shap) or cells
// (timeshap_cell); NaN for grouped columns.
double input_value(const OutputContext& c, const std::string& method, size_t i, size_t j) {
  const size_t features = c.features.size(), window = static_cast<size_t>(c.window);
  const size_t dynamic = c.dynamic;
  const float* x = c.windows->data() + i * window * features;
  if (method == "timeshap_cell") return j < window * features ? x[j] : NAN;
  if (j < window * dynamic) return x[(j / dynamic) * features + j % dynamic];
  return j - window * dynamic < features - dynamic ? x[dynamic + (j - window * dynamic)] : NAN;
}

// The 20 columns of largest mean |value| as beeswarm rows.
void beeswarm(const std::string& path, const OutputContext& c, const Table& t,
              const std::string& title) {
  const size_t width = t.columns.size(), n = c.picked->size(), count = width - 2;
  const auto mean = mean_abs(t, 2, count);
  std::vector<size_t> order(count);
  for (size_t j = 0; j < count; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = std::isnan(mean[a]) ? -1 : mean[a], y = std::isnan(mean[b]) ? -1 : mean[b];
    return x > y;
  });
  order.resize(std::min<size_t>(20, count));
  plot::Beeswarm plot;
  plot.title = title;
  plot.xlabel = "value (z-scored target)";
  plot.colour_label = "input value (low to high)";
  for (size_t j : order) {
    plot::BeeswarmRow row;
    row.name = t.columns[j + 2];
    for (size_t i = 0; i < n; ++i) {
      row.values.push_back(t.values[i * width + j + 2]);
      row.colour.push_back(input_value(c, t.method, i, j));
    }
    plot.rows.push_back(std::move(row));
  }
  plot::plot_beeswarm(path, plot);
}

}  // namespace

std::vector<std::string> write_outputs(const std::string& out_dir, const OutputContext& c,
                                       const std::vector<Table>& tables) {
  std::vector<std::string> written;
  const fs::path dir(out_dir), figures = fs::path(out_dir) / "figures";
  ensure_directory(figures.string());
  for (const auto& t : tables) {
    FR_REQUIRE(t.values.size() == c.picked->size() * t.columns.size(), "internal: explain table ",
               t.method, " has ", t.values.size(), " values for ", c.picked->size(), " x ",
               t.columns.size());
    written.push_back(
        write_csv((dir / ("explain_" + c.model + "_" + t.method + ".csv")).string(), c, t));
  }
  written.push_back(write_netcdf((dir / ("explain_" + c.model + ".nc")).string(), c, tables));

  const auto features = static_cast<size_t>(c.features.size());
  const auto window = static_cast<size_t>(c.window);
  std::vector<std::string> lags;
  for (int t = 0; t < c.window; ++t) lags.push_back(lag_label(c.window - 1 - t));
  const std::string n_text = std::to_string(c.picked->size()) + " instances";
  auto bars = [&](const std::string& name, const std::string& title, const std::string& ylabel,
                  const std::vector<std::string>& groups, const std::vector<double>& values) {
    plot::BarChart chart;
    chart.title = title;
    chart.ylabel = ylabel;
    chart.groups = groups;
    chart.series = {{c.model, values}};
    chart.value_labels = groups.size() <= 16;
    chart.width = std::max<int>(1000, static_cast<int>(groups.size()) * 70);
    const auto path = (figures / (c.model + "_" + name + ".png")).string();
    plot::plot_bars(path, chart);
    written.push_back(path);
  };
  auto heat = [&](const std::string& name, const std::string& title, const std::string& units,
                  const std::vector<double>& by_cell) {  // [window][features]
    plot::HeatMap map;
    map.title = title;
    map.units = units;
    map.rows = c.features;
    map.columns = lags;
    for (size_t f = 0; f < features; ++f)
      for (size_t t = 0; t < window; ++t) map.values.push_back(by_cell[t * features + f]);
    const auto path = (figures / (c.model + "_" + name + ".png")).string();
    plot::plot_heatmap(path, map);
    written.push_back(path);
  };
  for (const auto& t : tables) {
    const std::string& m = t.method;
    if (m == "kernel_shap" || m == "tree_shap" || m == "timeshap_cell") {
      const auto path = (figures / (c.model + "_" + m + "_summary.png")).string();
      beeswarm(path, c, t,
               c.model + ": " + m + ", the 20 largest by mean |value| (" + n_text + ")");
      written.push_back(path);
    }
    if (m == "kernel_shap_by_variable" || m == "tree_shap_by_variable")
      bars("mean_abs_by_variable", c.model + ": mean |SHAP| by variable (" + n_text + ")",
           "mean |SHAP| (z-scored target)", c.features, mean_abs(t, 2, features));
    else if (m == "kernel_shap_by_lag" || m == "tree_shap_by_lag")
      bars("mean_abs_by_lag", c.model + ": mean |SHAP| by lag, dynamic features (" + n_text + ")",
           "mean |SHAP| (z-scored target)", lags, mean_abs(t, 2, window));
    else if (m == "timeshap_feature")
      bars("timeshap_by_variable",
           c.model + ": TimeSHAP feature level, mean |value| (" + n_text + ")",
           "mean |Shapley value| (z-scored target)", c.features, mean_abs(t, 2, features));
    else if (m == "timeshap_event")
      bars("timeshap_by_lag", c.model + ": TimeSHAP event level, mean |value| (" + n_text + ")",
           "mean |Shapley value| (z-scored target)", lags, mean_abs(t, 2, window));
    else if (m == "timeshap_cell")
      heat("timeshap_cells", c.model + ": TimeSHAP cell level, mean |value|", "mean |value|",
           mean_abs(t, 2, window * features));
    if (by_variable(t)) {
      plot::CategoryMap map;
      map.title = c.model + ": leading driver per instance (" + m + ")";
      map.names = c.features;
      for (size_t i = 0; i < c.picked->size(); ++i) {
        const auto row = static_cast<size_t>((*c.picked)[i]);
        map.lat.push_back(c.store->lat[row]);
        map.lon.push_back(c.store->lon[row]);
        map.category.push_back(leading(t, i, features));
      }
      const auto path = (figures / (c.model + "_" + m + "_leading_driver_map.png")).string();
      plot::plot_category_map(path, map);
      written.push_back(path);
    }
    if (m == "attention") {
      const auto gamma = mean_abs(t, 2, window * features);  // gamma >= 0
      heat("attention_cells", c.model + ": mean attention alpha x beta", "alpha x beta", gamma);
      std::vector<double> per_variable(features, 0.0);
      for (size_t q = 0; q < window; ++q)
        for (size_t f = 0; f < features; ++f)
          per_variable[f] += gamma[q * features + f] / double(window);
      bars("attention_by_variable", c.model + ": attention alpha x beta, mean over the window",
           "alpha x beta", c.features, per_variable);
    }
  }
  return written;
}

}  // namespace fluxrecon::explain
