// `fluxrecon explain` on the testbed's sample stores: TreeSHAP equals
// XGBoost's own prediction margin, every model kind of the registry is
// explained, and the outputs are the same bytes on 1 rank as on all ranks.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "explain/explain.hpp"
#include "explain/methods.hpp"
#include "io/sample_store.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/registry.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "support/error_text.hpp"
#include "support/mpi_test_util.hpp"
#include "support/random_networks.hpp"
#include "support/testbed_samples.hpp"
#include "train/xgboost_trainer.hpp"

namespace fs = std::filesystem;
using namespace fluxrecon;
using test_util::shared_temp_dir;
using test_util::world_rank;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A models folder with a small trained XGBoost and neural models of random
// weights carrying the testbed's features and normalisation.
const std::string& models_dir() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = shared_temp_dir("explain_models");
  const auto& samples = test_util::testbed_samples();
  const auto params =
      config::Config::from_text("{num_boost_round: 8, booster: gbtree, max_depth: 4, eta: 0.3}",
                                models::xgboost_schema(), "test");
  train::train_xgboost(params, {samples, dir, false}, MPI_COMM_WORLD);
  if (world_rank() == 0) {
    const auto norm = io::read_normalisation(samples + "/train.h5");
    std::vector<std::string> names(data::feature_names().begin(), data::feature_names().end());
    unsigned seed = 1;
    for (auto kind : {models::NetworkKind::mlp, models::NetworkKind::lstm,
                      models::NetworkKind::attention_lstm, models::NetworkKind::gru}) {
      models::ModelFile f;
      f.spec.kind = kind;
      f.spec.hidden_dims = {16, 8};
      f.spec.hidden_dim = 8;
      f.spec.num_layers = 1;
      f.weights = test_util::random_weights(f.spec, seed++);
      f.metadata = {{"features", names}, {"normalisation", models::normalisation_json(norm)}};
      models::write_model_file(dir + "/" + models::kind_name(kind) + ".h5", f);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

explain::ExplainOptions options(const std::string& out) {
  explain::ExplainOptions o;
  o.models_dir = models_dir();
  o.samples_dir = test_util::testbed_samples();
  o.out_dir = out;
  o.instances = 7;
  o.background = 25;
  o.coalitions = 150;
  o.timeshap_samples = 150;
  o.months = {1, 7};
  o.interactions = true;
  return o;
}

// The CSV's value columns of every row (after the 8 instance columns).
std::vector<std::vector<double>> csv_values(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream s(line);
    std::string field;
    for (int k = 0; std::getline(s, field, ','); ++k) {
      char* end = nullptr;
      const double v = std::strtod(field.c_str(), &end);
      if (k >= 8 && (field.empty() || *end == '\0')) row.push_back(field.empty() ? NAN : v);
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST(Explain, TreeShapSumsToXgboostsMarginAndInteractionsToTheValues) {
  const auto model = models::LoadedModel::load("xgboost", models_dir() + "/xgboost.json");
  int window = 0;
  const auto block = io::read_samples(test_util::testbed_samples() + "/validation.h5", &window);
  const std::int64_t n = std::min<std::int64_t>(50, block.size());
  const auto r = explain::tree_shap(*model.xgboost(), block.features.data(), n, true);
  std::vector<float> y(static_cast<size_t>(n));
  model.predict(block.features.data(), n, y.data());
  const int width = model.xgboost()->width();
  ASSERT_EQ(width, 44);
  for (std::int64_t i = 0; i < n; ++i) {
    double s = r.bias[i];
    for (int j = 0; j < width; ++j) s += r.values[i * width + j];
    EXPECT_NEAR(s, y[i], 1e-4) << "instance " << i;
    EXPECT_FLOAT_EQ(r.prediction[i], y[i]);
    // Each row of the interaction matrix sums to that input's SHAP value.
    for (int j = 0; j < width; ++j) {
      double row = 0;
      for (int k = 0; k <= width; ++k)
        row += r.interactions[(i * (width + 1) + j) * (width + 1) + k];
      EXPECT_NEAR(row, r.values[i * width + j], 1e-4);
    }
  }
}

TEST(Explain, EveryModelIsExplainedTheSameOnOneRankAsOnAll) {
  const auto out = shared_temp_dir("explain_out");
  const auto all = explain::explain(options(out + "/all"), MPI_COMM_WORLD);
  EXPECT_EQ(all.models,
            (std::vector<std::string>{"mlp", "lstm", "attention_lstm", "gru", "xgboost"}));
  EXPECT_EQ(all.instances, 5 * 7);
  if (world_rank() == 0) {
    const auto one = explain::explain(options(out + "/one"), MPI_COMM_SELF);
    EXPECT_EQ(one.models, all.models);
    for (const auto& file : all.files) {
      if (fs::path(file).extension() == ".png") continue;
      const auto twin = out + "/one/" + fs::relative(file, out + "/all").string();
      EXPECT_EQ(read_file(file), read_file(twin)) << file;
    }
    // Efficiency in the outputs: values sum to prediction - expected.
    for (const char* table : {"mlp_kernel_shap", "xgboost_tree_shap", "lstm_timeshap_event",
                              "attention_lstm_timeshap_feature", "attention_lstm_timeshap_cell",
                              "gru_timeshap_event", "gru_timeshap_feature"}) {
      const auto rows = csv_values(out + "/all/explain_" + std::string(table) + ".csv");
      ASSERT_EQ(rows.size(), 7u) << table;
      for (const auto& r : rows) {
        double s = 0;
        for (size_t k = 2; k < r.size(); ++k) s += std::isnan(r[k]) ? 0.0 : r[k];
        EXPECT_NEAR(s, r[0] - r[1], 1e-4) << table;
      }
    }
    for (const auto& r : csv_values(out + "/all/explain_attention_lstm_attention.csv"))
      EXPECT_NEAR(std::accumulate(r.begin() + 2, r.end(), 0.0), 1.0, 1e-4);
    EXPECT_TRUE(fs::exists(out + "/all/figures/mlp_mean_abs_by_variable.png"));
    EXPECT_TRUE(fs::exists(out + "/all/figures/attention_lstm_attention_cells.png"));
    EXPECT_TRUE(fs::exists(out + "/all/explain_xgboost.nc"));
    // The leading driver of each instance is named in the tables by variable.
    std::ifstream by_variable(out + "/all/explain_mlp_kernel_shap_by_variable.csv");
    std::string header;
    std::getline(by_variable, header);
    EXPECT_NE(header.find(",leading_variable"), std::string::npos) << header;
  }
  // A rerun with the same options finds every model complete.
  const auto again = explain::explain(options(out + "/all"), MPI_COMM_WORLD);
  EXPECT_EQ(again.reused, 5);
  EXPECT_TRUE(again.models.empty());
}

TEST(Explain, BadRequestsFailOnEveryRankNamingTheProblem) {
  const auto out = shared_temp_dir("explain_bad");
  auto o = options(out);
  o.set = "test_nowhere";
  auto message = test_util::error_of_call([&] { explain::explain(o, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("test_nowhere.h5"), std::string::npos) << message;
  o = options(out);
  o.models = {"mlp"};
  o.models_dir = out;
  message = test_util::error_of_call([&] { explain::explain(o, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("mlp.h5' is missing"), std::string::npos) << message;
  o = options(out);
  o.months = {13};
  message = test_util::error_of_call([&] { explain::explain(o, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("--months 13"), std::string::npos) << message;
}
