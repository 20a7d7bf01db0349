#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"

using namespace fluxrecon;
using namespace fluxrecon::data;

namespace {
const char* kMinimal = R"(
dataset: {name: demo, directory: /data/demo}
experiments:
  experiment_1: {pattern: "hind_{year}.nc"}
  experiment_2: {pattern: "sub/wind_{year}.nc"}
training_experiment: experiment_2
)";

DatasetDescription load(const std::string& extra) {
  return load_dataset(
      config::Config::from_text(std::string(kMinimal) + extra, dataset_schema(), "demo.yaml"));
}
std::string error_of(const std::string& extra) {
  try {
    load(extra);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Dataset, DefaultsFollowTheSeed) {
  const auto d = load("");
  EXPECT_EQ(d.train.size(), 1u);
  EXPECT_EQ(d.train[0].start, month_index(1958, 1));
  EXPECT_EQ(d.train[0].end, month_index(1988, 12));
  EXPECT_EQ(d.validation[0].first_year(), 1989);
  EXPECT_EQ(d.test_years.front(), 2009);
  EXPECT_EQ(d.test_years.back(), 2018);  // the seed's D7 left 2018 out
  EXPECT_EQ(d.window, 4);
  EXPECT_DOUBLE_EQ(d.train_fraction, 0.01);
  EXPECT_EQ(d.seed, 42u);
  EXPECT_EQ(d.variables.size(), 11u);
  EXPECT_EQ(d.variables[3].file_name, "mixed_layer_depth");
  EXPECT_EQ(d.variables.back().file_name, "co2flux");
  EXPECT_EQ(d.test_experiments.size(), 2u);
  EXPECT_EQ(d.file_for("experiment_2", 1960), "/data/demo/sub/wind_1960.nc");
  EXPECT_EQ(feature_names()[13], "cos_lon");
}

TEST(Dataset, PeriodForms) {
  const auto d = load(
      "time:\n  train: [[1958, 1960], {t_start: 1965-03, t_end: 1966-08}]\n  validation: "
      "{t_start: '1970-01', t_end: '1971-12'}\n  test: [2000, 2001]\n");
  ASSERT_EQ(d.train.size(), 2u);
  EXPECT_EQ(d.train[1].start, month_index(1965, 3));
  EXPECT_EQ(d.train[1].end, month_index(1966, 8));
  EXPECT_EQ(d.validation[0].months(), 24);
  EXPECT_NE(error_of("time: {train: [1990, 1980]}").find("ends before it starts"),
            std::string::npos);
  EXPECT_NE(error_of("time: {train: [[1960, 1970], [1965, 1975]]}").find("overlap"),
            std::string::npos);
  EXPECT_NE(error_of("time: {train: {t_start: 1960-13, t_end: 1961-01}}").find("not in 1..12"),
            std::string::npos);
}

TEST(Dataset, RegionsAndErrors) {
  const auto d = load(
      "domain:\n  test_regions: [North_Atlantic, my_box]\n  boxes:\n    my_box:\n      boxes: "
      "[{lat_min: 0, lat_max: 10, lon_min: 20, lon_max: 30}]\n");
  ASSERT_EQ(d.test_regions.size(), 2u);
  EXPECT_TRUE(d.test_regions[1].contains(5, 25));
  EXPECT_FALSE(d.test_regions[1].contains(5, 35));
  const auto msg = error_of("domain: {test_regions: [Atlantis]}");
  EXPECT_NE(msg.find("unknown region 'Atlantis'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("North_Atlantic"), std::string::npos) << msg;
  EXPECT_NE(error_of("training_experiment: nope").find("'training_experiment': is given twice"),
            std::string::npos);
  std::string other(kMinimal);
  other.replace(other.find("training_experiment: experiment_2"), 33, "training_experiment: nope");
  try {
    load_dataset(config::Config::from_text(other, dataset_schema(), "demo.yaml"));
    ADD_FAILURE() << "an unknown experiment was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown experiment 'nope'"), std::string::npos)
        << e.what();
  }
  EXPECT_NE(error_of("sampling: {fraction: 2}").find("sampling.fraction"), std::string::npos);
  EXPECT_NE(error_of("sampling: {fraktion: 0.1}").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("variables: {target: {name: ''}}").find("target must be read"),
            std::string::npos);
}

TEST(Dataset, ExtraFeaturesInOrderAndTheirErrors) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fluxrecon_dataset_series_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto csv = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  const auto good = csv("good.csv", "time, xco2\n1987-10,340.5\n1987-11,341\n");
  // Every month from the first window's start: train 1988 with window 2
  // needs 1987-12 too, which good.csv lacks.
  const std::string periods =
      "time: {train: [1988, 1988], validation: [1989, 1989], test: "
      "[1990, 1990]}\nsampling: {window: 2}\n";
  auto e = error_of(periods + "features: {series: {xco2: {file: " + good + "}}}\n");
  EXPECT_NE(e.find(good), std::string::npos) << e;
  EXPECT_NE(e.find("no value for 1987-12"), std::string::npos) << e;

  std::string full = "year,month,co2\n";
  for (int y = 1987; y <= 1990; ++y)
    for (int m = 1; m <= 12; ++m) full += std::to_string(y) + "," + std::to_string(m) + ",1\n";
  const auto complete = csv("full.csv", full);
  const auto d = load(periods +
                      "features:\n  variables: {CHL: {name: chl, scale: 0.001}}\n"
                      "  series: {xco2: {file: " +
                      complete +
                      ", column: co2}}\n"
                      "  time: [month, year]\n");
  const std::vector<std::string> expected = {"SST",
                                             "SAL",
                                             "ice_frac",
                                             "mixed_layer_depth",
                                             "heat_flux_down",
                                             "water_flux_up",
                                             "stress_X",
                                             "stress_Y",
                                             "currents_X",
                                             "currents_Y",
                                             "CHL",
                                             "xco2",
                                             "year",
                                             "month_sin",
                                             "month_cos",
                                             "sin_lat",
                                             "cos_lat",
                                             "sin_lon",
                                             "cos_lon"};
  EXPECT_EQ(feature_names(d), expected);
  EXPECT_EQ(d.variables.size(), 12u);  // the extra predictor before the target
  EXPECT_EQ(d.variables[10].file_name, "chl");
  EXPECT_DOUBLE_EQ(d.variables[10].scale, 0.001);
  EXPECT_EQ(d.variables.back().role, "target");
  const auto g = global_values(d, {month_index(1988, 6), month_index(1988, 7)});
  ASSERT_EQ(g.size(), 8u);  // 2 months x (xco2, year, month_sin, month_cos)
  EXPECT_DOUBLE_EQ(g[0], 1.0);
  EXPECT_DOUBLE_EQ(g[1], 1988 + 5.5 / 12);
  EXPECT_NEAR(g[2], std::sin(2 * M_PI * 5.5 / 12), 1e-12);
  EXPECT_NEAR(g[7], std::cos(2 * M_PI * 6.5 / 12), 1e-12);

  e = error_of(periods + "features: {series: {xco2: {file: " +
               csv("bad.csv", "year,month,xco2\n1988,1,abc\n") + "}}}\n");
  EXPECT_NE(e.find("bad.csv:2: xco2 'abc' is not a finite number"), std::string::npos) << e;
  e = error_of(periods + "features: {series: {xco2: {file: " + complete + "}}}\n");
  EXPECT_NE(e.find("no column 'xco2'"), std::string::npos) << e;
  e = error_of(periods + "features: {time: [year, year]}\n");
  EXPECT_NE(e.find("listed twice"), std::string::npos) << e;
  e = error_of(periods + "features: {time: [decade]}\n");
  EXPECT_NE(e.find("features.time"), std::string::npos) << e;
  e = error_of(periods + "features: {variables: {sin_lat: {name: x}}}\n");
  EXPECT_NE(e.find("'sin_lat' is taken"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}

TEST(Dataset, Pco2RouteKeysAndTheirErrors) {
  const std::string periods =
      "time: {train: [1988, 1988], validation: [1989, 1989], test: [1990, 1990]}\n"
      "variables: {target: {name: spco2}}\n";
  EXPECT_FALSE(load(periods).pco2.enabled);
  const auto d = load(periods +
                      "pco2_route: {enabled: true, flux: {name: fgco2}, flux_sign: positive "
                      "into the ocean, pco2_air: {constant: 380.5}, air_is_xco2: true, "
                      "transfer_coefficient: 0.337}\n");
  ASSERT_TRUE(d.pco2.enabled);
  EXPECT_EQ(d.pco2.flux.file_name, "fgco2");
  EXPECT_TRUE(d.pco2.into_ocean());
  EXPECT_EQ(d.pco2.wind_speed.file_name, "wind_speed");
  EXPECT_EQ(d.pco2.pco2_air.file_name, "");
  EXPECT_DOUBLE_EQ(d.pco2.pco2_air.constant, 380.5);
  EXPECT_TRUE(d.pco2.air_is_xco2);
  EXPECT_DOUBLE_EQ(d.pco2.transfer_coefficient, 0.337);

  auto e = error_of(periods + "pco2_route: {enabled: true}\n");
  EXPECT_NE(e.find("pco2_route.pco2_air"), std::string::npos) << e;
  EXPECT_NE(e.find("needs the atmospheric pCO2"), std::string::npos) << e;
  e = error_of(periods + "pco2_route: {enabled: true, pco2_air: {name: patm, file: x.csv}}\n");
  EXPECT_NE(e.find("not both"), std::string::npos) << e;
  e = error_of(periods +
               "pco2_route: {enabled: true, pco2_air: {constant: 400}, flux: {name: spco2}}\n");
  EXPECT_NE(e.find("is also the target"), std::string::npos) << e;
  e = error_of(periods +
               "pco2_route: {enabled: true, pco2_air: {constant: 400}, wind_speed: {name: ''}}\n");
  EXPECT_NE(e.find("pco2_route.wind_speed"), std::string::npos) << e;
  e = error_of(periods +
               "pco2_route: {enabled: true, pco2_air: {constant: 400}, "
               "transfer_coefficient: 3}\n");
  EXPECT_NE(e.find("transfer_coefficient"), std::string::npos) << e;
  e = error_of(periods + "pco2_route: {enabled: true, pco2_air: {file: /nonexistent/air.csv}}\n");
  EXPECT_NE(e.find("/nonexistent/air.csv"), std::string::npos) << e;

  // The atmospheric pCO2 from a CSV, relative to the dataset directory.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fluxrecon_dataset_air_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream((dir / "air.csv").string()) << "time,patm\n1990-01,350.5\n1990-02,351\n";
  const auto with_csv = load_dataset(
      config::Config::from_text(std::string(kMinimal) + periods +
                                    "pco2_route: {enabled: true, pco2_air: {file: air.csv, " +
                                    "column: patm}}\n",
                                dataset_schema(), "demo.yaml"),
      dir.string());
  EXPECT_EQ(with_csv.pco2.pco2_air_series.file, (dir / "air.csv").string());
  EXPECT_DOUBLE_EQ(with_csv.pco2.pco2_air_series.at(month_index(1990, 2)), 351.0);
  std::filesystem::remove_all(dir);
}
