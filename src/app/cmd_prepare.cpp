// `fluxrecon prepare`: training, validation and test sets from a dataset YAML.
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"

namespace fluxrecon::app {

void add_prepare_command(CLI::App& app, std::function<void()>& run) {
  struct Args {
    std::string config, out, data_dir;
    bool force = false, describe = false;
    std::vector<std::string> only;
    std::int64_t write_chunk = data::PrepareOptions{}.chunk_samples;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "prepare",
      "Prepare training, validation and per-year test sets (HDF5 sample stores) from a "
      "dataset description (inputs/*.yaml)");
  // Required unless --describe-config: checked when the command runs.
  cmd->add_option("--config", args->config, "REQUIRED: dataset description YAML")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "REQUIRED: output directory");
  cmd->add_option("--data-dir", args->data_dir,
                  "folder of the input files (overrides dataset.directory)");
  cmd->add_flag("--force", args->force, "redo outputs that are already complete");
  cmd->add_option("--only", args->only, "sets to prepare: train, validation, test (default all)")
      ->check(CLI::IsMember({"train", "validation", "test"}));
  cmd->add_option("--write-chunk", args->write_chunk,
                  "samples per rank per sample-store write (memory vs number of writes)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 26));
  cmd->add_flag("--describe-config", args->describe,
                "print every dataset key with its default and exit");
  run = [args] {
    if (args->describe) {
      if (mpi::rank() == 0) std::printf("%s", config::document(data::dataset_schema()).c_str());
      return;
    }
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(!args->config.empty(), "prepare: --config is required (the dataset YAML)");
    });
    all_ranks_agree(MPI_COMM_WORLD, [&] {
      FR_REQUIRE(!args->out.empty(), "prepare: --out is required (the output folder)");
    });
    config::Config cfg = config::Config::from_text("{}", config::Schema(), "");
    all_ranks_agree(MPI_COMM_WORLD,
                    [&] { cfg = config::Config::load(args->config, data::dataset_schema()); });
    data::PrepareOptions opt;
    opt.out_dir = args->out;
    opt.data_dir = args->data_dir;
    opt.force = args->force;
    opt.chunk_samples = args->write_chunk;
    if (!args->only.empty()) {
      auto has = [&](const char* s) {
        return std::find(args->only.begin(), args->only.end(), s) != args->only.end();
      };
      opt.train = has("train");
      opt.validation = has("validation");
      opt.test = has("test");
    }
    log::info("prepare: dataset ", args->config, " -> ", args->out, " on ", mpi::size(),
              " rank(s)");
    const auto s = data::prepare(cfg, opt, MPI_COMM_WORLD);
    log::summary(data::prepare_summary_line(s, args->out));
  };
}

}  // namespace fluxrecon::app
