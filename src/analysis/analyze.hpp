// `fluxrecon analyze`: skill of the reconstructions in a folder of caches
// (fluxrecon reconstruct) against the simulation: area-weighted metrics per
// model, region, experiment and year (CSV), maps of simulated and
// reconstructed flux and their difference, annual means, the mean seasonal
// cycle, density scatter plots, loss curves of the neural models, an
// inter-model comparison and one HTML report with the provenance of every
// input.
//
// With --samples (a prepare output folder), every analysis also scores a
// baseline: the per-location monthly climatology of the training target
// (analysis/climatology.hpp), shown as the pseudo-model "climatology" and
// compared with every model (skill_vs_climatology.csv). Caches with the
// variable `sampled` (a spatial sampling design) are scored on their
// never-sampled cells only (sampled == 0).
//
// Ranks read row blocks of every cache and reduce exact mergeable moments
// (analysis/metrics.hpp), so every number is the same for any rank count;
// rank 0 draws the figures and writes the report.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::analysis {

struct AnalyzeOptions {
  std::string caches_dir;  // <model>_<region>_<experiment>_<year>.nc
  std::string out_dir;     // metrics CSVs, figures/, index.html
  // Optional: the folder of the model files; adds the loss curves
  // (<model>_losses.csv) and the model files to the provenance.
  std::string models_dir;
  // Optional: the output folder of fluxrecon prepare; its train.h5 gives the
  // climatology baseline. Empty = no baseline.
  std::string samples_dir;
  // Optional: the output folder of fluxrecon explain; its figures join the
  // report (section "Explanations").
  std::string explain_dir;
  // Optional: a study folder of fluxrecon tune, or a folder of them (as
  // fluxrecon run writes); each study gets its trials table, optimisation
  // history and parameter importance in the report (section "Hyperparameter
  // search").
  std::string tune_dir;
  std::vector<std::string> models;       // empty = every model found
  std::vector<std::string> regions;      // empty = every region found
  std::vector<std::string> experiments;  // empty = every experiment found
  // Inclusive year range; 0 = the years found. When set, a cache set missing
  // a year of the range is an error that lists the missing years.
  int first_year = 0, last_year = 0;
  std::vector<int> map_months{1, 7};  // months (1-12) of the side-by-side maps
  // Further inputs listed in the report's provenance (dataset or pipeline
  // config); each as "kind=path".
  std::vector<std::string> provenance;
  std::vector<std::string> command;    // the command line, for the report
  bool force = false;                  // redo a complete analysis
  bool self_contained_report = false;  // figures inside index.html, not linked beside it
};

struct AnalyzeSummary {
  int caches = 0;   // caches read
  int sets = 0;     // (model, region, experiment) combinations
  int figures = 0;  // PNG files written
  int metric_rows = 0;
  bool baseline = false;  // the climatology baseline was scored (--samples)
  bool reused = false;    // a complete analysis was already there
  std::string report_path;
  double seconds = 0;
  double read_seconds = 0;       // reading the caches and reducing (max over ranks)
  double output_seconds = 0;     // figures, tables and the report on rank 0
  std::int64_t cell_months = 0;  // values analysed (cells x months x caches)
};

// Collective over `comm`. Throws a collective fluxrecon::Error for bad input:
// no caches, caches of mixed grids or flux units, a year missing from the
// range (naming it), a requested model, region or experiment without caches,
// a region without any valid cell, a --samples folder without train.h5 or
// with an unreadable one, a model named like the baseline (climatology).
AnalyzeSummary analyze(const AnalyzeOptions& options, MPI_Comm comm);
// The one-line summary of an analyze run (the subcommand's and the pipeline
// stage's).
std::string analyze_summary_line(const AnalyzeSummary& summary);

}  // namespace fluxrecon::analysis
