#include "train/train_model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/sample_store.hpp"
#include "models/registry.hpp"
#include "train/nn_trainer.hpp"
#include "train/xgboost_trainer.hpp"

namespace fluxrecon::train {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The units of a training store's target as prepare recorded them.
std::string store_target_units(const std::string& samples_dir) {
  const std::string path = (fs::path(samples_dir) / "train.h5").string();
  if (!fs::is_regular_file(path)) return "";
  try {
    const json meta = json::parse(io::read_metadata(path), nullptr, false);
    if (!meta.is_object()) return "";
    return meta.value("target", json::object()).value("units", std::string());
  } catch (const std::exception&) {
    return "";  // only the summary line's units depend on it
  }
}

}  // namespace

std::string train_summary_line(const std::string& name, const TrainOutcome& r, int ranks) {
  const bool neural = models::model_info(name).neural;
  double rmse = std::sqrt(r.validation_mse_physical);
  std::string units = r.target_units;
  if (units == "mol m-2 s-1") {  // fluxes are read per year
    rmse *= 365.25 * 86400.0;
    units = "mol m-2 yr-1";
  }
  return concat("train ", name, ": wrote ", r.model_path, " (", r.steps,
                neural ? " epochs" : " rounds", ", best ", r.best_step, ") in ",
                log::seconds(r.seconds), " (", r.rate_text, ") on ", ranks,
                " rank(s); validation RMSE ", rmse, units.empty() ? "" : " " + units, ", R^2 ",
                r.validation_r2);
}

TrainOutcome train_model(const std::string& name, const config::Config& params,
                         const TrainRequest& request, MPI_Comm comm) {
  TrainOutcome o;
  o.target_units = store_target_units(request.samples_dir);
  if (!models::model_info(name).neural) {
    XgboostTrainOptions opt{request.samples_dir, request.out_dir, request.force, request.on_step};
    opt.model = name;
    const auto r = train_xgboost(params, opt, comm);
    o.reused = r.reused;
    o.stopped = r.stopped;
    o.model_path = r.model_path;
    o.steps = r.rounds;
    o.best_step = r.best_round;
    o.validation_mse = r.validation_mse;
    o.validation_mse_physical = r.validation_mse_physical;
    o.validation_r2 = r.validation_r2;
    o.seconds = r.seconds;
    o.rate_text =
        concat(static_cast<long long>(r.train_samples * r.rounds / std::max(r.seconds, 1e-9)),
               " sample-rounds/s");
    return o;
  }
  NeuralTrainOptions opt;
  opt.samples_dir = request.samples_dir;
  opt.out_dir = request.out_dir;
  opt.force = request.force;
  opt.resume = request.resume;
  opt.on_epoch = request.on_step;
  const auto r = train_network(models::network_kind(name), params, opt, comm);
  o.reused = r.reused;
  o.stopped = r.stopped;
  o.model_path = r.model_path;
  o.steps = static_cast<int>(r.history.size());
  o.best_step = r.best_epoch;
  o.validation_mse = r.best_validation_mse;
  o.validation_mse_physical = r.validation_mse_physical;
  o.validation_r2 = r.validation_r2;
  o.seconds = r.seconds;
  double rate = 0;
  for (const auto& e : r.history) rate += e.samples_per_second / double(r.history.size());
  o.rate_text = concat(static_cast<long long>(rate), " samples/s per epoch");
  return o;
}

}  // namespace fluxrecon::train
