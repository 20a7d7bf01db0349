// `tiles embed` on a synthetic LES dataset with a tiny random encoder: the
// per-scene files are the same for 1 and 2 ranks, every window sits where
// spec 8.3 puts it (centre pixel, x, y from the regridded grid, y ascending
// north), its embedding is the encoder's of that window, and reruns skip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.hpp"
#include "models/conv_encoder.hpp"
#include "models/encoder_file.hpp"
#include "support/mpi_test_util.hpp"
#include "support/tiles_test_util.hpp"
#include "tiles/dataset.hpp"
#include "tiles/embed.hpp"
#include "tiles/meta.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;
namespace models = fluxrecon::models;

namespace {

const char* kMeta = R"(
source: LES
type: singlechannel__rlut
time: {t_start: 2020-02-02T12:00, t_end: 2020-02-02T12:30}
sampling:
  resolution: 200.0
  rect-slidingwindow: {tile_N: 32, step_size: 30}
seed: 5
synthetic_les: {nx: 96, ny: 80, nt: 4, dx: 200.0, variables: [rlut], files: 1}
)";

models::EncoderSpec tiny_spec() {
  models::EncoderSpec s;
  s.base_width = 2;
  s.blocks = {1, 1};
  s.head_hidden = 16;
  s.embedding_dims = 6;
  return s;
}

std::string make_model(const std::string& dir) {
  const std::string path = dir + "/tiny_encoder.h5";
  if (test_util::world_rank() == 0) {
    models::ConvEncoder enc(tiny_spec());
    enc.initialise(11);
    // Running statistics that keep the activations in range (a head whose
    // ReLU zeroes everything would give every window the same embedding).
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> u(0.5f, 1.5f);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    auto& buf = enc.buffers();
    for (std::size_t id = 0; id < buf.count(); ++id) {
      const bool var = buf.name(id).find("running_var") != std::string::npos;
      for (std::size_t i = 0; i < buf.size(id); ++i) buf.value(id)[i] = var ? u(rng) : normal(rng);
    }
    models::write_encoder_file(path, {tiny_spec(), enc.state_dict(), {}});
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

}  // namespace

TEST(TilesEmbed, SameOnAnyRankCountPlacedAsTheSpecAndRerunsSkip) {
  const std::string dir = test_util::shared_temp_dir("tiles_embed");
  const std::string model = make_model(dir);
  test_util::write_tiles_meta(dir + "/world", kMeta);
  test_util::write_tiles_meta(dir + "/one", kMeta);
  EmbedOptions opt;
  opt.model_path = model;
  opt.batch_size = 5;  // batches that end mid-row
  const Meta world = load_meta(dir + "/world/meta.yaml");
  const auto s = run_embed(world, opt, MPI_COMM_WORLD);
  EXPECT_EQ(s.scenes, 4);
  EXPECT_EQ(s.written, 4);
  // About 96 x 80 pixels, tile 32, step 30: 3 x 2 windows.
  EXPECT_EQ(s.tiles, 4 * 6);
  const Meta one = load_meta(dir + "/one/meta.yaml");
  if (test_util::world_rank() == 0) run_embed(one, opt, MPI_COMM_SELF);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto again = run_embed(world, opt, MPI_COMM_WORLD);
  EXPECT_EQ(again.written, 0);
  EXPECT_EQ(again.skipped, 4);
  if (test_util::world_rank() != 0) return;

  models::ConvEncoder enc(tiny_spec());
  enc.load(models::read_encoder_file(model).weights, model);
  for (const auto& scene : read_scene_db(scene_db_path(world))) {
    const auto a = read_embedding_grid(embedding_path(world, model, scene.scene_id, 30));
    const auto b = read_embedding_grid(embedding_path(one, model, scene.scene_id, 30));
    EXPECT_EQ(a.values, b.values);
    EXPECT_EQ(a.x, b.x);
    EXPECT_EQ(a.y, b.y);
    EXPECT_EQ(a.scene_id, scene.scene_id);
    ASSERT_EQ(a.dims, 6);
    EXPECT_EQ(a.i0, (std::vector<int>{16, 46, 76}));
    EXPECT_EQ(a.j0, (std::vector<int>{46, 16}));  // y ascending north: lower window first
    EXPECT_EQ(a.attributes.at("step_size"), "30");
    const auto field = read_gridded(rect_path(world, primary_product(world), scene.scene_id, "nc"));
    const auto image = read_png(rect_path(world, primary_product(world), scene.scene_id, "png"));
    ASSERT_EQ(a.x.size(), std::size_t(sliding_window_count(field.nx(), 32, 30)));
    ASSERT_EQ(a.y.size(), std::size_t(sliding_window_count(field.ny(), 32, 30)));
    for (std::size_t k = 0; k < a.y.size(); ++k)
      EXPECT_DOUBLE_EQ(a.y[k], field.y[std::size_t(field.ny() - 1 - a.j0[k])]);
    EXPECT_GT(a.y[1], a.y[0]);
    for (std::size_t i = 0; i < a.x.size(); ++i) EXPECT_DOUBLE_EQ(a.x[i], field.x[a.i0[i]]);
    // The window whose centre is column 46, row 16 from the top (top-left 30, 0).
    std::vector<float> x(3 * 32 * 32), y(6);
    models::normalise_window(image.pixels.data(), image.width, image.channels, 30, 0, 32, 32,
                             x.data());
    enc.embed(x.data(), 1, 32, 32, y.data());
    for (int d = 0; d < 6; ++d) EXPECT_NEAR(a.values[(std::size_t(d) * 2 + 1) * 3 + 1], y[d], 1e-5);
    // Windows differ (a test that cannot tell them apart checks nothing).
    EXPECT_NE(a.values[0], a.values[1]);
    EXPECT_NE(a.values[1], a.values[4]);
  }
}

TEST(TilesEmbed, MissingModelFailsOnEveryRank) {
  const std::string dir = test_util::shared_temp_dir("tiles_embed_bad");
  test_util::write_tiles_meta(dir, kMeta);
  EmbedOptions opt;
  opt.model_path = dir + "/no_such_model.h5";
  EXPECT_THROW(run_embed(load_meta(dir + "/meta.yaml"), opt, MPI_COMM_WORLD), fluxrecon::Error);
}
