// `tiles train-embedding` on synthetic LES triplets with a tiny encoder: the
// validation triplet loss falls over a few epochs, the model file holds the
// best epoch's weights and loads back, reruns skip, bad input fails on every
// rank. Runs at 1 and 2 ranks (data-parallel gradients).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "models/conv_encoder.hpp"
#include "models/encoder_file.hpp"
#include "support/mpi_test_util.hpp"
#include "tiles/meta.hpp"
#include "tiles/train_embedding.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {

const char* kMeta = R"(
source: LES
type: singlechannel__rlut
time: {t_start: 2020-02-02T12:00, t_end: 2020-02-02T13:00}
sampling:
  resolution: 200.0
  triplets: {N_triplets: {train: 48}, tile_N: 32, neigh_dist_scaling: 0.3}
seed: 5
synthetic_les: {nx: 128, ny: 128, nt: 7, dx: 200.0, variables: [rlut], files: 1}
)";

const char* kParams = R"(
base_width: 4
blocks: [1, 1]
head: linear
embedding_dims: 8
batch_size: 12
epochs: 8
learning_rate: 0.003
validation_fraction: 0.25
)";

void write(const std::string& path, const char* text) {
  if (test_util::world_rank() == 0) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

TEST(TilesTrainEmbedding, ValidationLossFallsAndTheBestModelIsWritten) {
  const std::string dir = test_util::shared_temp_dir("tiles_train_embedding");
  write(dir + "/meta.yaml", kMeta);
  write(dir + "/params.yaml", kParams);
  const Meta meta = load_meta(dir + "/meta.yaml");
  TrainEmbeddingOptions opt;
  opt.params_path = dir + "/params.yaml";
  const auto s = run_train_embedding(meta, opt, MPI_COMM_WORLD);
  EXPECT_FALSE(s.skipped);
  EXPECT_EQ(s.train_triplets, 36);
  EXPECT_EQ(s.valid_triplets, 12);
  ASSERT_EQ(s.valid_loss.size(), 8u);
  const double best = s.valid_loss[std::size_t(s.best_epoch)];
  EXPECT_GT(s.initial_valid_loss, 0.5);  // an untrained model's triplets are near the margin
  EXPECT_LT(best, 0.9 * s.initial_valid_loss) << "validation loss did not fall";
  EXPECT_GT(s.samples_per_s, 0.0);
  EXPECT_EQ(s.out_path, dir + "/embedding_models/triplet_encoder.h5");

  const auto file = fluxrecon::models::read_encoder_file(s.out_path);
  EXPECT_EQ(file.spec.base_width, 4);
  EXPECT_EQ(file.metadata.at("training").at("best_epoch"), s.best_epoch + 1);
  fluxrecon::models::ConvEncoder enc(file.spec);
  enc.load(file.weights, s.out_path);
  // BatchNorm running statistics were trained (no longer the initial 0 / 1).
  EXPECT_NE(file.weights.at("backbone.1.running_mean").values[0], 0.0f);
  EXPECT_GT(file.weights.at("backbone.1.num_batches_tracked").values[0], 0.0f);

  const auto again = run_train_embedding(meta, opt, MPI_COMM_WORLD);
  EXPECT_TRUE(again.skipped);
  // Other parameters: the complete model is stale and trained again.
  std::string shorter = kParams;
  shorter.replace(shorter.find("epochs: 8"), 9, "epochs: 1");
  write(dir + "/params.yaml", shorter.c_str());
  const auto other = run_train_embedding(meta, opt, MPI_COMM_WORLD);
  EXPECT_FALSE(other.skipped);
  EXPECT_TRUE(run_train_embedding(meta, opt, MPI_COMM_WORLD).skipped);
}

TEST(TilesTrainEmbedding, UnknownParamsKeyFailsOnEveryRank) {
  const std::string dir = test_util::shared_temp_dir("tiles_train_embedding_bad");
  write(dir + "/meta.yaml", kMeta);
  write(dir + "/params.yaml", "base_widht: 4\n");
  TrainEmbeddingOptions opt;
  opt.params_path = dir + "/params.yaml";
  EXPECT_THROW(run_train_embedding(load_meta(dir + "/meta.yaml"), opt, MPI_COMM_WORLD),
               fluxrecon::Error);
}
