// PCA of sliding-window embeddings: the fit against covariances known
// exactly (symmetric sample sets) and statistically (Gaussian draws), the
// pairwise merge of moments against one pass, the sign convention, the model
// file, the transform and its RGB map.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/error.hpp"
#include "kernels/tiles_pca.hpp"
#include "support/error_text.hpp"
#include "tiles/pca.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {

// A grid of `samples` windows (1 row) from sample vectors [s][dims].
EmbeddingGrid grid_of(const std::vector<std::vector<double>>& samples) {
  EmbeddingGrid g;
  g.scene_id = "scene";
  g.dims = static_cast<int>(samples.front().size());
  const size_t n = samples.size();
  for (size_t s = 0; s < n; ++s) {
    g.x.push_back(100.0 * s);
    g.i0.push_back(static_cast<int>(s));
    g.lat.push_back(0);
    g.lon.push_back(0);
  }
  g.y = {0};
  g.j0 = {0};
  g.values.resize(g.dims * n);
  for (int a = 0; a < g.dims; ++a)
    for (size_t s = 0; s < n; ++s) g.values[a * n + s] = static_cast<float>(samples[s][a]);
  return g;
}

// A random orthonormal basis (rows), Gram-Schmidt of a seeded Gaussian matrix.
std::vector<std::vector<double>> random_basis(int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> q(d, std::vector<double>(d));
  for (int k = 0; k < d; ++k) {
    for (auto& v : q[k]) v = normal(rng);
    for (int j = 0; j < k; ++j) {
      double dot = 0;
      for (int a = 0; a < d; ++a) dot += q[k][a] * q[j][a];
      for (int a = 0; a < d; ++a) q[k][a] -= dot * q[j][a];
    }
    double norm = 0;
    for (double v : q[k]) norm += v * v;
    for (auto& v : q[k]) v /= std::sqrt(norm);
  }
  return q;
}

double dot(const double* a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

std::string temp_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("fr_pca_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

}  // namespace

TEST(TilesPca, ExactSmallCase) {
  // Four 2-D windows (+-1, 0), (0, +-0.5) around (3, -2): covariance diag(2/3, 1/6).
  const auto g = grid_of({{4, -2}, {2, -2}, {3, -1.5}, {3, -2.5}});
  const PcaModel m = fit_pca(scene_moments(g), 0, "test");
  ASSERT_EQ(m.n_components(), 2);
  EXPECT_EQ(m.n_samples, 4);
  EXPECT_NEAR(m.mean[0], 3, 1e-12);
  EXPECT_NEAR(m.mean[1], -2, 1e-12);
  EXPECT_NEAR(m.explained_variance[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.explained_variance[1], 1.0 / 6, 1e-12);
  EXPECT_NEAR(m.explained_variance_ratio[0], 0.8, 1e-12);
  EXPECT_NEAR(m.explained_variance_ratio[1], 0.2, 1e-12);
  EXPECT_NEAR(m.components[0], 1, 1e-12);  // (1, 0) and (0, 1), signs positive
  EXPECT_NEAR(m.components[1], 0, 1e-12);
  EXPECT_NEAR(m.components[2], 0, 1e-12);
  EXPECT_NEAR(m.components[3], 1, 1e-12);
  const EmbeddingGrid t = apply_pca(m, g, "in.nc", "model.nc");
  EXPECT_EQ(t.dim_name, "pca_dim");
  EXPECT_EQ(t.explained_variance, m.explained_variance_ratio);
  EXPECT_EQ(t.attributes.at("transform_type"), "pca");
  EXPECT_EQ(t.attributes.at("transform_model"), "model.nc");
  const std::vector<float> expected = {1, -1, 0, 0, 0, 0, 0.5f, -0.5f};  // [component][window]
  EXPECT_EQ(t.values, expected);
}

TEST(TilesPca, KnownCovarianceExactly) {
  // Windows mean +- c_k q_k for an orthonormal basis q: the sample covariance
  // is sum_k 2 c_k^2 q_k q_k^T / (n - 1) exactly, eigenvalues 2 c_k^2 / (n - 1).
  const int d = 7;
  const auto q = random_basis(d, 11);
  const std::vector<double> c = {5, 4, 3, 2.5, 2, 1, 0.5}, mean = {1, -2, 3, 0, 0.5, 7, -1};
  std::vector<std::vector<double>> samples;
  for (int k = 0; k < d; ++k)
    for (double sign : {1.0, -1.0}) {
      std::vector<double> v(d);
      for (int a = 0; a < d; ++a) v[a] = mean[a] + sign * c[k] * q[k][a];
      samples.push_back(v);
    }
  const double n = static_cast<double>(samples.size());
  const PcaModel m = fit_pca(scene_moments(grid_of(samples)), 0, "test");
  ASSERT_EQ(m.n_components(), d);
  double total = 0;
  for (double ck : c) total += 2 * ck * ck / (n - 1);
  for (int k = 0; k < d; ++k) {
    const double lambda = 2 * c[k] * c[k] / (n - 1);
    EXPECT_NEAR(m.explained_variance[k], lambda, 1e-5 * lambda) << k;
    EXPECT_NEAR(m.explained_variance_ratio[k], lambda / total, 1e-5) << k;
    // Same direction up to sign, and the sign convention holds.
    EXPECT_NEAR(std::abs(dot(m.components.data() + k * d, q[k])), 1.0, 1e-5) << k;
    int arg = 0;
    for (int a = 1; a < d; ++a)
      if (std::abs(m.components[k * d + a]) > std::abs(m.components[k * d + arg])) arg = a;
    EXPECT_GT(m.components[k * d + arg], 0) << k;
  }
  for (int a = 0; a < d; ++a) EXPECT_NEAR(m.mean[a], mean[a], 1e-5);
}

TEST(TilesPca, KnownCovarianceFromGaussianSamples) {
  // 200000 draws from N(mu, Q diag(lambda) Q^T): eigenvalues within sampling
  // error (relative sqrt(2 / n) = 0.3 %, bound 2 %), eigenvectors to 1e-3.
  const int d = 5;
  const auto q = random_basis(d, 3);
  const std::vector<double> lambda = {9, 4, 1, 0.25, 0.04};
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> samples(200000, std::vector<double>(d, 0.5));
  for (auto& v : samples)
    for (int k = 0; k < d; ++k) {
      const double z = normal(rng) * std::sqrt(lambda[k]);
      for (int a = 0; a < d; ++a) v[a] += z * q[k][a];
    }
  const PcaModel m = fit_pca(scene_moments(grid_of(samples)), 3, "test");
  ASSERT_EQ(m.n_components(), 3);
  double total = 0;
  for (double l : lambda) total += l;
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(m.explained_variance[k], lambda[k], 0.02 * lambda[k]) << k;
    EXPECT_NEAR(m.explained_variance_ratio[k], lambda[k] / total, 0.02 * lambda[k] / total) << k;
    EXPECT_NEAR(std::abs(dot(m.components.data() + k * d, q[k])), 1.0, 1e-3) << k;
  }
}

TEST(TilesPca, MergedMomentsEqualOnePass) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-3, 5);
  const int d = 4;
  std::vector<std::vector<double>> all;
  for (int s = 0; s < 61; ++s) {
    std::vector<double> v(d);
    for (auto& x : v) x = u(rng) + (s % 3);
    all.push_back(v);
  }
  const PcaMoments one = scene_moments(grid_of(all));
  PcaMoments merged;
  const size_t cuts[] = {0, 1, 20, 45, 61};  // scenes of 1, 19, 25 and 16 windows
  for (int p = 0; p < 4; ++p) {
    const std::vector<std::vector<double>> part(all.begin() + cuts[p], all.begin() + cuts[p + 1]);
    merge_moments(merged, scene_moments(grid_of(part)), "part");
  }
  ASSERT_EQ(merged.count, one.count);
  for (int a = 0; a < d; ++a) EXPECT_NEAR(merged.mean[a], one.mean[a], 1e-12);
  for (int i = 0; i < d * d; ++i)
    EXPECT_NEAR(merged.comoment[i], one.comoment[i], 1e-10 * std::abs(one.comoment[i]) + 1e-12);
  // An empty scene changes nothing; a different dims is refused by name.
  PcaMoments empty;
  empty.dims = d;
  empty.mean.assign(d, 0);
  empty.comoment.assign(d * d, 0);
  PcaMoments again = merged;
  merge_moments(again, empty, "empty");
  EXPECT_EQ(again.comoment, merged.comoment);
  PcaMoments other = scene_moments(grid_of({{1, 2}, {3, 4}}));
  const auto msg = test_util::error_of_call([&] { merge_moments(again, other, "b.nc"); });
  EXPECT_NE(msg.find("b.nc has embeddings of 2 dims"), std::string::npos) << msg;
}

TEST(TilesPca, SymmetricEigenOfKnownMatrix) {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1) / sqrt 2 and (1, -1) / sqrt 2.
  std::vector<double> values, vectors;
  symmetric_eigen({2, 1, 1, 2}, 2, values, vectors);
  EXPECT_NEAR(values[0], 3, 1e-14);
  EXPECT_NEAR(values[1], 1, 1e-14);
  EXPECT_NEAR(std::abs(vectors[0] + vectors[1]), std::sqrt(2.0), 1e-14);
  EXPECT_NEAR(std::abs(vectors[2] - vectors[3]), std::sqrt(2.0), 1e-14);
}

TEST(TilesPca, SignConventionLargestCoefficientPositive) {
  std::vector<double> c = {0.1, -0.9, 0.3, /**/ 0.6, -0.6, 0.1};
  fluxrecon::kernels::fix_pca_signs(c.data(), 2, 3);
  EXPECT_EQ(c, (std::vector<double>{-0.1, 0.9, -0.3, 0.6, -0.6, 0.1}));  // tie: the first wins
}

TEST(TilesPca, ModelFileRoundTripAndRefusals) {
  const auto dir = temp_dir("model");
  const auto g = grid_of({{4, -2, 1}, {2, -2, 0}, {3, -1.5, 2}, {3, -2.5, 1}, {1, 1, 1}});
  const PcaModel m = fit_pca(scene_moments(g), 2, "test");
  write_pca_model(dir + "/m.model.nc", m);
  const PcaModel r = read_pca_model(dir + "/m.model.nc");
  EXPECT_EQ(r.dims, m.dims);
  EXPECT_EQ(r.n_samples, m.n_samples);
  EXPECT_EQ(r.mean, m.mean);
  EXPECT_EQ(r.components, m.components);
  EXPECT_EQ(r.explained_variance, m.explained_variance);
  EXPECT_EQ(r.explained_variance_ratio, m.explained_variance_ratio);
  // Applying the saved model equals applying the fitted one.
  EXPECT_EQ(apply_pca(r, g, "in", "m").values, apply_pca(m, g, "in", "m").values);
  // Wrong dims, too many components, too few windows: errors that say so.
  auto msg = test_util::error_of_call([&] {
    apply_pca(r, grid_of({{1, 2}, {3, 4}}), "two.nc", dir + "/m.model.nc");
  });
  EXPECT_NE(msg.find("two.nc has embeddings of 2 dims but the PCA model " + dir +
                     "/m.model.nc was fitted on 3 dims"),
            std::string::npos)
      << msg;
  msg = test_util::error_of_call([&] { fit_pca(scene_moments(g), 4, "in.nc"); });
  EXPECT_NE(msg.find("--n-components 4 must be between 1 and min(windows, dims) = min(5, 3)"),
            std::string::npos)
      << msg;
  msg = test_util::error_of_call([&] { fit_pca(scene_moments(grid_of({{1, 2}})), 0, "in.nc"); });
  EXPECT_NE(msg.find("in.nc: PCA needs at least 2 windows, found 1"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(TilesPca, RgbMapMinMaxPerComponentNorthUp) {
  EmbeddingGrid g;
  g.dims = 2;
  g.x = {0, 1};
  g.y = {0, 10};  // ascending north: image row 0 is y = 10 (j = 1)
  g.values = {0, 1, 2, 4, /**/ 5, 5, 5, 5};
  const auto rgb = pca_rgb(g);
  // Component 0 scaled over [0, 4]: row 0 holds (2, 4) -> 128, 255; row 1 (0, 1) -> 0, 64.
  const std::vector<std::uint8_t> expected = {128, 0, 0, 255, 0, 0, 0, 0, 0, 64, 0, 0};
  EXPECT_EQ(rgb, expected);
}
