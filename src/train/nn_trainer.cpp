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

namespace {

// One call of train_network, in its phases: a complete model reused or not,
// the stores and the network, a checkpoint resumed, then epochs of steps,
// validation, checkpoint and stop decisions, and the outputs.
class NetworkTraining {
 public:
  NetworkTraining(models::NetworkKind kind, const config::Config& params,
                  const NeuralTrainOptions& opt, MPI_Comm comm)
      : kind_(kind),
        name_(models::kind_name(kind)),
        params_(params),
        opt_(opt),
        comm_(comm),
        rank_(mpi::rank(comm)),
        start_(wall_seconds()),
        checkpoint_path_((fs::path(opt.out_dir) / (name_ + "_checkpoint.h5")).string()) {
    r_.model_path = (fs::path(opt.out_dir) / models::model_file_name(name_)).string();
  }

  NeuralTrainResult run() {
    if (reuse_complete_model()) return r_;
    load_stores_and_network();
    if (opt_.resume && !from_scratch_ && output_complete(checkpoint_path_, comm_))
      resume_from_checkpoint();
    announce();
    if (mpi::size(comm_) > 1)
      watchdog_.emplace(comm_, settings_.collective_timeout_s, 20.0, "train " + name_);
    int epochs_this_call = 0;
    while (state_.epoch < settings_.epochs) {
      const int epoch = state_.epoch + 1;
      const EpochRecord rec = train_epoch(epoch);
      const bool stopped_early = state_.bad_epochs >= settings_.patience;
      write_checkpoint(epoch);
      ++epochs_this_call;
      if (opt_.on_epoch && caller_stops(epoch, rec.validation_mse)) {
        log::info("train ", name_, ": stopped after epoch ", epoch, " by the caller (pruned)");
        r_.stopped = true;
        r_.history = state_.history;
        r_.best_epoch = state_.best_epoch;
        r_.best_validation_mse = state_.best_mse;
        r_.seconds = mpi::max(wall_seconds() - start_, comm_);
        return r_;
      }
      if (stopped_early) {
        log::info("train ", name_, ": no better validation MSE for ", settings_.patience,
                  " epochs; stopping, best epoch ", state_.best_epoch);
        break;
      }
      if (opt_.stop_after_epochs > 0 && epochs_this_call >= opt_.stop_after_epochs &&
          state_.epoch < settings_.epochs) {
        r_.history = state_.history;
        r_.seconds = mpi::max(wall_seconds() - start_, comm_);
        return r_;  // interrupted on purpose; the checkpoint holds the state
      }
    }
    write_outputs();
    r_.seconds = mpi::max(wall_seconds() - start_, comm_);
    return r_;
  }

 private:
  // A complete model trained with the same parameters on the same stores is
  // kept; one trained with other parameters is stale; one trained for fewer
  // epochs may be continued (--resume).
  bool reuse_complete_model() {
    PreviousModel previous_model = opt_.force ? PreviousModel::retrain : PreviousModel::reuse;
    if (!opt_.force) {
      const std::string config_path =
          (fs::path(opt_.out_dir) / models::model_config_name(name_)).string();
      std::string previous;
      if (rank_ == 0 && output_complete(r_.model_path) && output_complete(config_path)) {
        std::ifstream in(config_path);
        std::stringstream text;
        text << in.rdbuf();
        previous = text.str();
      }
      previous = mpi::broadcast(previous, 0, comm_);
      all_ranks_agree(comm_, [&] {
        previous_model =
            judge_previous(previous, params_.to_yaml(), opt_.resume, name_, r_.model_path);
      });
    }
    from_scratch_ = previous_model == PreviousModel::retrain;
    if (previous_model != PreviousModel::reuse || !output_complete(r_.model_path, comm_))
      return false;
    // A file that looks complete but does not read (truncated, overwritten)
    // is trained again, as --force would.
    std::string metadata;
    int readable = 1;
    if (rank_ == 0) {
      try {
        metadata = models::read_model_file(r_.model_path).metadata.dump();
      } catch (const std::exception& e) {
        readable = 0;
        log::info("train ", name_, ": ", r_.model_path, " is unreadable (", e.what(),
                  "): training again");
      }
    }
    MPI_Bcast(&readable, 1, MPI_INT, 0, comm_);
    if (!readable || !io::stores_unchanged_since(metadata, opt_.samples_dir, comm_)) return false;
    r_.reused = true;
    log::info("train ", name_, ": ", r_.model_path,
              " is complete from an earlier run (--force redoes it)");
    return true;
  }

  void load_stores_and_network() {
    settings_ = models::training_settings(params_);
    train_ = io::read_sample_shard(opt_.samples_dir + "/train.h5", comm_);
    valid_ = io::read_sample_shard(opt_.samples_dir + "/validation.h5", comm_);
    all_ranks_agree(comm_, [&] {
      validate_stores(train_, valid_, opt_.samples_dir);
      ensure_directory(opt_.out_dir);
    });
    r_.train_samples = train_.total;
    r_.validation_samples = valid_.total;

    spec_ = models::network_spec(kind_, params_);
    spec_.window = train_.window;
    spec_.n_features = static_cast<int>(train_.feature_names.size());
    spec_.n_dynamic =
        data::dynamic_feature_count(train_.feature_names, opt_.samples_dir + "/train.h5");
    net_ = models::make_network(spec_);
    net_->parameters().initialise(settings_.seed);
    adam_.emplace(net_->parameters().values().size(), settings_.learning_rate,
                  settings_.weight_decay);
    state_.learning_rate = settings_.learning_rate;
    steps_ =
        (mpi::max(train_.block.size(), comm_) + settings_.batch_size - 1) / settings_.batch_size;
    // Variance of the validation target, for R^2.
    double vsum = 0, vsq = 0;
    for (float t : valid_.block.target) {
      vsum += t;
      vsq += double(t) * t;
    }
    vsum = mpi::sum(vsum, comm_);
    vsq = mpi::sum(vsq, comm_);
    valid_var_ = vsq / valid_.total - (vsum / valid_.total) * (vsum / valid_.total);
  }

  // --resume: the checkpoint must come from the same configuration; one of
  // other samples (the stores were prepared again since) is not resumed.
  // Every rank reads the same stores' metadata, so all decide alike.
  // --force redoes the model from scratch, checkpoint included.
  void resume_from_checkpoint() {
    auto& weights = net_->parameters();
    bool resumed = false;
    all_ranks_agree(comm_, [&] {
      models::ModelFile cp;
      try {
        cp = models::read_model_file(checkpoint_path_);
      } catch (const std::exception& e) {
        FR_FAIL("cannot resume from ", checkpoint_path_, ": ", e.what(),
                "; train with --force to start afresh (or remove the checkpoint)");
      }
      FR_REQUIRE(!cp.checkpoint.is_null(), checkpoint_path_, " is not a checkpoint");
      if (cp.checkpoint.value("samples", json()) != samples_selection(train_, valid_)) return;
      resumed = true;
      FR_REQUIRE(config_except_epochs(cp.checkpoint.at("config").get<std::string>()) ==
                     config_except_epochs(params_.to_yaml()),
                 checkpoint_path_,
                 " was written with other model parameters (only 'epochs' may change on "
                 "--resume); train with --force to start afresh (or remove it)");
      FR_REQUIRE(cp.spec.window == spec_.window, checkpoint_path_, " has windows of ",
                 cp.spec.window, " months, the sample store ", spec_.window);
      weights.load(cp.weights, checkpoint_path_);
      adam_->restore(cp.checkpoint.at("adam_steps").get<long long>(), cp.extra.at("adam_m"),
                     cp.extra.at("adam_v"));
      state_.epoch = cp.checkpoint.at("epoch").get<int>();
      state_.best_epoch = cp.checkpoint.at("best_epoch").get<int>();
      state_.bad_epochs = cp.checkpoint.at("bad_epochs").get<int>();
      state_.best_mse = cp.checkpoint.at("best_validation_mse").get<double>();
      state_.best_values = cp.extra.at("best");
      state_.history = history_from(cp.checkpoint.at("history"));
      state_.learning_rate = cp.checkpoint.value("learning_rate", settings_.learning_rate);
      state_.plateau_best = cp.checkpoint.value("plateau_best_validation_mse", state_.best_mse);
      state_.plateau_bad_epochs = cp.checkpoint.value("plateau_bad_epochs", state_.bad_epochs);
      adam_->set_learning_rate(state_.learning_rate);
      if (cp.checkpoint.at("ranks").get<int>() != mpi::size(comm_))
        log::info("train ", name_, ": the checkpoint was written by ",
                  cp.checkpoint.at("ranks").get<int>(), " rank(s); continuing on ",
                  mpi::size(comm_),
                  " (the shards change, so the run differs from an "
                  "uninterrupted one)");
    });
    if (resumed) {
      r_.resumed_after_epoch = state_.epoch;
      log::info("train ", name_, ": resuming after epoch ", state_.epoch, " from ",
                checkpoint_path_);
    } else {
      log::info("train ", name_, ": ", checkpoint_path_,
                " was written for other samples (the stores were prepared again): starting "
                "afresh");
    }
  }

  void announce() const {
    log::info("train ", name_, ": ", train_.total, " training and ", valid_.total,
              " validation samples on ", mpi::size(comm_), " rank(s), ",
              net_->parameters().values().size(), " parameters, batch ", settings_.batch_size,
              " per rank, ", steps_, " steps per epoch, up to ", settings_.epochs,
              " epochs (patience ", settings_.patience, ")");
  }

  // Every exchange of the epoch loop runs under the watchdog: a peer lost in
  // any of them must end the job, not hang it.
  void watched(const std::string& what, const std::function<void()>& exchange) {
    if (watchdog_)
      watchdog_->guard(what, exchange);
    else
      exchange();
  }

  // One epoch: its optimiser steps, then the validation pass, the epoch's
  // record, the best weights and the learning-rate schedule.
  EpochRecord train_epoch(int epoch) {
    const double epoch_start = wall_seconds();
    EpochTotals totals;
    train_steps(epoch, totals);
    const double train_seconds = wall_seconds() - epoch_start;
    const double eval_start = wall_seconds();
    const double local_sse = squared_error(*net_, valid_.block, settings_.eval_batch);
    double sse = 0, eval_seconds = 0;
    EpochRecord rec;
    watched("the validation exchange of epoch " + std::to_string(epoch), [&] {
      sse = mpi::sum(local_sse, comm_);
      eval_seconds = mpi::max(wall_seconds() - eval_start, comm_);
      rec.seconds = mpi::max(wall_seconds() - epoch_start, comm_);
      rec.samples_per_second = double(train_.total) / mpi::max(train_seconds, comm_);
      rec.compute_seconds = mpi::max(totals.compute, comm_);
      rec.communication_seconds = mpi::max(totals.communication, comm_);
    });
    rec.epoch = epoch;
    rec.train_mse = totals.loss_sum / double(train_.total);
    rec.validation_mse = sse / double(valid_.total);
    rec.inference_samples_per_second = double(valid_.total) / std::max(eval_seconds, 1e-9);
    rec.learning_rate = state_.learning_rate;
    state_.history.push_back(rec);
    state_.epoch = epoch;
    if (rec.validation_mse < state_.best_mse) {
      state_.best_mse = rec.validation_mse;
      state_.best_epoch = epoch;
      state_.bad_epochs = 0;
      state_.best_values = net_->parameters().values();
    } else {
      ++state_.bad_epochs;
    }
    log::info("train ", name_, ": epoch ", epoch, "/", settings_.epochs, " train MSE ",
              rec.train_mse, ", validation MSE ", rec.validation_mse, " (R^2 ",
              1.0 - rec.validation_mse / valid_var_, "), ",
              static_cast<long long>(rec.samples_per_second), " samples/s, compute ",
              log::seconds(rec.compute_seconds), " / communication ",
              log::seconds(rec.communication_seconds), state_.bad_epochs == 0 ? " (best)" : "");
    if (reduce_on_plateau(state_, rec.validation_mse, settings_)) {
      adam_->set_learning_rate(state_.learning_rate);
      log::info("train ", name_, ": no lower validation MSE for more than ",
                settings_.lr_plateau_patience, " epochs; learning rate now ", state_.learning_rate);
    }
    // Collective (a maximum over ranks), then shown under --verbose only.
    std::string profile;
    watched("the profile exchange of epoch " + std::to_string(epoch),
            [&] { profile = totals.phases.text(steps_, comm_); });
    log::debug("train ", name_, ": epoch ", epoch, " per step (ms, max over ranks): ", profile);
    return rec;
  }

  struct EpochTotals {
    double compute = 0, communication = 0, loss_sum = 0;
    StepPhases phases;
  };

  // The epoch's optimiser steps over this rank's shuffled shard: forward,
  // backward, one fused allreduce of the gradients (with the batch's count
  // and loss), Adam.
  void train_steps(int epoch, EpochTotals& totals) {
    auto& weights = net_->parameters();
    const int batch = settings_.batch_size;
    const std::int64_t local_n = train_.block.size();
    const std::size_t width = std::size_t(spec_.window) * spec_.n_features;
    // The fused buffer is the gradients' own: every gradient, then the batch's
    // sample count and loss sum in its spare tail; float32 as the gradients
    // themselves (half the bytes of double).
    std::vector<float>& fused = weights.grads();
    const std::size_t n_grads = weights.values().size();
    static_assert(models::ParameterSet::kGradTail >= 2, "count and loss ride with the gradients");
    std::vector<float> xb(std::size_t(batch) * width), tb(batch), yb(batch), dy(batch);
    std::vector<std::int64_t> order(static_cast<std::size_t>(local_n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(mix(settings_.seed, mix(epoch, rank_)));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    net_->seed_dropout(mix(settings_.seed + 1, mix(epoch, rank_)));
    Progress progress(concat("train ", name_, " epoch ", epoch), steps_, "steps", 10.0);
    // Named once per epoch, not per step: the step loop is the hot loop.
    const std::string gradient_exchange =
        "the gradient allreduce of epoch " + std::to_string(epoch);
    for (std::int64_t step = 0; step < steps_; ++step) {
      const double t0 = wall_seconds(), c0 = cpu_seconds();
      const std::int64_t first = std::min(step * batch, local_n);
      const int nb = static_cast<int>(std::min<std::int64_t>(batch, local_n - first));
      for (int i = 0; i < nb; ++i) {
        const auto s = order[first + i];
        std::copy_n(train_.block.features.data() + s * width, width, xb.data() + i * width);
        tb[i] = train_.block.target[s];
      }
      weights.zero_grads();
      double batch_loss = 0;
      const double t_gathered = wall_seconds();
      double t_forward = t_gathered;
      if (nb > 0) {
        net_->forward(xb.data(), nb, true, yb.data());
        t_forward = wall_seconds();
        // Gradient of the summed squared error; divided by the global count below.
        for (int i = 0; i < nb; ++i) {
          const float e = yb[i] - tb[i];
          batch_loss += double(e) * e;
          dy[i] = 2.0f * e;
        }
        net_->backward(dy.data());
      }
      fused[n_grads] = static_cast<float>(nb);
      fused[n_grads + 1] = static_cast<float>(batch_loss);
      const double t1 = wall_seconds(), c1 = cpu_seconds();
      watched(gradient_exchange, [&] {
        MPI_Allreduce(MPI_IN_PLACE, fused.data(), static_cast<int>(n_grads + 2), MPI_FLOAT, MPI_SUM,
                      comm_);
      });
      const double t2 = wall_seconds(), c2 = cpu_seconds();
      const double count = fused[n_grads], global_loss = fused[n_grads + 1];
      if (!std::isfinite(global_loss)) {
        // Every rank holds the same reduced value, so all fail here together.
        all_ranks_agree(comm_, [&] {
          FR_FAIL("train ", name_, ": the loss became ", global_loss, " in epoch ", epoch,
                  ", batch ", step + 1, " of ", steps_,
                  " (diverged: lower learning_rate, or check the sample store for NaN); no model "
                  "file written");
        });
      }
      // The average gradient is fused * (1 / count), formed inside the step.
      adam_->step(weights.values().data(), fused.data(), static_cast<float>(1.0 / count));
      weights.touch();
      totals.loss_sum += global_loss;
      const double t3 = wall_seconds(), c3 = cpu_seconds();
      totals.phases.compute_cpu += (c1 - c0) + (c3 - c2);
      totals.phases.allreduce_cpu += c2 - c1;
      totals.compute += (t1 - t0) + (t3 - t2);
      totals.communication += t2 - t1;
      totals.phases.add(t_gathered - t0, t_forward - t_gathered, t1 - t_forward, t2 - t1, t3 - t2);
      if (opt_.after_step) opt_.after_step(epoch, static_cast<int>(step), *net_);
      if (rank_ == 0) progress.advance();
    }
    progress.finish();
  }

  // Every rank holds the same state; rank 0 writes it.
  void write_checkpoint(int epoch) {
    watched("the checkpoint of epoch " + std::to_string(epoch), [&] {
      all_ranks_agree(comm_, [&] {
        if (rank_ != 0) return;
        models::ModelFile cp;
        cp.spec = spec_;
        cp.weights = net_->parameters().state_dict();
        cp.metadata = {{"features", train_.feature_names},
                       {"normalisation", models::normalisation_json(train_.norm)}};
        cp.extra = {{"adam_m", adam_->first_moment()},
                    {"adam_v", adam_->second_moment()},
                    {"best", state_.best_values}};
        cp.checkpoint = {{"epoch", state_.epoch},
                         {"adam_steps", adam_->steps()},
                         {"best_epoch", state_.best_epoch},
                         {"bad_epochs", state_.bad_epochs},
                         {"best_validation_mse", state_.best_mse},
                         {"learning_rate", state_.learning_rate},
                         {"plateau_best_validation_mse", state_.plateau_best},
                         {"plateau_bad_epochs", state_.plateau_bad_epochs},
                         {"history", history_json(state_.history)},
                         {"config", params_.to_yaml()},
                         {"samples", samples_selection(train_, valid_)},
                         {"ranks", mpi::size(comm_)}};
        models::write_model_file(checkpoint_path_, cp);
      });
    });
  }

  // Rank 0 decides and tells the others, so they all leave the loop together.
  bool caller_stops(int epoch, double validation_mse) {
    int stop = 0;
    watched("the stop decision of epoch " + std::to_string(epoch), [&] {
      all_ranks_agree(comm_, [&] { stop = opt_.on_epoch(epoch, validation_mse) ? 1 : 0; });
      MPI_Bcast(&stop, 1, MPI_INT, 0, comm_);
    });
    return stop != 0;
  }

  // The best-validation weights as the model file, with its losses, config,
  // loss curve and summary beside it.
  void write_outputs() {
    auto& weights = net_->parameters();
    weights.values() = state_.best_values;
    weights.touch();
    r_.finished = true;
    r_.history = state_.history;
    r_.best_epoch = state_.best_epoch;
    r_.best_validation_mse = state_.best_mse;
    r_.validation_r2 = 1.0 - state_.best_mse / valid_var_;
    r_.validation_mse_physical = state_.best_mse * train_.norm.target_std * train_.norm.target_std;
    all_ranks_agree(comm_, [&] {
      if (rank_ != 0) return;
      const std::string prefix = (fs::path(opt_.out_dir) / name_).string();
      write_text_atomically(prefix + "_losses.csv", losses_csv(state_.history));
      write_text_atomically((fs::path(opt_.out_dir) / models::model_config_name(name_)).string(),
                            params_.to_yaml());
      write_loss_curve(prefix + "_loss.png", name_, state_.history, state_.best_epoch);
      json summary = {{"model", r_.model_path},
                      {"epochs_run", state_.epoch},
                      {"best_epoch", state_.best_epoch},
                      {"best_validation_mse", state_.best_mse},
                      {"validation_r2", r_.validation_r2},
                      {"validation_mse_physical", r_.validation_mse_physical},
                      {"ranks", mpi::size(comm_)},
                      {"train_samples", train_.total},
                      {"validation_samples", valid_.total},
                      {"parameters", weights.values().size()}};
      write_text_atomically(prefix + "_summary.json", summary.dump(2) + "\n");
      // The checkpoint stays: `--resume` with more epochs continues from it.
      models::write_model_file(r_.model_path, model_file());
    });
    MPI_Barrier(comm_);
  }

  models::ModelFile model_file() const {
    models::ModelFile file;
    file.spec = spec_;
    file.weights = net_->parameters().state_dict();
    file.metadata = {
        {"features", train_.feature_names},
        {"normalisation", models::normalisation_json(train_.norm)},
        {"input", concat("windows (window, ", spec_.n_features, ") z-scored, oldest step first")},
        {"training",
         {{"epochs_run", state_.epoch},
          {"best_epoch", state_.best_epoch},
          {"best_validation_mse", state_.best_mse},
          {"validation_r2", r_.validation_r2},
          {"batch_size_per_rank", settings_.batch_size},
          {"learning_rate", settings_.learning_rate},
          {"final_learning_rate", state_.learning_rate},
          {"weight_decay", settings_.weight_decay},
          {"seed", settings_.seed},
          {"ranks", mpi::size(comm_)},
          {"samples",
           {{"train", train_.total}, {"validation", valid_.total}, {"dir", opt_.samples_dir}}}}},
        {"train_store", json::parse(train_.metadata)},
        {"validation_store", json::parse(valid_.metadata)},
        {"software", std::string("fluxrecon ") + FLUXRECON_VERSION}};
    return file;
  }

  static std::string losses_csv(const std::vector<EpochRecord>& history) {
    std::ostringstream csv;
    csv << "epoch,train_mse,validation_mse,seconds,samples_per_second,compute_seconds,"
           "communication_seconds,inference_samples_per_second,learning_rate\n";
    for (const auto& e : history)
      csv << e.epoch << "," << e.train_mse << "," << e.validation_mse << "," << e.seconds << ","
          << e.samples_per_second << "," << e.compute_seconds << "," << e.communication_seconds
          << "," << e.inference_samples_per_second << "," << e.learning_rate << "\n";
    return csv.str();
  }

  const models::NetworkKind kind_;
  const std::string name_;
  const config::Config& params_;
  const NeuralTrainOptions& opt_;
  const MPI_Comm comm_;
  const int rank_;
  const double start_;
  const std::string checkpoint_path_;
  NeuralTrainResult r_;
  bool from_scratch_ = false;
  models::TrainingSettings settings_;
  io::SampleShard train_, valid_;
  models::NetworkSpec spec_;
  std::unique_ptr<Network> net_;
  std::optional<Adam> adam_;
  TrainingState state_;
  double valid_var_ = 0;
  std::int64_t steps_ = 0;
  std::optional<StallWatchdog> watchdog_;
};

}  // namespace

NeuralTrainResult train_network(models::NetworkKind kind, const config::Config& params,
                                const NeuralTrainOptions& opt, MPI_Comm comm) {
  return NetworkTraining(kind, params, opt, comm).run();
}

}  // namespace fluxrecon::train
