// The outputs of `fluxrecon analyze` that compare every model with the
// climatology baseline (skill_vs_climatology.csv and its report table), and
// the yearly integrated flux of the simulation, each model and the baseline.
#include <cmath>
#include <limits>
#include <sstream>

#include "analysis/analyze_results.hpp"
#include "core/error.hpp"

namespace fluxrecon::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean_abs_yearly_error(const std::vector<YearMoments>& years) {
  if (years.empty()) return kNaN;
  double sum = 0;
  for (const auto& y : years) sum += std::abs(integrated_flux(y).error_pgc);
  return sum / static_cast<double>(years.size());
}

std::string scored_cells(const SetResult& r) { return r.never_sampled ? "never_sampled" : "all"; }

}  // namespace

double trend_of_error(const std::vector<YearMoments>& years) {
  if (years.size() < 2) return kNaN;
  double mx = 0, me = 0;
  for (const auto& y : years) {
    mx += y.year;
    me += integrated_flux(y).error_pgc;
  }
  mx /= static_cast<double>(years.size());
  me /= static_cast<double>(years.size());
  double sxx = 0, sxe = 0;
  for (const auto& y : years) {
    const double dx = y.year - mx;
    sxx += dx * dx;
    sxe += dx * (integrated_flux(y).error_pgc - me);
  }
  return sxx > 0 ? sxe / sxx : kNaN;
}

SkillVsBaseline skill_vs_baseline(const SetResult& set) {
  FR_REQUIRE(!set.baseline && set.baseline_years.size() == set.years.size() && !set.years.empty(),
             "skill against the climatology: model ", set.set.model, ", region ", set.set.region,
             " has ", set.years.size(), " years and ", set.baseline_years.size(),
             " years of the baseline");
  SkillVsBaseline s;
  s.model = metrics_of(total(set.years));
  s.baseline = metrics_of(total(set.baseline_years));
  s.model_flux = integrated_flux(set.years);
  s.baseline_flux = integrated_flux(set.baseline_years);
  s.model_abs_yearly_error_pgc = mean_abs_yearly_error(set.years);
  s.baseline_abs_yearly_error_pgc = mean_abs_yearly_error(set.baseline_years);
  s.model_trend_error = trend_of_error(set.years);
  s.baseline_trend_error = trend_of_error(set.baseline_years);
  return s;
}

std::string skill_vs_baseline_csv(const AnalysisResults& results) {
  std::ostringstream out;
  out << "model,region,experiment,first_year,last_year,scored_cells,cell_months,r2,r2_climatology,"
         "r2_difference,rmse_mol_m2_yr,rmse_climatology_mol_m2_yr,rmse_ratio,"
         "simulated_pgc_per_yr,reconstructed_pgc_per_yr,climatology_pgc_per_yr,error_pgc_per_yr,"
         "error_climatology_pgc_per_yr,abs_yearly_error_pgc_per_yr,"
         "abs_yearly_error_climatology_pgc_per_yr,trend_error_pgc_per_yr2,"
         "trend_error_climatology_pgc_per_yr2\n";
  for (const auto& r : results.sets) {
    if (r.baseline) continue;
    const SkillVsBaseline s = skill_vs_baseline(r);
    out << r.set.model << ',' << r.set.region << ',' << r.set.experiment << ','
        << r.set.years.begin()->first << ',' << r.set.years.rbegin()->first << ','
        << scored_cells(r) << ',' << s.model.count;
    for (double v :
         {s.model.r2, s.baseline.r2, s.model.r2 - s.baseline.r2, s.model.rmse * kSecondsPerYear,
          s.baseline.rmse * kSecondsPerYear, s.model.rmse / s.baseline.rmse,
          s.model_flux.simulated_pgc, s.model_flux.reconstructed_pgc,
          s.baseline_flux.reconstructed_pgc, s.model_flux.error_pgc, s.baseline_flux.error_pgc,
          s.model_abs_yearly_error_pgc, s.baseline_abs_yearly_error_pgc, s.model_trend_error,
          s.baseline_trend_error})
      out << ',' << csv_number(v);
    out << '\n';
  }
  return out.str();
}

ReportTable skill_vs_baseline_table(const AnalysisResults& results) {
  ReportTable t;
  t.id = "skill-vs-climatology";
  t.title = "Skill against the climatology baseline, all years";
  t.caption =
      "Each model against the climatology on the same cells and months. R^2 difference: model "
      "minus climatology (> 0: the model is better); RMSE ratio: model / climatology (< 1: "
      "better). Uptake error: the area-integrated flux, reconstructed - simulated, mean over the "
      "years (and the mean of its absolute yearly values); trend error: least-squares slope over "
      "the years of the yearly uptake error. Also in skill_vs_climatology.csv.";
  t.header = {"model",
              "region",
              "experiment",
              "years",
              "cells scored",
              "R^2",
              "R^2 climatology",
              "R^2 difference",
              "RMSE ratio",
              "uptake error PgC/yr",
              "climatology uptake error PgC/yr",
              "mean |yearly uptake error| PgC/yr",
              "climatology mean |yearly uptake error| PgC/yr",
              "trend error PgC/yr per yr",
              "climatology trend error PgC/yr per yr"};
  for (const auto& r : results.sets) {
    if (r.baseline) continue;
    const SkillVsBaseline s = skill_vs_baseline(r);
    t.rows.push_back({r.set.model, pretty(r.set.region), r.set.experiment, years_text(r),
                      r.never_sampled ? "never-sampled" : "all", table_number(s.model.r2),
                      table_number(s.baseline.r2), table_number(s.model.r2 - s.baseline.r2),
                      table_number(s.model.rmse / s.baseline.rmse),
                      table_number(s.model_flux.error_pgc), table_number(s.baseline_flux.error_pgc),
                      table_number(s.model_abs_yearly_error_pgc),
                      table_number(s.baseline_abs_yearly_error_pgc),
                      table_number(s.model_trend_error), table_number(s.baseline_trend_error)});
  }
  return t;
}

void plot_yearly_uptake(const std::string& png_path, const std::string& where,
                        const std::vector<const SetResult*>& sets) {
  FR_REQUIRE(!sets.empty(), "yearly uptake figure '", png_path, "': no sets");
  plot::LinePlot plot;
  plot.title = "Yearly area-integrated CO#d2#u flux, " + where;
  plot.xlabel = "year";
  plot.integer_x = true;
  plot.ylabel = "integrated flux (PgC yr#u-1#d)";
  plot::Series sim{"simulation", {}, {}, {}, true};
  for (const auto& y : sets.front()->years) {
    sim.x.push_back(y.year);
    sim.y.push_back(integrated_flux(y).simulated_pgc);
  }
  plot.series.push_back(std::move(sim));
  for (const SetResult* r : sets) {
    plot::Series s{r->set.model, {}, {}, {}, true};
    for (const auto& y : r->years) {
      s.x.push_back(y.year);
      s.y.push_back(integrated_flux(y).reconstructed_pgc);
    }
    plot.series.push_back(std::move(s));
  }
  plot::plot_lines(png_path, plot);
}

}  // namespace fluxrecon::analysis
