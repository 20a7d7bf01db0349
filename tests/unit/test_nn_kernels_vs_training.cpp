// The inference kernels as reconstruct uses them, through a model file: the
// file written and read back, then NnInference against the oneDNN training
// forward of models::make_network on the same weights (relative difference
// <= 1e-5), and each window's prediction independent of the batch it is in
// (which makes the caches independent of the rank count).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "io/sample_store.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/nn_inference.hpp"

namespace {

using namespace fluxrecon;
using models::NetworkKind;
using models::NetworkSpec;

NetworkSpec seed_spec(NetworkKind kind) {
  NetworkSpec s;
  s.kind = kind;
  s.hidden_dims = {207, 248, 198};
  s.hidden_dim = kind == NetworkKind::attention_lstm ? 256 : 128;
  s.num_layers = 3;
  return s;
}

std::string write_and_read_back(const NetworkSpec& spec, std::uint64_t seed) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fluxrecon_kernels_vs_training_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (models::kind_name(spec.kind) + ".h5")).string();
  auto net = models::make_network(spec);
  net->parameters().initialise(seed);
  models::ModelFile file;
  file.spec = spec;
  file.weights = net->parameters().state_dict();
  io::Normalisation norm;
  norm.feature_mean.assign(data::kFeatures, 0.0);
  norm.feature_std.assign(data::kFeatures, 1.0);
  file.metadata = {{"features", std::vector<std::string>(data::feature_names().begin(),
                                                         data::feature_names().end())},
                   {"normalisation", models::normalisation_json(norm)}};
  models::write_model_file(path, file);
  return path;
}

// z-scored windows: mostly within a few standard deviations, some outliers.
std::vector<float> windows(const NetworkSpec& spec, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * spec.window * spec.n_features);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * (i % 97 == 0 ? 6.0f : 1.0f);
  return x;
}

class KernelsVsTraining : public ::testing::TestWithParam<NetworkKind> {};

TEST_P(KernelsVsTraining, ModelFilePredictionsMatchTheOneDnnForward) {
  const NetworkSpec spec = seed_spec(GetParam());
  const std::string path = write_and_read_back(spec, 1234);
  const auto file = models::read_model_file(path);
  const models::NnInference kernels(file.spec, file.weights);
  auto net = models::make_network(file.spec);
  net->parameters().load(file.weights, path, net->ignored_keys());

  const std::size_t n = 301;
  const auto x = windows(spec, n, 7);
  std::vector<float> y(n), reference(n);
  kernels.predict(x.data(), n, y.data());
  net->forward(x.data(), static_cast<int>(n), false, reference.data());
  double rms = 0;
  for (float v : reference) rms += double(v) * v;
  rms = std::sqrt(rms / n);
  ASSERT_GT(rms, 0.0);
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = std::max<double>(std::abs(reference[i]), rms);
    worst = std::max(worst, std::abs(double(y[i]) - reference[i]) / scale);
  }
  EXPECT_LE(worst, 1e-5) << models::kind_name(spec.kind);
  RecordProperty("worst_relative_difference", std::to_string(worst));
}

TEST_P(KernelsVsTraining, PredictionDoesNotDependOnTheBatch) {
  const NetworkSpec spec = seed_spec(GetParam());
  const std::string path = write_and_read_back(spec, 99);
  const auto file = models::read_model_file(path);
  const models::NnInference kernels(file.spec, file.weights);
  const std::size_t n = 61, width = std::size_t(spec.window) * spec.n_features;
  const auto x = windows(spec, n, 3);
  std::vector<float> together(n);
  kernels.predict(x.data(), n, together.data());
  // Every window alone, and in ragged batches starting elsewhere.
  for (std::size_t i = 0; i < n; ++i) {
    float alone = 0;
    kernels.predict(x.data() + i * width, 1, &alone);
    ASSERT_EQ(std::memcmp(&alone, &together[i], sizeof(float)), 0) << "window " << i;
  }
  std::vector<float> ragged(n);
  for (std::size_t first = 0, size = 5; first < n; first += size, size += 4)
    kernels.predict(x.data() + first * width, std::min(size, n - first), ragged.data() + first);
  EXPECT_EQ(std::memcmp(ragged.data(), together.data(), n * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, KernelsVsTraining,
                         ::testing::Values(NetworkKind::mlp, NetworkKind::lstm,
                                           NetworkKind::attention_lstm, NetworkKind::gru),
                         [](const auto& param_info) {
                           return models::kind_name(param_info.param);
                         });

}  // namespace
