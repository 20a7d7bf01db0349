#include "pipeline/run.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/analyze.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "data/prepare.hpp"
#include "data/synth.hpp"
#include "data/synth_options.hpp"
#include "explain/explain.hpp"
#include "models/registry.hpp"
#include "recon/reconstruct.hpp"
#include "train/train_model.hpp"
#include "tune/search_space.hpp"
#include "tune/study.hpp"

namespace fluxrecon::pipeline {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Context {
  const RunConfig& rc;
  const RunOptions& opt;
  MPI_Comm comm;
  RunSummary summary;
  std::vector<std::string> retrained;  // models trained by this run (not reused)
  // Tuned models: their study's best parameters with the overrides on top.
  std::map<std::string, config::Config> tuned;

  const config::Config& params_of(const ModelRun& m) const {
    const auto it = tuned.find(m.name);
    return it == tuned.end() ? m.params : it->second;
  }
};

// Runs one stage: its own logs and summary line, its time (slowest rank),
// and on failure an error that names the stage, with the stage's message.
template <class Body>
void run_stage(Context& ctx, const std::string& name, Body body) {
  log::info("run: stage ", ctx.summary.stages.size() + 1, ": ", name);
  StageRecord record;
  record.name = name;
  const double start = wall_seconds();
  try {
    body(record);
  } catch (const Error& e) {
    throw Error(concat("run: stage '", name, "' failed: ", e.what()), e.where(), e.collective());
  } catch (const std::exception& e) {
    throw Error(concat("run: stage '", name, "' failed: ", e.what()), "", false);
  }
  record.seconds = mpi::max(wall_seconds() - start, ctx.comm);
  if (record.reused)
    log::info("run: ", name, ": complete from an earlier run (", log::seconds(record.seconds), ")");
  ctx.summary.stages.push_back(record);
}

void synth_stage(Context& ctx, StageRecord& record) {
  const auto o = data::synth_options(ctx.rc.dataset, ctx.rc.layout.data(), ctx.opt.force);
  const auto s = data::generate_testbed(o, ctx.comm);
  all_ranks_agree(ctx.comm, [&] {
    if (mpi::rank(ctx.comm) == 0)
      write_text_atomically(o.out_dir + "/synth_config.yaml", ctx.rc.dataset.to_yaml());
  });
  log::info(data::synth_summary_line(s, o.out_dir));
  record.written = concat(s.files_written.size(), " file(s)");
  record.reused = s.files_written.empty();
}

void prepare_stage(Context& ctx, StageRecord& record) {
  data::PrepareOptions o;
  o.out_dir = ctx.rc.layout.samples();
  o.data_dir = ctx.rc.data_dir;
  o.force = ctx.opt.force;
  log::info("prepare: dataset ", ctx.rc.dataset_path, " -> ", o.out_dir);
  const auto s = data::prepare(ctx.rc.dataset, o, ctx.comm);
  int written = 0;
  for (const auto& set : s.sets) written += set.reused ? 0 : 1;
  record.written = concat(written, " set(s)");
  record.reused = written == 0;
  log::info(data::prepare_summary_line(s, o.out_dir));
}

// The resolved parameters without the header comment naming their origin.
std::string parameters_text(const std::string& yaml) {
  std::istringstream in(yaml);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("#", 0) != 0) out += line + "\n";
  return out;
}

// True when a complete model file was trained with other parameters than
// the pipeline's (as its <model>_config.yaml says): the model is stale.
bool parameters_changed(const Context& ctx, const ModelRun& m, const config::Config& params) {
  const auto dir = fs::path(ctx.rc.layout.models());
  const auto model = (dir / models::model_file_name(m.name)).string();
  const auto config = (dir / models::model_config_name(m.name)).string();
  int changed = 0;
  if (mpi::rank(ctx.comm) == 0 && output_complete(model) && output_complete(config)) {
    std::ifstream in(config);
    std::stringstream text;
    text << in.rdbuf();
    changed = parameters_text(text.str()) != parameters_text(params.to_yaml());
  }
  MPI_Bcast(&changed, 1, MPI_INT, 0, ctx.comm);
  if (changed)
    log::info("run: train ", m.name, ": ", model, " was trained with other parameters (", config,
              "): training it again");
  return changed != 0;
}

void train_stage(Context& ctx, const ModelRun& m, StageRecord& record) {
  const auto samples = ctx.rc.layout.samples(), out = ctx.rc.layout.models();
  const auto& params = ctx.params_of(m);
  const bool force = ctx.opt.force || parameters_changed(ctx, m, params);
  train::TrainRequest request;
  request.samples_dir = samples;
  request.out_dir = out;
  request.force = force;
  request.resume = !force;  // a resubmitted job continues from the last epoch's checkpoint
  const auto r = train::train_model(m.name, params, request, ctx.comm);
  record.reused = r.reused;
  record.written = r.model_path;
  if (r.reused) return;
  ctx.retrained.push_back(m.name);
  log::info(train::train_summary_line(m.name, r, mpi::size(ctx.comm)));
}

// A study per tuned model in <output>/tune/<model>; a rerun continues it
// (the journal), so a finished study trains nothing and only rewrites its
// outputs. Its best_params.yaml then replaces the model's params file.
void tune_stage(Context& ctx, const ModelRun& m, StageRecord& record) {
  const auto& rc = ctx.rc;
  tune::SearchSpace space;
  all_ranks_agree(ctx.comm, [&] { space = tune::SearchSpace::load(m.tune_space); });
  tune::StudyOptions o;
  o.samples_dir = rc.layout.samples();
  o.out_dir = (fs::path(rc.layout.tune()) / m.name).string();
  o.n_trials = rc.tune_trials;
  // The pipeline's group size is a wish: one job may have fewer ranks.
  o.group_size = std::min(rc.tune_group_size, mpi::size(ctx.comm));
  o.seed = rc.tune_seed;
  o.max_epochs = rc.tune_epochs;
  const auto r = tune::run_study(space, o, ctx.comm);
  record.reused = r.run_here == 0;
  record.written = concat(r.finished, " trial(s) in ", o.out_dir);
  all_ranks_agree(ctx.comm, [&] {
    FR_REQUIRE(r.best_number >= 0, "tune ", m.name, ": no complete trial among ", r.finished, " (",
               r.pruned, " pruned, ", r.failed, " failed) in ", o.out_dir,
               ", so no best parameters to train with; see the trials' logs there");
    ctx.tuned.emplace(m.name, model_params(rc.path, m.name, r.best_params_path, m.overrides));
  });
  log::info("tune ", m.name, ": ", r.finished, " trial(s) finished (", r.complete, " complete, ",
            r.pruned, " pruned, ", r.failed, " failed), ", r.run_here, " run now; best trial ",
            r.best_number, ", validation MSE ", r.best_value, " (z-scored): ", r.best_params_path);
}

std::vector<std::string> model_names(const RunConfig& rc) {
  std::vector<std::string> names;
  for (const auto& m : rc.models) names.push_back(m.name);
  return names;
}

// The caches of a model trained by this run are redone (its old caches, if
// any, came from another model file); the others are skipped when complete.
void reconstruct_stage(Context& ctx, StageRecord& record) {
  std::vector<std::string> fresh, others;
  for (const auto& name : model_names(ctx.rc))
    (ctx.opt.force || std::count(ctx.retrained.begin(), ctx.retrained.end(), name) ? fresh : others)
        .push_back(name);
  int written = 0;
  for (const auto* models : {&fresh, &others}) {
    if (models->empty()) continue;
    recon::ReconstructOptions o;
    o.models_dir = ctx.rc.layout.models();
    o.models = *models;
    o.experiments = ctx.rc.experiments;
    o.regions = ctx.rc.regions;
    o.first_year = ctx.rc.first_year;
    o.last_year = ctx.rc.last_year;
    o.out_dir = ctx.rc.layout.caches();
    o.data_dir = ctx.rc.data_dir;
    o.start_april = ctx.rc.start_april;
    o.force = models == &fresh;
    const auto s = recon::reconstruct(ctx.rc.dataset, o, ctx.comm);
    written += s.caches_written;
    log::info(recon::reconstruct_summary_line(s, o.out_dir));
  }
  record.written = concat(written, " cache(s)");
  record.reused = written == 0;
}

std::string absolute(const std::string& path) {
  return fs::absolute(path).lexically_normal().string();
}

// Absolute paths: analyze fingerprints its inputs by path, so the same
// pipeline finds its analysis complete however the paths were spelt.
void analyze_stage(Context& ctx, StageRecord& record) {
  const auto& rc = ctx.rc;
  analysis::AnalyzeOptions o;
  o.caches_dir = absolute(rc.layout.caches());
  o.out_dir = absolute(rc.layout.analysis());
  o.models_dir = absolute(rc.layout.models());
  o.samples_dir = absolute(rc.layout.samples());  // train.h5: the climatology baseline
  if (rc.explain) o.explain_dir = absolute(rc.layout.explain());
  if (rc.tune) o.tune_dir = absolute(rc.layout.tune());
  o.models = model_names(rc);
  if (rc.dataset.get<bool>("pco2_route.enabled")) {
    // The caches are named after the route; the samples' target is the pCO2,
    // whose climatology is no flux baseline.
    for (auto& m : o.models) m += "_pco2";
    o.models.push_back("simulated_pco2");
    o.samples_dir.clear();
    log::info(
        "analyze: pCO2 route: no climatology baseline (the samples' target is the pCO2); "
        "analyze these caches beside the direct flux models' with --samples of their "
        "dataset for one");
  }
  o.regions = rc.regions;
  o.experiments = rc.experiments;
  o.first_year = rc.first_year;
  o.last_year = rc.last_year;
  o.map_months = rc.map_months;
  o.provenance = {"pipeline=" + absolute(rc.path), "dataset=" + absolute(rc.dataset_path),
                  "resolved pipeline=" + absolute(rc.layout.resolved_config()),
                  "samples=" + absolute(rc.layout.samples())};
  if (!rc.data_dir.empty()) o.provenance.push_back("input files=" + absolute(rc.data_dir));
  for (const auto& m : rc.models)  // overrides: in the pipeline file
    if (!m.tune_space.empty())
      o.provenance.push_back(m.name + " search space=" + absolute(m.tune_space));
    else if (!m.params_path.empty())
      o.provenance.push_back(m.name + " parameters=" + absolute(m.params_path));
  o.command = ctx.opt.command;
  o.force = ctx.opt.force;
  const auto s = analysis::analyze(o, ctx.comm);
  record.written = concat(s.figures, " figure(s), ", s.metric_rows, " metric row(s), the report");
  record.reused = s.reused;
  ctx.summary.report_path = absolute(s.report_path);
  if (s.reused) return;
  log::info(analysis::analyze_summary_line(s));
}

// run_summary.json next to the outputs: the stages, their times and outputs.
// Every model of the pipeline on the validation set; a model trained again
// by this run has its explanations redone.
void explain_stage(Context& ctx, StageRecord& record) {
  const auto& rc = ctx.rc;
  explain::ExplainOptions o;
  o.models_dir = rc.layout.models();
  o.samples_dir = rc.layout.samples();
  o.out_dir = rc.layout.explain();
  o.models = model_names(rc);
  o.months = rc.explain_months;
  o.instances = rc.explain_instances;
  o.background = rc.explain_background;
  o.kmeans = static_cast<int>(rc.explain_kmeans);
  o.force = ctx.opt.force || !ctx.retrained.empty();
  const auto s = explain::explain(o, ctx.comm);
  record.written = concat(s.files.size(), " file(s) in ", o.out_dir);
  record.reused = s.models.empty();
  log::info("explain: ", s.models.size(), " model(s), ", s.instances, " instance(s) in ",
            log::seconds(s.seconds), " (",
            explain::rate_text(static_cast<double>(s.instances), s.explain_seconds),
            " instances/s) -> ", o.out_dir);
}

void write_summary(const Context& ctx) {
  json stages = json::array();
  for (const auto& s : ctx.summary.stages)
    stages.push_back(
        {{"stage", s.name}, {"written", s.written}, {"reused", s.reused}, {"seconds", s.seconds}});
  const json doc = {{"config", absolute(ctx.rc.path)},
                    {"dataset", absolute(ctx.rc.dataset_path)},
                    {"output", absolute(ctx.rc.layout.root)},
                    {"ranks", mpi::size(ctx.comm)},
                    {"force", ctx.opt.force},
                    {"stages", stages},
                    {"seconds", ctx.summary.seconds},
                    {"report", ctx.summary.report_path},
                    {"software", std::string("fluxrecon ") + FLUXRECON_VERSION}};
  all_ranks_agree(ctx.comm, [&] {
    if (mpi::rank(ctx.comm) == 0)
      write_text_atomically(ctx.summary.summary_path, doc.dump(2) + "\n");
  });
}

}  // namespace

std::string stage_times(const RunSummary& summary) {
  std::string out;
  for (const auto& s : summary.stages)
    out += (out.empty() ? "" : ", ") + s.name + " " + log::seconds(s.seconds) +
           (s.reused ? " (complete)" : "");
  return out;
}

RunSummary run_pipeline(const RunConfig& rc, const RunOptions& opt, MPI_Comm comm) {
  const double start = wall_seconds();
  Context ctx{rc, opt, comm, {}, {}, {}};
  ctx.summary.summary_path = rc.layout.summary();
  // The resolved pipeline next to its outputs, before any stage runs.
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) != 0) return;
    ensure_directory(rc.layout.root);
    write_text_atomically(rc.layout.resolved_config(), rc.pipeline.to_yaml());
  });
  if (rc.synthesize) run_stage(ctx, "synth", [&](StageRecord& r) { synth_stage(ctx, r); });
  run_stage(ctx, "prepare", [&](StageRecord& r) { prepare_stage(ctx, r); });
  for (const auto& m : rc.models)
    if (!m.tune_space.empty())
      run_stage(ctx, "tune " + m.name, [&](StageRecord& r) { tune_stage(ctx, m, r); });
  for (const auto& m : rc.models)
    run_stage(ctx, "train " + m.name, [&](StageRecord& r) { train_stage(ctx, m, r); });
  run_stage(ctx, "reconstruct", [&](StageRecord& r) { reconstruct_stage(ctx, r); });
  // Explanations first: their figures join the analysis report.
  if (rc.explain) run_stage(ctx, "explain", [&](StageRecord& r) { explain_stage(ctx, r); });
  run_stage(ctx, "analyze", [&](StageRecord& r) { analyze_stage(ctx, r); });
  ctx.summary.seconds = mpi::max(wall_seconds() - start, comm);
  write_summary(ctx);
  return ctx.summary;
}

}  // namespace fluxrecon::pipeline
