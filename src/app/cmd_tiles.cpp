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

namespace fluxrecon::app {

void add_tiles_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string task, meta, data_path;
    tiles::TaskOptions options;
    bool describe = false;
    std::string model;        // embed
    std::string params, out;  // train-embedding
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tiles",
                                 "Tile datasets (convml-data style) from a meta.yaml: scene IDs, "
                                 "cropped and regridded scenes, "
                                 "triplet and sliding-window tiles, aux products");
  // Tasks of the embedding model (issue 17) besides the dataset tasks.
  static const std::vector<std::string> model_tasks = {"embed", "train-embedding"};
  std::vector<std::string> all_tasks = tiles::task_names();
  all_tasks.insert(all_tasks.end(), model_tasks.begin(), model_tasks.end());
  cmd->add_option("task", args->task,
                  "GenerateSceneIDs, CheckForAuxiliaryFiles, GenerateCroppedScenes, "
                  "GenerateRegriddedScenes, GenerateTiles, train-embedding or embed")
      ->check(CLI::IsMember(all_tasks));
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
                  "embed: the triplet embedding model file (.h5); outputs go to "
                  "D/embeddings/rect/<model file stem>/");
  cmd->add_option("--params", args->params,
                  "train-embedding: the model's YAML (architecture and training keys; "
                  "--describe-config with train-embedding lists them)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out,
                  "train-embedding: model file (default D/embedding_models/triplet_encoder.h5)");
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
