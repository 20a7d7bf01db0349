// `tiles transform` (PCA) on synthetic embedding files: the model and the
// outputs made on all ranks are byte for byte those made on one rank, reruns
// skip, a pretrained model applied equals the fitted transform, and bad inputs
// fail on every rank naming what is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/error.hpp"
#include "support/error_text.hpp"
#include "support/mpi_test_util.hpp"
#include "tiles/embedding_file.hpp"
#include "tiles/png.hpp"
#include "tiles/transform.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {

// Scene s: (3 + s % 3) x (4 + s % 2) windows of `dims` correlated values.
EmbeddingGrid synthetic_scene(int s, int dims) {
  EmbeddingGrid g;
  g.scene_id = "les__2020020212" + std::to_string(10 + s);
  g.dims = dims;
  const int ny = 3 + s % 3, nx = 4 + s % 2;
  for (int i = 0; i < nx; ++i) {
    g.x.push_back(-2000.0 + 1000.0 * i);
    g.i0.push_back(16 + 8 * i);
  }
  for (int j = 0; j < ny; ++j) {
    g.y.push_back(1500.0 - 1000.0 * j);
    g.j0.push_back(16 + 8 * j);
  }
  g.lat.assign(static_cast<size_t>(nx * ny), 13.0);
  g.lon.assign(static_cast<size_t>(nx * ny), -57.0);
  std::mt19937 rng(static_cast<unsigned>(100 + s));
  std::normal_distribution<float> normal;
  const size_t n = static_cast<size_t>(nx * ny);
  g.values.resize(dims * n);
  for (size_t w = 0; w < n; ++w) {
    const float a = 3 * normal(rng), b = normal(rng);
    for (int d = 0; d < dims; ++d)
      g.values[d * n + w] = a * (d + 1) / dims + b * (d % 2 ? 1 : -1) + 0.1f * normal(rng) + s;
  }
  g.attributes = {{"model_path", "embedding_models/m.h5"}, {"step_size", "8"}};
  return g;
}

std::string scene_file(const std::string& dir, const EmbeddingGrid& g) {
  return dir + "/" + g.scene_id + ".embeddings.8_step.nc";
}

void write_scenes(const std::string& dir, int count, int dims) {
  if (test_util::world_rank() == 0) {
    fs::create_directories(dir);
    for (int s = 0; s < count; ++s) {
      const auto g = synthetic_scene(s, dims);
      write_embedding_grid(scene_file(dir, g), g);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Every visible file of `dir` (not seals, not inputs), by name.
std::map<std::string, std::string> outputs(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name[0] == '.' || name.find("_step.nc") == name.size() - 8) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    out[name] = s.str();
  }
  return out;
}

void remove_outputs(const std::string& dir) {
  if (test_util::world_rank() == 0)
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.find("pca_transform") != std::string::npos) fs::remove(e.path());
    }
  MPI_Barrier(MPI_COMM_WORLD);
}

void remove_dir(const std::string& dir) {
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) fs::remove_all(dir);
}

Meta meta_for(const std::string& root) {
  Meta m;
  m.meta_path = root + "/meta.yaml";
  m.data_path = root;
  m.sliding.step_size = 8;
  return m;
}

TransformOptions pca_options() {
  TransformOptions o;
  o.transform_type = "pca";
  o.model = "/elsewhere/embedding_models/m.h5";
  return o;
}

}  // namespace

TEST(TilesTransform, SameOutputsOnAnyRankCountAndRerunsSkip) {
  const std::string root = test_util::shared_temp_dir("tiles_transform");
  const std::string dir = root + "/embeddings/rect/m";
  write_scenes(dir, 7, 6);
  const Meta meta = meta_for(root);
  std::map<std::string, std::string> one;
  if (test_util::world_rank() == 0) {
    const auto s = run_transform(meta, pca_options(), MPI_COMM_SELF);
    EXPECT_TRUE(s.fitted);
    EXPECT_EQ(s.written, 7);
    one = outputs(dir);
  }
  remove_outputs(dir);
  const auto s = run_transform(meta, pca_options(), MPI_COMM_WORLD);
  EXPECT_TRUE(s.fitted);
  EXPECT_EQ(s.scenes, 7);
  EXPECT_EQ(s.written, 7);
  EXPECT_EQ(s.dims, 6);
  EXPECT_EQ(s.components, 6);
  EXPECT_EQ(s.model_path, dir + "/pca_transform.8_step.model.nc");
  if (test_util::world_rank() == 0) {
    const auto all = outputs(dir);
    EXPECT_EQ(all.size(), 15u);  // 7 x (nc + png) + the model
    EXPECT_EQ(all.size(), one.size());
    for (const auto& [name, bytes] : all) EXPECT_TRUE(bytes == one[name]) << name;
    const auto t =
        read_embedding_grid(dir + "/les__202002021210.embeddings.8_step.pca_transform.nc");
    EXPECT_EQ(t.dim_name, "pca_dim");
    EXPECT_EQ(t.dims, 6);
    EXPECT_EQ(t.attributes.at("transform_type"), "pca");
    EXPECT_EQ(t.attributes.at("transform_model"), s.model_path);
    EXPECT_EQ(t.explained_variance.size(), 6u);
    EXPECT_TRUE(t.explained_variance.size() == 6 &&
                t.explained_variance[0] > t.explained_variance[1]);
    const auto png = read_png(dir + "/les__202002021210.embeddings.8_step.pca_transform.png");
    EXPECT_EQ(png.width, 4);
    EXPECT_EQ(png.height, 3);
    EXPECT_EQ(png.channels, 3);
  }
  // A rerun fits nothing and writes nothing.
  const auto again = run_transform(meta, pca_options(), MPI_COMM_WORLD);
  EXPECT_FALSE(again.fitted);
  EXPECT_EQ(again.written, 0);
  EXPECT_EQ(again.skipped, 7);
  // One output removed: only it is redone, with the saved model.
  if (test_util::world_rank() == 0)
    fs::remove(dir + "/les__202002021213.embeddings.8_step.pca_transform.nc");
  MPI_Barrier(MPI_COMM_WORLD);
  const auto redo = run_transform(meta, pca_options(), MPI_COMM_WORLD);
  EXPECT_FALSE(redo.fitted);
  EXPECT_EQ(redo.written, 1);
  EXPECT_EQ(redo.skipped, 6);
  if (test_util::world_rank() == 0) {
    const auto all = outputs(dir);
    for (const auto& [name, bytes] : all) EXPECT_TRUE(bytes == one[name]) << name;
  }
  // Fewer components: their own names, the leading components equal.
  auto two = pca_options();
  two.n_components = 2;
  const auto s2 = run_transform(meta, two, MPI_COMM_WORLD);
  EXPECT_EQ(s2.components, 2);
  if (test_util::world_rank() == 0) {
    const auto a =
        read_embedding_grid(dir + "/les__202002021212.embeddings.8_step.pca_transform.nc");
    const auto b = read_embedding_grid(
        dir + "/les__202002021212.embeddings.8_step.pca_transform__n_components_2.nc");
    EXPECT_EQ(b.dims, 2);
    EXPECT_EQ(a.attributes.count("transform_extra_args"), 0u);
    EXPECT_EQ(
        b.attributes.count("transform_extra_args") ? b.attributes.at("transform_extra_args") : "",
        "n_components=2");
    EXPECT_TRUE(fs::exists(dir + "/pca_transform__n_components_2.8_step.model.nc"));
    for (size_t i = 0; i < b.values.size(); ++i) EXPECT_EQ(a.values[i], b.values[i]) << i;
  }
  remove_dir(root);
}

TEST(TilesTransform, PretrainedModelAppliedEqualsFittedTransform) {
  const std::string root = test_util::shared_temp_dir("tiles_transform_pretrained");
  write_scenes(root + "/fit", 5, 4);
  write_scenes(root + "/apply", 5, 4);
  const Meta meta = meta_for(root);
  auto fit = pca_options();
  fit.model.clear();
  fit.embeddings_dir = root + "/fit";
  const auto s = run_transform(meta, fit, MPI_COMM_WORLD);
  auto apply = fit;
  apply.embeddings_dir = root + "/apply";
  apply.pretrained_model = s.model_path;
  const auto a = run_transform(meta, apply, MPI_COMM_WORLD);
  EXPECT_FALSE(a.fitted);
  EXPECT_EQ(a.written, 5);
  EXPECT_EQ(a.model_path, s.model_path);
  EXPECT_FALSE(fs::exists(root + "/apply/pca_transform.8_step.model.nc"));
  if (test_util::world_rank() == 0)
    for (int k = 0; k < 5; ++k) {
      const auto id = synthetic_scene(k, 4).scene_id;
      const auto f =
          read_embedding_grid(root + "/fit/" + id + ".embeddings.8_step.pca_transform.nc");
      const auto p =
          read_embedding_grid(root + "/apply/" + id + ".embeddings.8_step.pca_transform.nc");
      EXPECT_EQ(f.values, p.values) << id;
      EXPECT_EQ(f.explained_variance, p.explained_variance) << id;
    }
  // A model of other dims is refused naming both files.
  write_scenes(root + "/wide", 2, 5);
  auto wide = apply;
  wide.embeddings_dir = root + "/wide";
  const auto msg = test_util::error_of_call([&] { run_transform(meta, wide, MPI_COMM_WORLD); });
  EXPECT_NE(msg.find("has embeddings of 5 dims but the PCA model " + s.model_path +
                     " was fitted on 4 dims"),
            std::string::npos)
      << msg;
  remove_dir(root);
}

TEST(TilesTransform, BadInputsFailOnEveryRankNamingTheProblem) {
  const std::string root = test_util::shared_temp_dir("tiles_transform_bad");
  const Meta meta = meta_for(root);
  auto opt = pca_options();
  auto expect_error = [&](const TransformOptions& o, const std::string& text) {
    const auto msg = test_util::error_of_call([&] { run_transform(meta, o, MPI_COMM_WORLD); });
    EXPECT_NE(msg.find(text), std::string::npos) << msg;
  };
  expect_error(opt, "the embeddings folder " + root + "/embeddings/rect/m does not exist");
  if (test_util::world_rank() == 0) fs::create_directories(root + "/embeddings/rect/m");
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error(opt, "no embedding files *.embeddings.8_step.nc in " + root + "/embeddings/rect/m");
  auto kmeans = opt;
  kmeans.transform_type = "kmeans";
  expect_error(kmeans, "unknown --transform-type 'kmeans' (known: pca)");
  auto both = opt;
  both.embeddings_dir = root;
  expect_error(both, "give either --model");
  // Files of different dims in one fit: the odd file is named.
  write_scenes(root + "/embeddings/rect/m", 3, 4);
  if (test_util::world_rank() == 0) {
    auto odd = synthetic_scene(5, 3);
    write_embedding_grid(scene_file(root + "/embeddings/rect/m", odd), odd);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error(opt, "les__202002021215.embeddings.8_step.nc has 3 embedding dims but ");
  auto missing = opt;
  missing.pretrained_model = root + "/nothing.model.nc";
  expect_error(missing,
               "--pretrained-transform-model " + root + "/nothing.model.nc does not exist");
  // Nothing half-written: no model, no outputs.
  if (test_util::world_rank() == 0) {
    for (const auto& e : fs::directory_iterator(root + "/embeddings/rect/m")) {
      EXPECT_EQ(e.path().filename().string().find("pca_transform"), std::string::npos) << e.path();
    }
  }
  remove_dir(root);
}
