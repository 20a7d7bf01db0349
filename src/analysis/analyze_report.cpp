// The outputs of `fluxrecon analyze` on rank 0: metric CSVs, figures and the
// HTML report, from the moments and fields gathered in analyze.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/analyze_results.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "models/registry.hpp"

namespace fluxrecon::analysis {
namespace {

namespace fs = std::filesystem;

const char* const kMonthNames[kMonths] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
const std::vector<std::string> kMonthAbbr = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct MetricsRow {
  Metrics m;
  IntegratedFlux flux;
};

// One CSV row of metrics (fluxes in mol m-2 yr-1).
std::string metrics_csv_row(const SetResult& r, const std::string& year, const MetricsRow& row) {
  const Metrics& m = row.m;
  const IntegratedFlux& f = row.flux;
  std::ostringstream out;
  out << r.set.model << ',' << r.set.region << ',' << r.set.experiment << ',' << year << ','
      << m.count;
  for (double v : {m.rmse, m.mae, m.bias}) out << ',' << csv_number(v * kSecondsPerYear);
  out << ',' << csv_number(m.r2) << ',' << csv_number(m.pearson_r);
  for (double v : {m.mean_simulated, m.mean_reconstructed, m.std_simulated, m.std_reconstructed})
    out << ',' << csv_number(v * kSecondsPerYear);
  for (double v : {f.simulated_mol, f.reconstructed_mol, f.error_mol, f.simulated_pgc,
                   f.reconstructed_pgc, f.error_pgc, f.relative_error})
    out << ',' << csv_number(v);
  out << ',' << (r.never_sampled ? "never_sampled" : "all") << '\n';
  return out.str();
}

const char* kMetricsHeader =
    "model,region,experiment,year,cell_months,rmse_mol_m2_yr,mae_mol_m2_yr,bias_mol_m2_yr,r2,"
    "pearson_r,mean_simulated_mol_m2_yr,mean_reconstructed_mol_m2_yr,std_simulated_mol_m2_yr,"
    "std_reconstructed_mol_m2_yr,simulated_mol_per_yr,reconstructed_mol_per_yr,error_mol_per_yr,"
    "simulated_pgc_per_yr,reconstructed_pgc_per_yr,error_pgc_per_yr,relative_error,scored_cells\n";

MetricsRow overall(const SetResult& r) {
  return {metrics_of(total(r.years)), integrated_flux(r.years)};
}

}  // namespace

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string table_number(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string years_text(const SetResult& r) {
  const int a = r.set.years.begin()->first, b = r.set.years.rbegin()->first;
  return a == b ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(b);
}

std::string pretty(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

std::string figures_dir(const AnalyzeOptions& options) {
  return (fs::path(options.out_dir) / "figures").string();
}

std::vector<ReportFigure> draw_set_figures(const AnalyzeOptions& options, const plot::GeoGrid& grid,
                                           const SetResult& set) {
  ensure_directory(figures_dir(options));
  auto in_figures = [&](const std::string& name) {
    return (fs::path(figures_dir(options)) / name).string();
  };
  const SetResult* r = &set;
  const std::string where = pretty(set.set.region) + ", " + set.set.experiment;
  const plot::MapExtent extent = plot::extent_of(grid, set.map_simulated.front());
  const plot::MapProjection projection = plot::projection_for(extent);
  std::vector<ReportFigure> figures;
  const std::string tag = set.set.model + "_" + set.set.region + "_" + set.set.experiment;
  plot::MapPlot maps;
  maps.title = r->set.model + ": simulated and reconstructed CO#d2#u flux, " + where + ", " +
               std::to_string(r->map_year);
  maps.units = std::string("CO#d2#u flux (") + kShownUnits + ")";
  maps.grid = grid;
  maps.projection = projection;
  maps.extent = extent;
  plot::MapPlot diff = maps;
  diff.title =
      r->set.model + ": reconstructed - simulated, " + where + ", " + std::to_string(r->map_year);
  diff.units = std::string("difference (") + kShownUnits + ")";
  diff.colour_map = plot::ColourMap::diverging;
  for (std::size_t k = 0; k < options.map_months.size(); ++k) {
    const std::string month = kMonthNames[options.map_months[k] - 1];
    maps.panels.push_back({"Simulated, " + month, r->map_simulated[k]});
    maps.panels.push_back({"Reconstructed, " + month, r->map_reconstructed[k]});
    std::vector<double> d(r->map_simulated[k].size());
    for (std::size_t c = 0; c < d.size(); ++c)
      d[c] = r->map_reconstructed[k][c] - r->map_simulated[k][c];
    diff.panels.push_back({month, std::move(d)});
  }
  const std::string maps_png = in_figures("maps_" + tag + ".png");
  plot::plot_maps(maps_png, maps);
  figures.push_back({maps_png, r->set.model + ": simulated and reconstructed flux"});
  const std::string diff_png = in_figures("difference_" + tag + ".png");
  plot::plot_maps(diff_png, diff);
  figures.push_back({diff_png, r->set.model + ": reconstructed - simulated"});

  const SeasonalCycle c = seasonal_cycle(r->years);
  plot::LinePlot seasonal;
  seasonal.title = r->set.model + ": mean seasonal cycle, " + where + ", " + years_text(*r);
  seasonal.xlabel = "month";
  seasonal.ylabel = std::string("area-weighted mean flux (") + kShownUnits + ")";
  seasonal.x_tick_labels = kMonthAbbr;
  plot::Series sim{"simulation", {}, {}, {}, false};
  plot::Series rec{r->set.model + " reconstruction", {}, {}, {}, false};
  for (int m = 0; m < kMonths; ++m) {
    sim.x.push_back(m + 1);
    rec.x.push_back(m + 1);
    sim.y.push_back(c.mean_simulated[m] * kSecondsPerYear);
    rec.y.push_back(c.mean_reconstructed[m] * kSecondsPerYear);
    sim.std.push_back(c.std_simulated[m] * kSecondsPerYear);
    rec.std.push_back(c.std_reconstructed[m] * kSecondsPerYear);
  }
  seasonal.series = {sim, rec};
  const std::string seasonal_png = in_figures("seasonal_" + tag + ".png");
  plot::plot_lines(seasonal_png, seasonal);
  figures.push_back({seasonal_png, r->set.model + ": mean seasonal cycle"});

  plot::DensityScatter sc;
  sc.title = r->set.model + ": " + where + ", " + years_text(*r);
  sc.xlabel = std::string("simulated CO#d2#u flux (") + kShownUnits + ")";
  sc.ylabel = std::string("reconstructed CO#d2#u flux (") + kShownUnits + ")";
  sc.x = r->scatter_simulated;
  sc.y = r->scatter_reconstructed;
  const std::string scatter_png = in_figures("scatter_" + tag + ".png");
  const plot::ScatterFit fit = plot::plot_density_scatter(scatter_png, sc);
  figures.push_back(
      {scatter_png,
       r->set.model + ": density of reconstructed vs simulated (" + std::to_string(fit.points) +
           " cell-months" +
           (r->scatter_stride > 1 ? ", a fixed sample of 1 in " + std::to_string(r->scatter_stride)
                                  : std::string()) +
           "; unweighted least-squares fit y = " + table_number(fit.slope) + " x + " +
           table_number(fit.intercept) + ", R^2 " + table_number(fit.r2) + ")"});
  return figures;
}

namespace {

class Writer {
 public:
  Writer(const AnalyzeOptions& o, const AnalysisResults& results)
      : o_(o), results_(results), figures_dir_(figures_dir(o)) {
    ensure_directory(o.out_dir);
    ensure_directory(figures_dir_);
  }

  WrittenOutputs run(const std::vector<ProvenanceEntry>& provenance) {
    for (const auto& figures : results_.set_figures)
      for (const auto& f : figures) {
        ++written_.figures;
        written_.files.push_back(f.png_path);
      }
    write_csvs();
    Report report;
    report.title = "fluxrecon analysis: reconstructed vs simulated air-sea CO2 flux";
    report.command = o_.command;
    report.self_contained = o_.self_contained_report;
    report.summary = summary_text();
    report.sections.push_back(overview_section());
    if (results_.baseline) report.sections.push_back(baseline_section());
    for (const auto& key : region_experiments()) report.sections.push_back(region_section(key));
    if (auto s = training_section(); !s.figures.empty()) report.sections.push_back(std::move(s));
    if (auto s = explanation_section(); !s.figures.empty()) report.sections.push_back(std::move(s));
    if (!o_.tune_dir.empty())
      for (auto& s : tune_sections(o_.tune_dir)) report.sections.push_back(std::move(s));
    report.provenance = provenance;
    written_.files.push_back(write_report(o_.out_dir, report));
    return written_;
  }

 private:
  using RegionExperiment = std::pair<std::string, std::string>;

  std::string figure(const std::string& name) {
    const std::string path = (fs::path(figures_dir_) / name).string();
    ++written_.figures;
    written_.files.push_back(path);
    return path;
  }

  std::vector<RegionExperiment> region_experiments() const {
    std::vector<RegionExperiment> keys;
    for (const auto& r : results_.sets)
      if (std::find(keys.begin(), keys.end(), RegionExperiment{r.set.region, r.set.experiment}) ==
          keys.end())
        keys.push_back({r.set.region, r.set.experiment});
    return keys;
  }

  std::vector<const SetResult*> sets_of(const RegionExperiment& key) const {
    std::vector<const SetResult*> out;
    for (const auto& r : results_.sets)
      if (r.set.region == key.first && r.set.experiment == key.second) out.push_back(&r);
    return out;
  }

  void write_csvs() {
    std::ostringstream metrics, annual, seasonal;
    metrics << kMetricsHeader;
    annual << "model,region,experiment,year,simulated_mol_m2_yr,reconstructed_mol_m2_yr,"
              "simulated_pgc_per_yr,reconstructed_pgc_per_yr\n";
    seasonal << "model,region,experiment,month,mean_simulated_mol_m2_yr,"
                "mean_reconstructed_mol_m2_yr,std_simulated_mol_m2_yr,std_reconstructed_mol_m2_yr,"
                "interannual_std_simulated_mol_m2_yr,interannual_std_reconstructed_mol_m2_yr,"
                "rmse_mol_m2_yr,r2\n";
    for (const auto& r : results_.sets) {
      for (const auto& y : r.years) {
        metrics << metrics_csv_row(r, std::to_string(y.year),
                                   {metrics_of(total(y)), integrated_flux(y)});
        ++written_.metric_rows;
      }
      metrics << metrics_csv_row(r, "all", overall(r));
      ++written_.metric_rows;
      const auto means = annual_means(r.years);
      for (std::size_t k = 0; k < means.size(); ++k) {
        const auto f = integrated_flux(r.years[k]);
        annual << r.set.model << ',' << r.set.region << ',' << r.set.experiment << ','
               << means[k].year << ',' << csv_number(means[k].simulated * kSecondsPerYear) << ','
               << csv_number(means[k].reconstructed * kSecondsPerYear) << ','
               << csv_number(f.simulated_pgc) << ',' << csv_number(f.reconstructed_pgc) << '\n';
      }
      const SeasonalCycle c = seasonal_cycle(r.years);
      for (int m = 0; m < kMonths; ++m) {
        seasonal << r.set.model << ',' << r.set.region << ',' << r.set.experiment << ',' << m + 1;
        for (double v : {c.mean_simulated[m], c.mean_reconstructed[m], c.std_simulated[m],
                         c.std_reconstructed[m], c.interannual_std_simulated[m],
                         c.interannual_std_reconstructed[m], c.metrics[m].rmse})
          seasonal << ',' << csv_number(v * kSecondsPerYear);
        seasonal << ',' << csv_number(c.metrics[m].r2) << '\n';
      }
    }
    for (const auto& [name, text] :
         {std::pair<std::string, std::string>{"metrics.csv", metrics.str()},
          {"annual_means.csv", annual.str()},
          {"seasonal_cycle.csv", seasonal.str()},
          {"skill_vs_climatology.csv",
           results_.baseline ? skill_vs_baseline_csv(results_) : std::string()}}) {
      const std::string path = (fs::path(o_.out_dir) / name).string();
      if (text.empty()) {  // no baseline: no comparison, also not one of an earlier run
        fs::remove(path);
        continue;
      }
      write_text_atomically(path, text);
      written_.files.push_back(path);
    }
  }

  std::string summary_text() const {
    std::set<std::string> models, regions, experiments;
    std::map<std::string, std::string> grids;  // per region: its cells in the input grid
    int caches = 0;
    bool never_sampled = false;
    for (const auto& r : results_.sets) {
      if (r.baseline) continue;
      never_sampled = never_sampled || r.never_sampled;
      models.insert(r.set.model);
      regions.insert(r.set.region);
      experiments.insert(r.set.experiment);
      caches += static_cast<int>(r.set.years.size());
      const CacheInfo& c = r.set.years.begin()->second;
      std::ostringstream g;
      g << r.set.region << " " << c.ny << " x " << c.nx;
      if (c.ny != c.input_ny || c.nx != c.input_nx)
        g << " (rows " << c.y_offset << "-" << c.y_offset + c.ny - 1 << ", columns " << c.x_offset
          << "-" << c.x_offset + c.nx - 1 << " of " << c.input_ny << " x " << c.input_nx << ")";
      grids[r.set.region] = g.str();
    }
    auto list = [](const std::set<std::string>& s) {
      std::string out;
      for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
      return out;
    };
    std::ostringstream out;
    std::string grid_list;
    for (const auto& [region, g] : grids) grid_list += (grid_list.empty() ? "" : "; ") + g;
    out << caches << " caches (grids: " << grid_list << "): models " << list(models) << "; regions "
        << list(regions) << "; experiments " << list(experiments)
        << ". Every metric is weighted by the cell area (e1t*e2t) and "
        << "computed over every ocean cell and month of the region; error = reconstructed - "
        << "simulated. Fluxes are shown in " << kShownUnitsText << " (the caches store '"
        << results_.units << "'); integrated fluxes in PgC per year. The metric tables are also "
        << "in metrics.csv, annual_means.csv and seasonal_cycle.csv next to this page.";
    if (never_sampled)
      out << " Caches with a sampling mask (a spatial sampling design) are scored on "
          << "never-sampled cells only: the cell-months whose target was a training or "
          << "validation sample are left out of every metric, aggregate and figure.";
    if (results_.baseline) {
      out << " Baseline: '" << kBaselineName
          << "', the per-location monthly climatology of the training target ("
          << results_.baseline_store << ": " << results_.baseline_samples << " samples at "
          << results_.baseline_locations << " locations, " << results_.baseline_first_year << "-"
          << results_.baseline_last_year
          << "); each cell takes the climatology of the nearest training location "
          << "(great-circle distance) that has the month, and is scored on the cells and months "
          << "the models are scored on (skill_vs_climatology.csv).";
      if (!results_.baseline_months_without_data.empty()) {
        out << " The training samples hold no month";
        for (int m : results_.baseline_months_without_data) out << ' ' << m;
        out << ": the climatology has no value there.";
      }
    } else {
      out << " No climatology baseline (analyze --samples DIR adds one).";
    }
    return out.str();
  }

  ReportSection overview_section() {
    ReportSection s;
    s.title = "Skill of every model";
    s.text =
        "Over all years of each model, region and experiment. R^2 takes the simulation as "
        "the truth (1 - sum of squared errors / variance of the simulation); r is the "
        "Pearson correlation.";
    ReportTable t;
    t.id = "overall-metrics";
    t.title = "Area-weighted metrics, all years";
    t.header = {"model",
                "region",
                "experiment",
                "years",
                std::string("RMSE (") + kShownUnitsText + ")",
                std::string("MAE (") + kShownUnitsText + ")",
                std::string("bias (") + kShownUnitsText + ")",
                "R^2",
                "r",
                "simulated PgC/yr",
                "reconstructed PgC/yr",
                "error PgC/yr",
                "cells scored"};
    for (const auto& r : results_.sets) {
      const MetricsRow row = overall(r);
      t.rows.push_back({r.set.model, pretty(r.set.region), r.set.experiment, years_text(r),
                        table_number(row.m.rmse * kSecondsPerYear),
                        table_number(row.m.mae * kSecondsPerYear),
                        table_number(row.m.bias * kSecondsPerYear), table_number(row.m.r2),
                        table_number(row.m.pearson_r), table_number(row.flux.simulated_pgc),
                        table_number(row.flux.reconstructed_pgc), table_number(row.flux.error_pgc),
                        r.never_sampled ? "never-sampled" : "all"});
    }
    s.tables.push_back(std::move(t));
    // Inter-model comparison per experiment: R^2 and RMSE by region.
    std::set<std::string> experiments;
    for (const auto& r : results_.sets) experiments.insert(r.set.experiment);
    for (const auto& e : experiments) {
      std::vector<std::string> regions, models;
      for (const auto& r : results_.sets) {
        if (r.set.experiment != e) continue;
        if (std::find(regions.begin(), regions.end(), r.set.region) == regions.end())
          regions.push_back(r.set.region);
        if (std::find(models.begin(), models.end(), r.set.model) == models.end())
          models.push_back(r.set.model);
      }
      for (int which = 0; which < 2; ++which) {
        plot::BarChart c;
        c.title = (which == 0 ? "R#u2#d by region, " : "RMSE by region, ") + e;
        c.ylabel = which == 0 ? "R#u2#d" : std::string("RMSE (") + kShownUnits + ")";
        for (const auto& g : regions) c.groups.push_back(pretty(g));
        for (const auto& m : models) {
          plot::BarSeries b{m, {}};
          for (const auto& g : regions) {
            double v = std::nan("");
            for (const auto& r : results_.sets)
              if (r.set.model == m && r.set.region == g && r.set.experiment == e) {
                const Metrics mm = metrics_of(total(r.years));
                v = which == 0 ? mm.r2 : mm.rmse * kSecondsPerYear;
              }
            b.values.push_back(v);
          }
          c.series.push_back(std::move(b));
        }
        const std::string path =
            figure(std::string(which == 0 ? "comparison_r2_" : "comparison_rmse_") + e + ".png");
        plot::plot_bars(path, c);
        s.figures.push_back({path, (which == 0 ? "R^2 of each model by region, "
                                               : "RMSE of each model by region, ") +
                                       e});
      }
    }
    return s;
  }

  ReportSection baseline_section() const {
    ReportSection s;
    s.title = "Skill against the climatology";
    s.text = std::string("The baseline '") + kBaselineName +
             "' predicts every cell and month by the mean training target of the nearest "
             "training location (great-circle distance) in that calendar month; a model that "
             "does not beat it has learnt nothing beyond the training data's mean seasonal "
             "cycle. Sets marked never-sampled are scored on never-sampled cells only.";
    s.tables.push_back(skill_vs_baseline_table(results_));
    return s;
  }

  ReportSection region_section(const RegionExperiment& key) {
    const auto sets = sets_of(key);
    const std::string where = pretty(key.first) + ", " + key.second;
    ReportSection s;
    s.title = where;
    const SetResult& first = *sets.front();
    s.text = "Maps of " + std::to_string(first.map_year) +
             " (the last year analysed); annual means and the mean seasonal cycle over " +
             years_text(first) +
             ". Seasonal bands: +-1 standard deviation over the cells and "
             "years (area-weighted).";
    std::string masked;
    for (const SetResult* r : sets)
      if (r->never_sampled && !r->baseline) masked += (masked.empty() ? "" : ", ") + r->set.model;
    if (!masked.empty())
      s.text += "\n\nScored on never-sampled cells (the caches' sampling mask): " + masked +
                (results_.baseline ? " and the climatology" : "") +
                "; every metric, aggregate and figure of these sets leaves out the cell-months "
                "that were training or validation samples.";

    // Annual means: the simulation once, every model's reconstruction.
    plot::LinePlot annual;
    annual.title = "Annual mean CO#d2#u flux, " + where;
    annual.xlabel = "year";
    annual.integer_x = true;
    annual.ylabel = std::string("area-weighted mean flux (") + kShownUnits + ")";
    for (const SetResult* r : sets) {
      const auto means = annual_means(r->years);
      if (annual.series.empty()) annual.series.push_back({"simulation", {}, {}, {}, true});
      plot::Series rec{r->set.model, {}, {}, {}, true};
      for (const auto& m : means) {
        if (r == sets.front()) {
          annual.series[0].x.push_back(m.year);
          annual.series[0].y.push_back(m.simulated * kSecondsPerYear);
        }
        rec.x.push_back(m.year);
        rec.y.push_back(m.reconstructed * kSecondsPerYear);
      }
      annual.series.push_back(std::move(rec));
    }
    const std::string annual_png = figure("annual_" + key.first + "_" + key.second + ".png");
    plot::plot_lines(annual_png, annual);
    s.figures.push_back({annual_png, "Annual area-weighted mean flux, simulation and each model"});

    const std::string uptake_png = figure("uptake_" + key.first + "_" + key.second + ".png");
    plot_yearly_uptake(uptake_png, where, sets);
    s.figures.push_back({uptake_png, std::string("Yearly area-integrated flux (PgC/yr) of the "
                                                 "simulation, each model") +
                                         (results_.baseline ? " and the climatology" : "")});

    ReportTable t;
    t.id = "metrics-" + key.first + "-" + key.second;
    t.title = "Metrics per year, " + where;
    t.header = {"model",
                "year",
                std::string("RMSE (") + kShownUnitsText + ")",
                std::string("bias (") + kShownUnitsText + ")",
                "R^2",
                "r",
                "simulated PgC/yr",
                "reconstructed PgC/yr"};
    for (const SetResult* r : sets)
      for (const auto& y : r->years) {
        const Metrics m = metrics_of(total(y));
        const IntegratedFlux f = integrated_flux(y);
        t.rows.push_back(
            {r->set.model, std::to_string(y.year), table_number(m.rmse * kSecondsPerYear),
             table_number(m.bias * kSecondsPerYear), table_number(m.r2), table_number(m.pearson_r),
             table_number(f.simulated_pgc), table_number(f.reconstructed_pgc)});
      }
    s.tables.push_back(std::move(t));

    for (const SetResult* r : sets) {
      const auto& figures =
          results_.set_figures.at(static_cast<std::size_t>(r - &results_.sets[0]));
      s.figures.insert(s.figures.end(), figures.begin(), figures.end());
    }
    return s;
  }

  // Loss curves of the neural models whose <model>_losses.csv is in --models.
  ReportSection training_section() {
    ReportSection s;
    s.title = "Training";
    if (o_.models_dir.empty()) return s;
    std::set<std::string> analysed;
    for (const auto& r : results_.sets) analysed.insert(r.set.model);
    plot::LinePlot plot;
    plot.title = "Training and validation loss of the neural models";
    plot.xlabel = "epoch";
    plot.integer_x = true;
    plot.ylabel = "MSE (z-scored target)";
    plot.log_y = true;
    for (const auto& info : models::registered_models()) {
      if (!info.neural) continue;  // XGBoost logs rounds, not epochs
      const std::string& model = info.name;
      const std::string path = (fs::path(o_.models_dir) / (model + "_losses.csv")).string();
      if (!analysed.count(model) || !fs::exists(path)) continue;
      plot::Series train{model + " training", {}, {}, {}, true},
          valid{model + " validation", {}, {}, {}, true};
      std::ifstream in(path);
      std::string line;
      std::getline(in, line);
      FR_REQUIRE(line.rfind("epoch,train_mse,validation_mse", 0) == 0, "analyze: '", path,
                 "' is not a loss history of fluxrecon train (header '", line, "')");
      while (std::getline(in, line)) {
        double epoch = 0, tr = 0, va = 0;
        FR_REQUIRE(
            std::sscanf(line.c_str(), "%lf,%lf,%lf", &epoch, &tr, &va) == 3 && tr > 0 && va > 0,
            "analyze: '", path, "': line '", line,
            "' is not 'epoch,train_mse,validation_mse,...' with positive losses");
        train.x.push_back(epoch);
        train.y.push_back(tr);
        valid.x.push_back(epoch);
        valid.y.push_back(va);
      }
      if (train.x.empty()) continue;
      plot.series.push_back(std::move(train));
      plot.series.push_back(std::move(valid));
    }
    if (plot.series.empty()) return s;
    const std::string png = figure("loss_curves.png");
    plot::plot_lines(png, plot);
    s.text =
        "Per-epoch mean squared error on the z-scored target, from the <model>_losses.csv "
        "files in " +
        o_.models_dir + ".";
    s.figures.push_back({png, "Loss curves"});
    return s;
  }

  // The figures of fluxrecon explain (--explain) of the models analysed, model
  // by model: <model>_<figure>.png in its figures/ folder.
  ReportSection explanation_section() const {
    ReportSection s;
    s.title = "Explanations";
    if (o_.explain_dir.empty()) return s;
    const fs::path dir = fs::path(o_.explain_dir) / "figures";
    FR_REQUIRE(fs::is_directory(dir), "analyze: --explain '", o_.explain_dir,
               "' has no figures/ folder (expected the output folder of fluxrecon explain)");
    std::vector<std::string> pngs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".png") pngs.push_back(e.path().filename().string());
    std::sort(pngs.begin(), pngs.end());
    std::set<std::string> analysed;
    for (const auto& r : results_.sets) analysed.insert(r.set.model);
    for (const auto& info : models::registered_models()) {
      if (!analysed.count(info.name)) continue;
      for (const auto& png : pngs) {
        // "<model>_" prefixes: mlp_ must not take the figures of another model.
        if (png.rfind(info.name + "_", 0) != 0) continue;
        bool longer = false;
        for (const auto& other : models::registered_models())
          longer = longer ||
                   (other.name.size() > info.name.size() && png.rfind(other.name + "_", 0) == 0);
        if (longer) continue;
        std::string caption = png.substr(info.name.size() + 1);
        caption = info.name + ": " + caption.substr(0, caption.size() - 4);
        std::replace(caption.begin(), caption.end(), '_', ' ');
        s.figures.push_back({(dir / png).string(), caption});
      }
    }
    s.text = "Figures of fluxrecon explain (" + o_.explain_dir +
             "): SHAP (MLP: KernelSHAP, XGBoost and random forest: TreeSHAP), TimeSHAP and "
             "attention scores of the "
             "LSTMs, on the z-scored target; the values themselves are in its CSV and netCDF "
             "files.";
    return s;
  }

  const AnalyzeOptions& o_;
  const AnalysisResults& results_;
  std::string figures_dir_;
  WrittenOutputs written_;
};

}  // namespace

WrittenOutputs write_analysis(const AnalyzeOptions& options, const AnalysisResults& results,
                              const std::vector<ProvenanceEntry>& provenance) {
  return Writer(options, results).run(provenance);
}

}  // namespace fluxrecon::analysis
