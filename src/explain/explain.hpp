// `fluxrecon explain`: explanations of every registered model on instances
// of a sample store (prepare's validation or test set), against a background
// of the training set's samples of the same month in the instances' region:
//   mlp             KernelSHAP over the flat inputs (grouped by variable, lag)
//   xgboost, random_forest  exact TreeSHAP (XGBoost's C API), interactions optional
//   lstm, gru       TimeSHAP event, feature and cell level
//   attention_lstm  TimeSHAP and the attention scores alpha * beta
// Instances are split over the ranks in contiguous blocks and gathered; each
// instance's values depend only on it, its month's background and the seed,
// so the outputs are the same for any rank count.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::explain {

struct ExplainOptions {
  std::string models_dir, samples_dir, out_dir;
  std::vector<std::string> models{"all"};
  std::string set = "validation";        // store file stem in samples_dir: validation, test_...
  std::vector<int> months;               // months (1-12) of the instances; empty = all
  std::int64_t instances = 100;          // per model, drawn at random; 0 = every sample
  std::int64_t background = 2000;        // training samples per month
  int kmeans = 0;                        // KernelSHAP: summarise the background to k rows (0 = off)
  std::int64_t coalitions = 0;           // KernelSHAP coalitions; 0 = 2 M + 2048
  std::int64_t timeshap_samples = 0;     // TimeSHAP coalitions per level; 0 = as KernelSHAP
  double tolerance = 0;                  // TimeSHAP pruning tolerance (z-scored target)
  int top_events = 0, top_features = 0;  // TimeSHAP cell level; 0 = all
  bool interactions = false;             // XGBoost SHAP interaction values too
  std::uint64_t seed = 42;
  bool force = false;  // redo complete outputs
};

struct ExplainSummary {
  std::vector<std::string> models;  // explained
  std::vector<std::string> files;   // written
  std::int64_t instances = 0;       // over all models
  std::int64_t evaluations = 0;     // model inputs predicted, over all ranks and models
  double seconds = 0, explain_seconds = 0;
  int reused = 0;  // models whose outputs were complete
};

// Collective over `comm`; errors are raised on every rank together.
ExplainSummary explain(const ExplainOptions& options, MPI_Comm comm);

// "12.5": count / seconds with 3 significant digits ("0" for no time).
std::string rate_text(double count, double seconds);

}  // namespace fluxrecon::explain
