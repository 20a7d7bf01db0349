// The sliding-window embedding netCDF: written and read back equal, files
// missing a variable or with wrong shapes refused naming the file and the
// variable, and nothing left behind when a write fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.hpp"
#include "io/nc_writer.hpp"
#include "support/error_text.hpp"
#include "tiles/embedding_file.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;
using fluxrecon::io::NcType;
using fluxrecon::io::NcWriter;
using fluxrecon::io::WriteFormat;

namespace {

std::string temp_dir(const std::string& name) {
  const auto d =
      fs::temp_directory_path() / ("fr_embfile_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

EmbeddingGrid sample_grid(int dims, int ny, int nx) {
  EmbeddingGrid g;
  g.scene_id = "les__202002021200";
  g.dims = dims;
  for (int i = 0; i < nx; ++i) {
    g.x.push_back(-1000.0 + 250.5 * i);
    g.i0.push_back(16 + 8 * i);
  }
  for (int j = 0; j < ny; ++j) {
    g.y.push_back(800.0 - 250.25 * j);
    g.j0.push_back(16 + 8 * j);
  }
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      g.lat.push_back(13.1 + 0.01 * j + 1e-9 * i);
      g.lon.push_back(-57.3 + 0.02 * i);
    }
  for (int k = 0; k < dims * ny * nx; ++k) g.values.push_back(0.5f * static_cast<float>(k) - 3.25f);
  g.attributes = {
      {"model_path", "embedding_models/fixed.h5"}, {"step_size", "8"}, {"tile_N", "32"}};
  return g;
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// A file with the embedding layout written by hand, `skip` left out and
// i0 on `i0_dim`, to check the reader's refusals.
void write_raw(const std::string& path, const std::string& skip, const std::string& i0_dim) {
  NcWriter w(path, MPI_COMM_SELF, WriteFormat::cdf5);
  w.define_dimension("emb_dim", 2);
  w.define_dimension("y", 3);
  w.define_dimension("x", 4);
  auto var = [&](const std::string& name, NcType t, const std::vector<std::string>& d) {
    if (name != skip) w.define_variable(name, t, d);
  };
  var("emb", NcType::float32, {"emb_dim", "y", "x"});
  var("x", NcType::float64, {"x"});
  var("y", NcType::float64, {"y"});
  var("i0", NcType::int32, {i0_dim});
  var("j0", NcType::int32, {"y"});
  var("lat", NcType::float64, {"y", "x"});
  var("lon", NcType::float64, {"y", "x"});
  w.put_attribute("", "scene_id", "s");
  w.end_definitions();
  const std::vector<float> f(24, 1.0f);
  const std::vector<double> d(12, 2.0);
  const std::vector<std::int32_t> n(4, 3);
  const std::int64_t len_i0 = i0_dim == "x" ? 4 : 3;
  if (skip != "emb") w.write("emb", {0, 0, 0}, {2, 3, 4}, f.data());
  w.write("x", {0}, {4}, d.data());
  w.write("y", {0}, {3}, d.data());
  w.write("i0", {0}, {len_i0}, n.data());
  if (skip != "j0") w.write("j0", {0}, {3}, n.data());
  if (skip != "lat") w.write("lat", {0, 0}, {3, 4}, d.data());
  w.write("lon", {0, 0}, {3, 4}, d.data());
  w.close();
}

}  // namespace

TEST(TilesEmbeddingFile, WrittenAndReadBackEqual) {
  const auto dir = temp_dir("roundtrip");
  for (bool with_variance : {false, true}) {
    EmbeddingGrid g = sample_grid(3, 2, 5);
    if (with_variance) {
      g.dim_name = "pca_dim";
      g.explained_variance = {0.7, 0.2, 0.1};
      g.attributes["transform_type"] = "pca";
    }
    const std::string path =
        dir + (with_variance ? "/t.pca_transform.nc" : "/t.embeddings.8_step.nc");
    write_embedding_grid(path, g);
    const EmbeddingGrid r = read_embedding_grid(path);
    EXPECT_EQ(r.scene_id, g.scene_id);
    EXPECT_EQ(r.dim_name, g.dim_name);
    EXPECT_EQ(r.dims, g.dims);
    EXPECT_EQ(r.x, g.x);
    EXPECT_EQ(r.y, g.y);
    EXPECT_EQ(r.i0, g.i0);
    EXPECT_EQ(r.j0, g.j0);
    EXPECT_EQ(r.lat, g.lat);
    EXPECT_EQ(r.lon, g.lon);
    EXPECT_EQ(r.values, g.values);
    EXPECT_EQ(r.explained_variance, g.explained_variance);
    EXPECT_EQ(r.attributes, g.attributes);
  }
  fs::remove_all(dir);
}

TEST(TilesEmbeddingFile, MissingVariableOrWrongShapeRefusedByName) {
  const auto dir = temp_dir("refused");
  for (const char* missing : {"emb", "lat", "j0"}) {
    const std::string path = dir + "/missing_" + missing + ".nc";
    write_raw(path, missing, "x");
    const auto msg = test_util::error_of_call([&] { read_embedding_grid(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("'") + missing + "'"), std::string::npos) << msg;
  }
  const std::string path = dir + "/i0_on_y.nc";
  write_raw(path, "", "y");
  const auto msg = test_util::error_of_call([&] { read_embedding_grid(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("'i0' has dimensions (y), expected (x)"), std::string::npos) << msg;
  write_raw(dir + "/good.nc", "", "x");
  EXPECT_EQ(read_embedding_grid(dir + "/good.nc").dims, 2);
  fs::remove_all(dir);
}

TEST(TilesEmbeddingFile, FailedWriteLeavesNoFile) {
  const auto dir = temp_dir("failed");
  EmbeddingGrid bad = sample_grid(2, 3, 4);
  bad.values.pop_back();
  auto msg = test_util::error_of_call([&] { write_embedding_grid(dir + "/a.nc", bad); });
  EXPECT_NE(msg.find(dir + "/a.nc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("23 embedding values"), std::string::npos) << msg;
  // A failure inside the netCDF definitions (an attribute name netCDF refuses),
  // after the temporary file was created: it goes away too.
  EmbeddingGrid bad_name = sample_grid(2, 3, 4);
  bad_name.attributes["no/slash"] = "x";
  msg = test_util::error_of_call([&] { write_embedding_grid(dir + "/b.nc", bad_name); });
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(files_in(dir), 0u);
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  fs::remove_all(dir);
}
