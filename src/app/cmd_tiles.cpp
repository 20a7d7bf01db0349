// `fluxrecon tiles`: scene and triplet-tile datasets from one meta.yaml
// (convml-data style tasks).
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "models/encoder_config.hpp"
#include "tiles/embed.hpp"
#include "tiles/meta.hpp"
#include "tiles/tasks.hpp"
#include "tiles/train_embedding.hpp"
#include "tiles/transform.hpp"

namespace fluxrecon::app {

void add_tiles_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string task, meta, data_path;
    tiles::TaskOptions options;
    tiles::TransformOptions transform;  // task transform
    bool describe = false;
    std::string model;        // embed
    std::string params, out;  // train-embedding
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tiles",
                                 "Tile datasets (convml-data style) from a meta.yaml: scene IDs, "
                                 "cropped and regridded scenes, "
                                 "triplet and sliding-window tiles, aux products");
  cmd->add_option("task", args->task,
                  "GenerateSceneIDs, CheckForAuxiliaryFiles, GenerateCroppedScenes, "
                  "GenerateRegriddedScenes, GenerateTiles, flow, train-embedding, embed or "
                  "transform")
      ->check(CLI::IsMember([] {  // by value: IsMember keeps a pointer to an lvalue
        auto names = tiles::task_names();
        for (const char* t : {"train-embedding", "embed", "transform"}) names.push_back(t);
        return names;
      }()));
  cmd->add_option("--meta", args->meta, "the dataset's meta.yaml")->check(CLI::ExistingFile);
  cmd->add_option(
      "--data-path", args->data_path,
      "dataset root for source_data/ and all outputs (default: the folder of meta.yaml)");
  cmd->add_option("--aux-name", args->options.aux_name, "work on this aux product of aux_products");
  cmd->add_option("--tiles-kind", args->options.tiles_kind,
                  "GenerateTiles: triplets or rect-slidingwindow")
      ->check(CLI::IsMember({"triplets", "rect-slidingwindow"}));
  cmd->add_option("--step-size", args->options.step_size,
                  "rect-slidingwindow: step between tiles in pixels (overrides meta.yaml)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--scene-filter", args->options.scene_filter,
                  "only scenes whose id matches this regular expression from its start");
  cmd->add_option("--model", args->model,
                  "embed, transform: the triplet embedding model file (.h5); embeddings go to "
                  "(and transform reads them from) D/embeddings/rect/<model file stem>/");
  cmd->add_option("--params", args->params,
                  "train-embedding: the model's YAML (architecture and training keys; "
                  "--describe-config with train-embedding lists them)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out,
                  "train-embedding: model file (default D/embedding_models/triplet_encoder.h5)");
  // transform (PCA of the sliding-window embeddings).
  cmd->add_option("--transform-type", args->transform.transform_type, "transform: pca");
  cmd->add_option("--embeddings", args->transform.embeddings_dir,
                  "transform: the folder of the embedding files (instead of --model)");
  cmd->add_option("--n-components", args->transform.n_components,
                  "transform: components kept (default all: min(windows, dims))")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--pretrained-transform-model", args->transform.pretrained_model,
                  "transform: apply this saved model instead of fitting one");
  // Task `flow`: optical-flow trajectories (spec 8.5).
  {
    auto& f = args->options.flow;
    cmd->add_option("--max-corners", f.max_corners, "flow: at most this many seed points")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--min-distance", f.min_distance, "flow: pixels between seed points")
        ->check(CLI::Range(0.0, 1e6));
    cmd->add_option("--min-corners", f.min_corners,
                    "flow: seed from the first image of a day with this many corners")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--quality-level", f.quality_level,
                    "flow: corners weaker than this fraction of the best are rejected")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--flow-window", f.window, "flow: Lucas-Kanade window (pixels)")
        ->check(CLI::Range(3, 1001));
    cmd->add_option("--flow-levels", f.levels, "flow: pyramid levels above the image")
        ->check(CLI::Range(0, 7));
    cmd->add_option("--flow-iterations", f.iterations, "flow: Lucas-Kanade steps per level")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--min-eig-threshold", f.min_eig_threshold,
                    "flow: a point whose window's gradient matrix has a smaller eigenvalue "
                    "(per pixel, OpenCV's scaling) is lost")
        ->check(CLI::Range(0.0, 1e9));
    cmd->add_option_function<std::string>(
           "--flow-model",
           [args](const std::string& m) { args->options.flow.affine = m == "affine"; },
           "flow: window warp, affine (default; exact for small rotations) or translation "
           "(OpenCV's)")
        ->check(CLI::IsMember({"affine", "translation"}));
    cmd->add_option("--flow-field-step", f.field_step,
                    "flow: the dense flow field's grid spacing in pixels (0: no field)")
        ->check(CLI::Range(0, 65536));
    cmd->add_flag_function(
        "--no-frames", [args](std::int64_t) { args->options.flow.frames = false; },
        "flow: do not draw the PNG frames");
  }
  cmd->add_flag("--describe-config", args->describe,
                "print every meta.yaml key with its default and exit");
  run = [args] {
    if (args->describe && args->task == "train-embedding") {
      if (mpi::rank() == 0) std::printf("%s", config::document(models::encoder_schema()).c_str());
      return;
    }
    if (args->describe) {
      if (mpi::rank() == 0)
        std::printf("%s", config::document(tiles::meta_schema("meta.yaml")).c_str());
      return;
    }
    FR_REQUIRE(
        !args->task.empty(), "tiles: give a task (",
        [] {
          std::string s;
          for (const auto& t : tiles::task_names()) s += (s.empty() ? "" : ", ") + t;
          return s;
        }(),
        ")");
    all_ranks_agree(MPI_COMM_WORLD,
                    [&] { FR_REQUIRE(!args->meta.empty(), "tiles: --meta is required"); });
    tiles::Meta meta;
    all_ranks_agree(MPI_COMM_WORLD, [&] { meta = tiles::load_meta(args->meta, args->data_path); });
    log::info("tiles: ", args->task,
              args->options.aux_name.empty() ? "" : " --aux-name " + args->options.aux_name,
              " for ", meta.source, " ", meta.product.text, " in ", meta.data_path, " on ",
              mpi::size(), " rank(s)");
    if (args->task == "transform") {
      args->transform.model = args->model;
      args->transform.step_size = args->options.step_size;
      args->transform.scene_filter = args->options.scene_filter;
      const auto t = tiles::run_transform(meta, args->transform, MPI_COMM_WORLD);
      log::summary("tiles: transform ", args->transform.transform_type, " done: ", t.scenes,
                   " scene(s), ", t.written, " written, ", t.skipped, " already complete, ",
                   t.windows, " window(s) of ", t.dims, " dims to ", t.components,
                   " components; model ", t.model_path, t.fitted ? " (fitted in " : " (applied",
                   t.fitted ? log::seconds(t.fit_seconds) + ")" : ")", "; applied in ",
                   log::seconds(t.apply_seconds), ", total ", log::seconds(t.seconds), " (",
                   static_cast<long long>(t.seconds > 0 ? t.windows / t.seconds : 0),
                   " windows/s)");
      return;
    }
    if (args->task == "train-embedding") {
      tiles::TrainEmbeddingOptions opt;
      opt.params_path = args->params;
      opt.out_path = args->out;
      const auto s = tiles::run_train_embedding(meta, opt, MPI_COMM_WORLD);
      if (s.skipped) {
        log::summary("tiles: train-embedding: ", s.out_path, " is already complete");
        return;
      }
      log::summary("tiles: train-embedding done: ", s.out_path, " (best epoch ", s.best_epoch + 1,
                   ", validation loss ", s.valid_loss.empty() ? 0.0 : s.valid_loss[s.best_epoch],
                   "), ", s.train_triplets, " training and ", s.valid_triplets,
                   " validation triplets, ", s.valid_loss.size(), " epoch(s) in ",
                   log::seconds(s.seconds), " (", static_cast<long long>(s.samples_per_s),
                   " triplets/s)");
      return;
    }
    if (args->task == "embed") {
      tiles::EmbedOptions opt;
      opt.model_path = args->model;
      opt.step_size = args->options.step_size;
      opt.scene_filter = args->options.scene_filter;
      const auto s = tiles::run_embed(meta, opt, MPI_COMM_WORLD);
      log::summary("tiles: embed done: ", s.scenes, " scene(s), ", s.written, " written, ",
                   s.skipped, " already complete, ", s.tiles, " window(s) embedded in ",
                   log::seconds(s.seconds), " (",
                   static_cast<long long>(s.seconds > 0 ? s.tiles / s.seconds : 0), " windows/s)");
      return;
    }
    const auto s = tiles::run_task(args->task, meta, args->options, MPI_COMM_WORLD);
    if (s.task == "flow") {
      log::summary(
          "tiles: flow done: ", s.groups, " day(s) of ", s.scenes, " scene(s), ", s.written,
          " written, ", s.skipped, " already complete, ", s.pairs, " image pair(s), ",
          s.points_tracked, " point(s) tracked in ", log::seconds(s.seconds), " (",
          static_cast<long long>(s.track_seconds > 0 ? s.points_tracked / s.track_seconds : 0),
          " points/s, ",
          s.pairs > 0 ? static_cast<long long>(s.track_seconds / s.pairs * 1e4) / 10.0 : 0.0,
          " ms per pair in the tracker)");
      return;
    }
    log::summary(
        "tiles: ", s.task, " done: ", s.scenes, " scene(s), ", s.written, " written, ", s.skipped,
        " already complete, ", s.tiles, " tile(s), ",
        static_cast<long long>(s.megapixels * 1e3) / 1e3, " Mpixel regridded in ",
        log::seconds(s.seconds), " (",
        static_cast<long long>(s.seconds > 0 ? s.tiles / s.seconds : 0), " tiles/s, ",
        s.seconds > 0 ? static_cast<long long>(s.megapixels / s.seconds * 100) / 100.0 : 0.0,
        " Mpixel/s)");
  };
}

}  // namespace fluxrecon::app
