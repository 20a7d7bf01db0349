#include "train/nn_trainer.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/progress.hpp"
#include "core/stall_watchdog.hpp"
#include "core/timer.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "io/sample_store.hpp"
#include "models/model_file.hpp"
#include "models/nn_config.hpp"
#include "models/nn_inference.hpp"
#include "models/registry.hpp"
#include "train/adam.hpp"
#include "train/loss_curve.hpp"

namespace fluxrecon::train {
namespace fs = std::filesystem;
using json = nlohmann::json;
using models::Network;

namespace {

// Everything the epoch loop carries, which a checkpoint saves.
struct TrainingState {
  int epoch = 0;  // epochs completed
  int best_epoch = 0, bad_epochs = 0;
  double best_mse = std::numeric_limits<double>::infinity();
  std::vector<float> best_values;
  std::vector<EpochRecord> history;
  // ReduceLROnPlateau's own record: PyTorch's relative threshold 1e-4 makes
  // it stricter than early stopping's "lower".
  double learning_rate = 0, plateau_best = std::numeric_limits<double>::infinity();
  int plateau_bad_epochs = 0;
};

// PyTorch's ReduceLROnPlateau(mode "min", threshold 1e-4 relative, cooldown 0)
// after an epoch with validation MSE `mse`; returns whether it lowered the rate.
bool reduce_on_plateau(TrainingState& state, double mse, const models::TrainingSettings& s) {
  if (mse < state.plateau_best * (1.0 - 1e-4)) {
    state.plateau_best = mse;
    state.plateau_bad_epochs = 0;
    return false;
  }
  if (s.lr_plateau_factor >= 1.0 || ++state.plateau_bad_epochs <= s.lr_plateau_patience)
    return false;
  state.plateau_bad_epochs = 0;
  const double lowered = std::max(state.learning_rate * s.lr_plateau_factor, s.min_learning_rate);
  // PyTorch's eps: a change below 1e-8 is not made.
  if (state.learning_rate - lowered <= 1e-8) return false;
  state.learning_rate = lowered;
  return true;
}

json history_json(const std::vector<EpochRecord>& history) {
  json h = json::array();
  for (const auto& e : history)
    h.push_back({e.epoch, e.train_mse, e.validation_mse, e.seconds, e.samples_per_second,
                 e.compute_seconds, e.communication_seconds, e.inference_samples_per_second,
                 e.learning_rate});
  return h;
}

// A model configuration (YAML text) in a canonical form (no comments),
// optionally without the epoch budget: a run may be resumed with more (or
// fewer) epochs, nothing else may change.
std::string canonical_config(const std::string& yaml_text, bool without_epochs) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml_text);
  } catch (const YAML::Exception&) {  // a damaged _config.yaml: the model is stale
    return "(unreadable) " + yaml_text;
  }
  if (without_epochs && node.IsMap()) node.remove("epochs");
  YAML::Emitter out;
  out << node;
  return out.c_str();
}
std::string config_except_epochs(const std::string& yaml_text) {
  return canonical_config(yaml_text, true);
}

// What to do with a complete model whose <model>_config.yaml is `previous`
// ("" when there is none) when training with `params`.
enum class PreviousModel { reuse, retrain, extend };
PreviousModel judge_previous(const std::string& previous, const std::string& params, bool resume,
                             const std::string& name, const std::string& model_path) {
  if (previous.empty() || canonical_config(previous, false) == canonical_config(params, false))
    return PreviousModel::reuse;
  if (config_except_epochs(previous) != config_except_epochs(params)) {
    log::info("train ", name, ": ", model_path,
              " was trained with other parameters (its _config.yaml): training it again");
    return PreviousModel::retrain;
  }
  if (resume) {
    log::info("train ", name, ": ", model_path,
              " was trained for another number of epochs: continuing from its checkpoint (if any)");
    return PreviousModel::extend;
  }
  log::info("train ", name, ": ", model_path,
            " was trained for another number of epochs: training it again (--resume continues "
            "it from its checkpoint instead)");
  return PreviousModel::retrain;
}

std::vector<EpochRecord> history_from(const json& h) {
  std::vector<EpochRecord> out;
  for (const auto& e : h)
    out.push_back({e[0].get<int>(), e[1].get<double>(), e[2].get<double>(), e[3].get<double>(),
                   e[4].get<double>(), e[5].get<double>(), e[6].get<double>(), e[7].get<double>(),
                   e.size() > 8 ? e[8].get<double>() : 0.0});
  return out;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  // splitmix64 of a combined key: independent streams per (seed, epoch, rank).
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E5Full;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Sum of squared errors of `net` on a shard, predicted by the Kokkos
// inference kernels that reconstruct uses (faster than the oneDNN forward,
// equal within float32 rounding), so the reported validation MSE is that of
// the model file as reconstruct will apply it.
double squared_error(const Network& net, const io::SampleBlock& block, int batch) {
  const models::NnInference kernels(net.spec(), net.parameters().state_dict(),
                                    static_cast<std::size_t>(batch));
  std::vector<float> pred(static_cast<std::size_t>(block.size()));
  kernels.predict(block.features.data(), pred.size(), pred.data());
  double sse = 0.0;
  for (std::int64_t i = 0; i < block.size(); ++i) {
    const double e = double(pred[i]) - block.target[i];
    sse += e * e;
  }
  return sse;
}

void validate_stores(const io::SampleShard& train, const io::SampleShard& valid,
                     const std::string& dir) {
  data::dynamic_feature_count(train.feature_names, dir + "/train.h5");
  FR_REQUIRE(
      valid.feature_names == train.feature_names, dir,
      ": train.h5 and validation.h5 differ in feature order: ", json(train.feature_names).dump(),
      " and ", json(valid.feature_names).dump(), "; prepare both together");
  FR_REQUIRE(valid.window == train.window, dir, ": validation.h5 has windows of ", valid.window,
             " months but train.h5 of ", train.window);
  FR_REQUIRE(valid.norm.feature_mean == train.norm.feature_mean &&
                 valid.norm.target_std == train.norm.target_std,
             dir,
             ": validation.h5 was normalised with other statistics than train.h5; prepare both "
             "together");
  FR_REQUIRE(train.total > 0 && valid.total > 0, dir, ": empty sample store");
}

// CPU time of this process: against the wall time it tells computing from
// waiting for a core (a shared machine) or for the other ranks.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Where a training step's time goes, summed over the epoch's steps.
struct StepPhases {
  static constexpr int kCount = 5;
  double seconds[kCount] = {};
  double compute_cpu = 0, allreduce_cpu = 0;
  void add(double gather, double forward, double backward, double allreduce, double update) {
    const double s[kCount] = {gather, forward, backward, allreduce, update};
    for (int i = 0; i < kCount; ++i) seconds[i] += s[i];
  }
  // Collective.
  std::string text(std::int64_t steps, MPI_Comm comm) const {
    static const char* names[kCount] = {"batch", "forward", "backward", "allreduce", "update"};
    const double per_step = 1e3 / double(std::max<std::int64_t>(steps, 1));
    std::ostringstream out;
    out.precision(3);
    out << std::fixed;
    for (int i = 0; i < kCount; ++i)
      out << (i ? ", " : "") << names[i] << " " << per_step * mpi::max(seconds[i], comm);
    const double wall = seconds[0] + seconds[1] + seconds[2] + seconds[4];
    out << "; CPU time: compute " << per_step * mpi::max(compute_cpu, comm) << " of "
        << per_step * mpi::max(wall, comm) << " wall, allreduce "
        << per_step * mpi::max(allreduce_cpu, comm);
    return out.str();
  }
};
// What decided the stores' content (recorded by prepare), to tell whether a
// checkpoint was written for these samples.
json samples_selection(const io::SampleShard& train, const io::SampleShard& valid) {
  return json::array({io::store_selection(train.metadata), io::store_selection(valid.metadata)});
}

}  // namespace

std::vector<float> predict_batched(Network& net, const float* windows, std::int64_t n, int batch) {
  std::vector<float> out(static_cast<std::size_t>(n));
  const std::size_t width = std::size_t(net.spec().window) * net.spec().n_features;
  for (std::int64_t i = 0; i < n; i += batch) {
    const int b = static_cast<int>(std::min<std::int64_t>(batch, n - i));
    net.forward(windows + i * width, b, false, out.data() + i);
  }
  return out;
}

NeuralTrainResult train_network(models::NetworkKind kind, const config::Config& params,
                                const NeuralTrainOptions& opt, MPI_Comm comm) {
  const double start = wall_seconds();
  const std::string name = models::kind_name(kind);
  NeuralTrainResult r;
  r.model_path = (fs::path(opt.out_dir) / models::model_file_name(name)).string();
  const std::string checkpoint_path = (fs::path(opt.out_dir) / (name + "_checkpoint.h5")).string();
  // A complete model trained with other parameters is stale; one trained
  // for fewer epochs may be continued (--resume).
  PreviousModel previous_model = opt.force ? PreviousModel::retrain : PreviousModel::reuse;
  if (!opt.force) {
    const std::string config_path =
        (fs::path(opt.out_dir) / models::model_config_name(name)).string();
    std::string previous;
    if (mpi::rank(comm) == 0 && output_complete(r.model_path) && output_complete(config_path)) {
      std::ifstream in(config_path);
      std::stringstream text;
      text << in.rdbuf();
      previous = text.str();
    }
    previous = mpi::broadcast(previous, 0, comm);
    all_ranks_agree(comm, [&] {
      previous_model = judge_previous(previous, params.to_yaml(), opt.resume, name, r.model_path);
    });
  }
  const bool from_scratch = previous_model == PreviousModel::retrain;
  if (previous_model == PreviousModel::reuse && output_complete(r.model_path, comm)) {
    // A file that looks complete but does not read (truncated, overwritten)
    // is trained again, as --force would.
    std::string metadata;
    int readable = 1;
    if (mpi::rank(comm) == 0) {
      try {
        metadata = models::read_model_file(r.model_path).metadata.dump();
      } catch (const std::exception& e) {
        readable = 0;
        log::info("train ", name, ": ", r.model_path, " is unreadable (", e.what(),
                  "): training again");
      }
    }
    MPI_Bcast(&readable, 1, MPI_INT, 0, comm);
    if (readable && io::stores_unchanged_since(metadata, opt.samples_dir, comm)) {
      r.reused = true;
      log::info("train ", name, ": ", r.model_path,
                " is complete from an earlier run (--force redoes it)");
      return r;
    }
  }
  const auto settings = models::training_settings(params);
  auto train = io::read_sample_shard(opt.samples_dir + "/train.h5", comm);
  auto valid = io::read_sample_shard(opt.samples_dir + "/validation.h5", comm);
  all_ranks_agree(comm, [&] {
    validate_stores(train, valid, opt.samples_dir);
    ensure_directory(opt.out_dir);
  });
  r.train_samples = train.total;
  r.validation_samples = valid.total;

  models::NetworkSpec spec = models::network_spec(kind, params);
  spec.window = train.window;
  spec.n_features = static_cast<int>(train.feature_names.size());
  spec.n_dynamic = data::dynamic_feature_count(train.feature_names, opt.samples_dir + "/train.h5");
  auto net = models::make_network(spec);
  auto& weights = net->parameters();
  weights.initialise(settings.seed);
  Adam adam(weights.values().size(), settings.learning_rate, settings.weight_decay);
  TrainingState state;
  state.learning_rate = settings.learning_rate;

  // --resume: the checkpoint must come from the same configuration; one of
  // other samples (the stores were prepared again since) is not resumed.
  // Every rank reads the same stores' metadata, so all decide alike.
  // --force redoes the model from scratch, checkpoint included.
  const bool have_checkpoint =
      opt.resume && !from_scratch && output_complete(checkpoint_path, comm);
  bool resumed = false;
  if (have_checkpoint) {
    all_ranks_agree(comm, [&] {
      models::ModelFile cp;
      try {
        cp = models::read_model_file(checkpoint_path);
      } catch (const std::exception& e) {
        FR_FAIL("cannot resume from ", checkpoint_path, ": ", e.what(),
                "; train with --force to start afresh (or remove the checkpoint)");
      }
      FR_REQUIRE(!cp.checkpoint.is_null(), checkpoint_path, " is not a checkpoint");
      if (cp.checkpoint.value("samples", json()) != samples_selection(train, valid)) return;
      resumed = true;
      FR_REQUIRE(config_except_epochs(cp.checkpoint.at("config").get<std::string>()) ==
                     config_except_epochs(params.to_yaml()),
                 checkpoint_path,
                 " was written with other model parameters (only 'epochs' may change on "
                 "--resume); train with --force to start afresh (or remove it)");
      FR_REQUIRE(cp.spec.window == spec.window, checkpoint_path, " has windows of ", cp.spec.window,
                 " months, the sample store ", spec.window);
      weights.load(cp.weights, checkpoint_path);
      adam.restore(cp.checkpoint.at("adam_steps").get<long long>(), cp.extra.at("adam_m"),
                   cp.extra.at("adam_v"));
      state.epoch = cp.checkpoint.at("epoch").get<int>();
      state.best_epoch = cp.checkpoint.at("best_epoch").get<int>();
      state.bad_epochs = cp.checkpoint.at("bad_epochs").get<int>();
      state.best_mse = cp.checkpoint.at("best_validation_mse").get<double>();
      state.best_values = cp.extra.at("best");
      state.history = history_from(cp.checkpoint.at("history"));
      state.learning_rate = cp.checkpoint.value("learning_rate", settings.learning_rate);
      state.plateau_best = cp.checkpoint.value("plateau_best_validation_mse", state.best_mse);
      state.plateau_bad_epochs = cp.checkpoint.value("plateau_bad_epochs", state.bad_epochs);
      adam.set_learning_rate(state.learning_rate);
      if (cp.checkpoint.at("ranks").get<int>() != mpi::size(comm))
        log::info("train ", name, ": the checkpoint was written by ",
                  cp.checkpoint.at("ranks").get<int>(), " rank(s); continuing on ", mpi::size(comm),
                  " (the shards change, so the run differs from an "
                  "uninterrupted one)");
    });
    if (resumed) r.resumed_after_epoch = state.epoch;
    if (resumed)
      log::info("train ", name, ": resuming after epoch ", state.epoch, " from ", checkpoint_path);
    else
      log::info("train ", name, ": ", checkpoint_path,
                " was written for other samples (the stores were prepared again): starting afresh");
  }

  const int batch = settings.batch_size;
  const std::int64_t local_n = train.block.size();
  const std::int64_t steps = (mpi::max(local_n, comm) + batch - 1) / batch;
  const std::size_t width = std::size_t(spec.window) * spec.n_features;
  // Variance of the validation target, for R^2.
  double vsum = 0, vsq = 0;
  for (float t : valid.block.target) {
    vsum += t;
    vsq += double(t) * t;
  }
  vsum = mpi::sum(vsum, comm);
  vsq = mpi::sum(vsq, comm);
  const double valid_var = vsq / valid.total - (vsum / valid.total) * (vsum / valid.total);

  log::info("train ", name, ": ", train.total, " training and ", valid.total,
            " validation samples on ", mpi::size(comm), " rank(s), ", weights.values().size(),
            " parameters, batch ", batch, " per rank, ", steps, " steps per epoch, up to ",
            settings.epochs, " epochs (patience ", settings.patience, ")");

  // The fused buffer is the gradients' own: every gradient, then the batch's
  // sample count and loss sum in its spare tail; float32 as the gradients
  // themselves (half the bytes of double).
  std::vector<float>& fused = weights.grads();
  const std::size_t n_grads = weights.values().size();
  static_assert(models::ParameterSet::kGradTail >= 2, "count and loss ride with the gradients");
  std::vector<float> xb(std::size_t(batch) * width), tb(batch), yb(batch), dy(batch);
  std::vector<std::int64_t> order(static_cast<std::size_t>(local_n));
  const int rank = mpi::rank(comm);
  int epochs_this_call = 0;
  bool stopped_early = false;
  // Every exchange of the epoch loop runs under the watchdog: a peer lost in
  // any of them must end the job, not hang it.
  std::optional<StallWatchdog> watchdog;
  if (mpi::size(comm) > 1)
    watchdog.emplace(rank, settings.collective_timeout_s, 20.0, "train " + name);
  const auto watched = [&](const std::string& what, const std::function<void()>& exchange) {
    if (watchdog)
      watchdog->guard(what, exchange);
    else
      exchange();
  };
  while (state.epoch < settings.epochs) {
    const int epoch = state.epoch + 1;
    const double epoch_start = wall_seconds();
    double compute = 0, communication = 0, loss_sum = 0;
    StepPhases phases;
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(mix(settings.seed, mix(epoch, rank)));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    net->seed_dropout(mix(settings.seed + 1, mix(epoch, rank)));
    Progress progress(concat("train ", name, " epoch ", epoch), steps, "steps", 10.0);
    // Named once per epoch, not per step: the step loop is the hot loop.
    const std::string gradient_exchange =
        "the gradient allreduce of epoch " + std::to_string(epoch);
    for (std::int64_t step = 0; step < steps; ++step) {
      const double t0 = wall_seconds(), c0 = cpu_seconds();
      const std::int64_t first = std::min(step * batch, local_n);
      const int nb = static_cast<int>(std::min<std::int64_t>(batch, local_n - first));
      for (int i = 0; i < nb; ++i) {
        const auto s = order[first + i];
        std::copy_n(train.block.features.data() + s * width, width, xb.data() + i * width);
        tb[i] = train.block.target[s];
      }
      weights.zero_grads();
      double batch_loss = 0;
      const double t_gathered = wall_seconds();
      double t_forward = t_gathered;
      if (nb > 0) {
        net->forward(xb.data(), nb, true, yb.data());
        t_forward = wall_seconds();
        // Gradient of the summed squared error; divided by the global count below.
        for (int i = 0; i < nb; ++i) {
          const float e = yb[i] - tb[i];
          batch_loss += double(e) * e;
          dy[i] = 2.0f * e;
        }
        net->backward(dy.data());
      }
      fused[n_grads] = static_cast<float>(nb);
      fused[n_grads + 1] = static_cast<float>(batch_loss);
      const double t1 = wall_seconds(), c1 = cpu_seconds();
      const auto exchange = [&] {
        MPI_Allreduce(MPI_IN_PLACE, fused.data(), static_cast<int>(n_grads + 2), MPI_FLOAT, MPI_SUM,
                      comm);
      };
      watched(gradient_exchange, exchange);
      const double t2 = wall_seconds(), c2 = cpu_seconds();
      const double count = fused[n_grads], global_loss = fused[n_grads + 1];
      if (!std::isfinite(global_loss)) {
        // Every rank holds the same reduced value, so all fail here together.
        all_ranks_agree(comm, [&] {
          FR_FAIL("train ", name, ": the loss became ", global_loss, " in epoch ", epoch,
                  ", batch ", step + 1, " of ", steps,
                  " (diverged: lower learning_rate, or check the sample store for NaN); no model "
                  "file written");
        });
      }
      // The average gradient is fused * (1 / count), formed inside the step.
      adam.step(weights.values().data(), fused.data(), static_cast<float>(1.0 / count));
      weights.touch();
      loss_sum += global_loss;
      const double t3 = wall_seconds(), c3 = cpu_seconds();
      phases.compute_cpu += (c1 - c0) + (c3 - c2);
      phases.allreduce_cpu += c2 - c1;
      compute += (t1 - t0) + (t3 - t2);
      communication += t2 - t1;
      phases.add(t_gathered - t0, t_forward - t_gathered, t1 - t_forward, t2 - t1, t3 - t2);
      if (opt.after_step) opt.after_step(epoch, static_cast<int>(step), *net);
      if (rank == 0) progress.advance();
    }
    progress.finish();
    const double train_seconds = wall_seconds() - epoch_start;
    const double eval_start = wall_seconds();
    const double local_sse = squared_error(*net, valid.block, settings.eval_batch);
    double sse = 0, eval_seconds = 0;
    EpochRecord rec;
    watched("the validation exchange of epoch " + std::to_string(epoch), [&] {
      sse = mpi::sum(local_sse, comm);
      eval_seconds = mpi::max(wall_seconds() - eval_start, comm);
      rec.seconds = mpi::max(wall_seconds() - epoch_start, comm);
      rec.samples_per_second = double(train.total) / mpi::max(train_seconds, comm);
      rec.compute_seconds = mpi::max(compute, comm);
      rec.communication_seconds = mpi::max(communication, comm);
    });
    rec.epoch = epoch;
    rec.train_mse = loss_sum / double(train.total);
    rec.validation_mse = sse / double(valid.total);
    rec.inference_samples_per_second = double(valid.total) / std::max(eval_seconds, 1e-9);
    rec.learning_rate = state.learning_rate;
    state.history.push_back(rec);
    state.epoch = epoch;
    if (rec.validation_mse < state.best_mse) {
      state.best_mse = rec.validation_mse;
      state.best_epoch = epoch;
      state.bad_epochs = 0;
      state.best_values = weights.values();
    } else {
      ++state.bad_epochs;
    }
    log::info("train ", name, ": epoch ", epoch, "/", settings.epochs, " train MSE ", rec.train_mse,
              ", validation MSE ", rec.validation_mse, " (R^2 ",
              1.0 - rec.validation_mse / valid_var, "), ",
              static_cast<long long>(rec.samples_per_second), " samples/s, compute ",
              log::seconds(rec.compute_seconds), " / communication ",
              log::seconds(rec.communication_seconds), state.bad_epochs == 0 ? " (best)" : "");
    // Collective (a maximum over ranks), then shown under --verbose only.
    if (reduce_on_plateau(state, rec.validation_mse, settings)) {
      adam.set_learning_rate(state.learning_rate);
      log::info("train ", name, ": no lower validation MSE for more than ",
                settings.lr_plateau_patience, " epochs; learning rate now ", state.learning_rate);
    }
    std::string profile;
    watched("the profile exchange of epoch " + std::to_string(epoch),
            [&] { profile = phases.text(steps, comm); });
    log::debug("train ", name, ": epoch ", epoch, " per step (ms, max over ranks): ", profile);
    stopped_early = state.bad_epochs >= settings.patience;
    // Checkpoint: every rank holds the same state; rank 0 writes it.
    watched("the checkpoint of epoch " + std::to_string(epoch), [&] {
      all_ranks_agree(comm, [&] {
        if (rank != 0) return;
        models::ModelFile cp;
        cp.spec = spec;
        cp.weights = weights.state_dict();
        cp.metadata = {{"features", train.feature_names},
                       {"normalisation", models::normalisation_json(train.norm)}};
        cp.extra = {{"adam_m", adam.first_moment()},
                    {"adam_v", adam.second_moment()},
                    {"best", state.best_values}};
        cp.checkpoint = {{"epoch", state.epoch},
                         {"adam_steps", adam.steps()},
                         {"best_epoch", state.best_epoch},
                         {"bad_epochs", state.bad_epochs},
                         {"best_validation_mse", state.best_mse},
                         {"learning_rate", state.learning_rate},
                         {"plateau_best_validation_mse", state.plateau_best},
                         {"plateau_bad_epochs", state.plateau_bad_epochs},
                         {"history", history_json(state.history)},
                         {"config", params.to_yaml()},
                         {"samples", samples_selection(train, valid)},
                         {"ranks", mpi::size(comm)}};
        models::write_model_file(checkpoint_path, cp);
      });
    });
    ++epochs_this_call;
    if (opt.on_epoch) {
      // Rank 0 decides and tells the others, so they all leave the loop together.
      int stop = 0;
      watched("the stop decision of epoch " + std::to_string(epoch), [&] {
        all_ranks_agree(comm, [&] { stop = opt.on_epoch(epoch, rec.validation_mse) ? 1 : 0; });
        MPI_Bcast(&stop, 1, MPI_INT, 0, comm);
      });
      if (stop) {
        log::info("train ", name, ": stopped after epoch ", epoch, " by the caller (pruned)");
        r.stopped = true;
        r.history = state.history;
        r.best_epoch = state.best_epoch;
        r.best_validation_mse = state.best_mse;
        r.seconds = mpi::max(wall_seconds() - start, comm);
        return r;
      }
    }
    if (stopped_early) {
      log::info("train ", name, ": no better validation MSE for ", settings.patience,
                " epochs; stopping, best epoch ", state.best_epoch);
      break;
    }
    if (opt.stop_after_epochs > 0 && epochs_this_call >= opt.stop_after_epochs &&
        state.epoch < settings.epochs) {
      r.history = state.history;
      r.seconds = mpi::max(wall_seconds() - start, comm);
      return r;  // interrupted on purpose; the checkpoint holds the state
    }
  }

  // Best-validation weights, then the outputs.
  weights.values() = state.best_values;
  weights.touch();
  r.finished = true;
  r.history = state.history;
  r.best_epoch = state.best_epoch;
  r.best_validation_mse = state.best_mse;
  r.validation_r2 = 1.0 - state.best_mse / valid_var;
  r.validation_mse_physical = state.best_mse * train.norm.target_std * train.norm.target_std;
  all_ranks_agree(comm, [&] {
    if (rank != 0) return;
    models::ModelFile file;
    file.spec = spec;
    file.weights = weights.state_dict();
    file.metadata = {
        {"features", train.feature_names},
        {"normalisation", models::normalisation_json(train.norm)},
        {"input", concat("windows (window, ", spec.n_features, ") z-scored, oldest step first")},
        {"training",
         {{"epochs_run", state.epoch},
          {"best_epoch", state.best_epoch},
          {"best_validation_mse", state.best_mse},
          {"validation_r2", r.validation_r2},
          {"batch_size_per_rank", settings.batch_size},
          {"learning_rate", settings.learning_rate},
          {"final_learning_rate", state.learning_rate},
          {"weight_decay", settings.weight_decay},
          {"seed", settings.seed},
          {"ranks", mpi::size(comm)},
          {"samples",
           {{"train", train.total}, {"validation", valid.total}, {"dir", opt.samples_dir}}}}},
        {"train_store", json::parse(train.metadata)},
        {"validation_store", json::parse(valid.metadata)},
        {"software", std::string("fluxrecon ") + FLUXRECON_VERSION}};
    std::ostringstream csv;
    csv << "epoch,train_mse,validation_mse,seconds,samples_per_second,compute_seconds,"
           "communication_seconds,inference_samples_per_second,learning_rate\n";
    for (const auto& e : state.history)
      csv << e.epoch << "," << e.train_mse << "," << e.validation_mse << "," << e.seconds << ","
          << e.samples_per_second << "," << e.compute_seconds << "," << e.communication_seconds
          << "," << e.inference_samples_per_second << "," << e.learning_rate << "\n";
    const std::string prefix = (fs::path(opt.out_dir) / name).string();
    write_text_atomically(prefix + "_losses.csv", csv.str());
    write_text_atomically((fs::path(opt.out_dir) / models::model_config_name(name)).string(),
                          params.to_yaml());
    write_loss_curve(prefix + "_loss.png", name, state.history, state.best_epoch);
    json summary = {{"model", r.model_path},
                    {"epochs_run", state.epoch},
                    {"best_epoch", state.best_epoch},
                    {"best_validation_mse", state.best_mse},
                    {"validation_r2", r.validation_r2},
                    {"validation_mse_physical", r.validation_mse_physical},
                    {"ranks", mpi::size(comm)},
                    {"train_samples", train.total},
                    {"validation_samples", valid.total},
                    {"parameters", weights.values().size()}};
    write_text_atomically(prefix + "_summary.json", summary.dump(2) + "\n");
    // The checkpoint stays: `--resume` with more epochs continues from it.
    models::write_model_file(r.model_path, file);
  });
  MPI_Barrier(comm);
  r.seconds = mpi::max(wall_seconds() - start, comm);
  return r;
}

}  // namespace fluxrecon::train
