#include "tiles/train_embedding.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <random>
#include <regex>

#include "core/atomic_file.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "kernels/nn_conv.hpp"
#include "models/conv_encoder.hpp"
#include "models/encoder_config.hpp"
#include "models/encoder_file.hpp"
#include "tiles/dataset.hpp"
#include "tiles/png.hpp"
#include "tiles/tasks.hpp"
#include "train/adam.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

constexpr std::array<const char*, 3> kParts = {"anchor", "neighbor", "distant"};

struct Triplet {
  long long id = 0;
  std::array<DecodedPng, 3> tiles;  // anchor, neighbor, distant
};

// ImageTripletDataset (spec 8.1): {id:05d}_{anchor,neighbor,distant}.png,
// sorted by id; a triplet missing a part is an error.
std::vector<Triplet> read_triplets(const std::string& dir) {
  FR_REQUIRE(fs::is_directory(dir), "No train data was found in ", dir);
  static const std::regex name(R"((\d+)_(anchor|neighbor|distant)\.png)");
  std::map<long long, std::array<std::string, 3>> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (!std::regex_match(f, m, name)) continue;
    const auto part = std::find(kParts.begin(), kParts.end(), m[2].str()) - kParts.begin();
    files[std::stoll(m[1].str())][std::size_t(part)] = e.path().string();
  }
  FR_REQUIRE(!files.empty(), "No train data was found in ", dir);
  std::vector<Triplet> out;
  int size = -1;
  for (const auto& [id, paths] : files) {
    Triplet t;
    t.id = id;
    for (std::size_t k = 0; k < 3; ++k) {
      FR_REQUIRE(!paths[k].empty(), "Some triplets don't have all three tiles: triplet ", id,
                 " in ", dir, " has no ", kParts[k], " tile");
      t.tiles[k] = read_png(paths[k]);
      const auto& png = t.tiles[k];
      FR_REQUIRE(png.width == png.height && (png.channels == 3 || png.channels == 4), paths[k],
                 ": expected a square RGB(A) tile, found ", png.width, " x ", png.height, " x ",
                 png.channels);
      if (size < 0) size = png.width;
      FR_REQUIRE(png.width == size, paths[k], ": tile of ", png.width, " pixels, others have ",
                 size);
    }
    out.push_back(std::move(t));
  }
  return out;
}

// Normalised (n, 3, N, N) inputs of one part of `batch`; random horizontal
// and vertical flips (p 0.5 each, per tile) when `rng` is given.
void batch_inputs(const std::vector<const Triplet*>& batch, std::size_t part, std::mt19937_64* rng,
                  std::vector<float>& x) {
  const int N = batch.front()->tiles[part].width;
  const std::size_t plane = std::size_t(N) * N;
  x.resize(batch.size() * 3 * plane);
  std::vector<float> tile(3 * plane);
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const auto& png = batch[s]->tiles[part];
    float* out = x.data() + s * 3 * plane;
    models::normalise_window(png.pixels.data(), png.width, png.channels, 0, 0, N, N, out);
    if (!rng) continue;
    const bool flip_x = (*rng)() & 1, flip_y = (*rng)() & 1;
    if (!flip_x && !flip_y) continue;
    std::copy(out, out + 3 * plane, tile.begin());
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < N; ++j)
        for (int i = 0; i < N; ++i)
          out[c * plane + std::size_t(j) * N + i] =
              tile[c * plane + std::size_t(flip_y ? N - 1 - j : j) * N + (flip_x ? N - 1 - i : i)];
  }
}

}  // namespace

std::string default_embedding_model_path(const Meta& meta) {
  return meta.data_path + "/embedding_models/triplet_encoder.h5";
}

TrainEmbeddingSummary run_train_embedding(const Meta& meta, const TrainEmbeddingOptions& opt,
                                          MPI_Comm comm) {
  TrainEmbeddingSummary summary;
  summary.out_path = opt.out_path.empty() ? default_embedding_model_path(meta) : opt.out_path;
  const int rank = mpi::rank(comm), ranks = mpi::size(comm);
  config::Config cfg = config::Config::from_text("{}", models::encoder_schema(), "defaults");
  all_ranks_agree(comm, [&] {
    if (!opt.params_path.empty())
      cfg = config::Config::load(opt.params_path, models::encoder_schema());
  });
  const auto spec = models::encoder_spec(cfg);
  const auto train = models::embedding_training(cfg);
  if (output_complete(summary.out_path, comm)) {
    // A complete model trained with other parameters is stale.
    std::string previous;
    all_ranks_agree(comm, [&] {
      if (rank != 0) return;
      const auto file = models::read_encoder_file(summary.out_path);
      previous = file.metadata.value("training", nlohmann::json::object()).value("params", "");
    });
    previous = mpi::broadcast(previous, 0, comm);
    if (previous == cfg.to_yaml()) {
      summary.skipped = true;
      return summary;
    }
    log::info("tiles: train-embedding: ", summary.out_path,
              " was trained with other parameters: training it again");
  }
  FR_REQUIRE(spec.input_channels == 3,
             "train-embedding: the triplet tiles are RGB, so "
             "input_channels must be 3, not ",
             spec.input_channels);
  run_task("GenerateTiles", meta, TaskOptions{}, comm);  // the triplets, where missing
  std::vector<Triplet> triplets;
  all_ranks_agree(comm, [&] { triplets = read_triplets(tile_dir(meta, "", "train")); });

  // Seeded 90/10 split (random_split), the same on every rank.
  std::vector<std::size_t> order(triplets.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(train.seed));
  const std::size_t n_train =
      static_cast<std::size_t>(double(order.size()) * (1.0 - train.validation_fraction));
  const std::vector<std::size_t> train_ids(order.begin(), order.begin() + std::ptrdiff_t(n_train));
  const std::vector<std::size_t> valid_ids(order.begin() + std::ptrdiff_t(n_train), order.end());
  summary.train_triplets = static_cast<long long>(train_ids.size());
  summary.valid_triplets = static_cast<long long>(valid_ids.size());
  // Every rank's slice of a global batch holds `local` triplets (BatchNorm
  // needs 2 or more); the last partial global batch is dropped.
  const std::size_t local =
      std::min<std::size_t>(std::size_t(train.batch_size), train_ids.size() / std::size_t(ranks));
  FR_REQUIRE(local >= 2, "train-embedding: ", train_ids.size(), " training triplets on ", ranks,
             " rank(s) leave fewer than 2 per rank and batch; make more triplets (N_triplets "
             "train) or use fewer ranks");
  const std::size_t steps = train_ids.size() / (local * std::size_t(ranks));

  models::ConvEncoder enc(spec);
  enc.initialise(train.seed);
  auto& params = enc.parameters();
  const std::size_t n_params = params.values().size();
  train::Adam adam(n_params, train.learning_rate, train.weight_decay);
  const int dims = spec.embedding_dims;
  std::vector<float> best_values = params.values(), best_buffers = enc.buffers().values();
  double best = std::numeric_limits<double>::infinity();
  std::array<models::EncoderTape, 3> tapes;
  std::array<std::vector<float>, 3> x, y, dy;
  // Validation: triplet i on rank i mod P, inference mode; the training
  // loss of the epoch where there are no validation triplets.
  auto validation_loss = [&] {
    double valid[2] = {0.0, 0.0};
    for (std::size_t i = std::size_t(rank); i < valid_ids.size(); i += std::size_t(ranks)) {
      const std::vector<const Triplet*> one = {&triplets[valid_ids[i]]};
      const int N = one.front()->tiles[0].width;
      for (std::size_t part = 0; part < 3; ++part) {
        batch_inputs(one, part, nullptr, x[part]);
        y[part].resize(dims);
        dy[part].resize(dims);
        enc.embed(x[part].data(), 1, N, N, y[part].data());
      }
      valid[0] +=
          kernels::conv::triplet_loss(y[0].data(), y[1].data(), y[2].data(), 1, dims, train.margin,
                                      dy[0].data(), dy[1].data(), dy[2].data());
      valid[1] += 1.0;
    }
    MPI_Allreduce(MPI_IN_PLACE, valid, 2, MPI_DOUBLE, MPI_SUM, comm);
    return valid[1] > 0 ? valid[0] / valid[1]
                        : (summary.train_loss.empty() ? 0.0 : summary.train_loss.back());
  };
  summary.initial_valid_loss = validation_loss();
  Progress progress("tiles: train-embedding", train.epochs, "epochs");
  const double t0 = wall_seconds();
  for (int epoch = 0; epoch < train.epochs; ++epoch) {
    std::vector<std::size_t> shuffled = train_ids;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(train.seed + 1 + epoch));
    std::mt19937_64 rng(train.seed * 7919 + std::uint64_t(epoch) * 104729 + std::uint64_t(rank));
    double loss_sum = 0.0;
    for (std::size_t step = 0; step < steps; ++step) {
      std::vector<const Triplet*> batch;
      for (std::size_t k = 0; k < local; ++k)
        batch.push_back(&triplets[shuffled[(step * ranks + std::size_t(rank)) * local + k]]);
      params.zero_grads();
      const int n = static_cast<int>(local), N = batch.front()->tiles[0].width;
      for (std::size_t part = 0; part < 3; ++part) {
        batch_inputs(batch, part, train.flips ? &rng : nullptr, x[part]);
        y[part].resize(local * dims);
        dy[part].resize(local * dims);
        enc.forward_training(x[part].data(), n, N, N, true, rng, tapes[part], y[part].data());
      }
      const double loss =
          kernels::conv::triplet_loss(y[0].data(), y[1].data(), y[2].data(), n, dims, train.margin,
                                      dy[0].data(), dy[1].data(), dy[2].data());
      for (std::size_t part = 0; part < 3; ++part) enc.backward(tapes[part], dy[part].data());
      // Gradients and the loss in one exchange (the spare tail of the buffer).
      auto& grads = params.grads();
      grads[n_params] = static_cast<float>(loss);
      MPI_Allreduce(MPI_IN_PLACE, grads.data(), static_cast<int>(n_params + 1), MPI_FLOAT, MPI_SUM,
                    comm);
      loss_sum += grads[n_params] / ranks;
      adam.step(params.values().data(), grads.data(), 1.0f / float(ranks));
      params.touch();
    }
    // Rank 0's running statistics everywhere (DDP's broadcast_buffers).
    auto& buffers = enc.buffers().values();
    MPI_Bcast(buffers.data(), static_cast<int>(buffers.size()), MPI_FLOAT, 0, comm);
    enc.buffers().touch();
    summary.train_loss.push_back(steps ? loss_sum / double(steps) : 0.0);

    const double valid_loss = validation_loss();
    summary.valid_loss.push_back(valid_loss);
    if (valid_loss < best) {
      best = valid_loss;
      summary.best_epoch = epoch;
      best_values = params.values();
      best_buffers = enc.buffers().values();
    }
    log::info("tiles: train-embedding epoch ", epoch + 1, "/", train.epochs, ": train loss ",
              summary.train_loss.back(), ", validation loss ", valid_loss);
    progress.advance(1);
  }
  progress.finish();
  summary.seconds = mpi::max(wall_seconds() - t0, comm);
  summary.samples_per_s = summary.seconds > 0 ? double(steps * local * std::size_t(ranks)) *
                                                    train.epochs / summary.seconds
                                              : 0.0;
  params.values() = best_values;
  params.touch();
  enc.buffers().values() = best_buffers;
  enc.buffers().touch();
  all_ranks_agree(comm, [&] {
    if (rank != 0) return;
    nlohmann::json meta_json = {{"training",
                                 {{"train_triplets", summary.train_triplets},
                                  {"valid_triplets", summary.valid_triplets},
                                  {"train_loss", summary.train_loss},
                                  {"valid_loss", summary.valid_loss},
                                  {"best_epoch", summary.best_epoch + 1},
                                  {"ranks", ranks},
                                  {"tile_N", triplets.front().tiles[0].width},
                                  {"triplets_dir", tile_dir(meta, "", "train")},
                                  {"params", cfg.to_yaml()}}}};
    ensure_directory(fs::path(summary.out_path).parent_path().string());
    models::write_encoder_file(summary.out_path, {spec, enc.state_dict(), meta_json});
  });
  return summary;
}

}  // namespace fluxrecon::tiles
