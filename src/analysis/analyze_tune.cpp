// The "Hyperparameter search" sections of the report (analyze --tune): per
// study folder of fluxrecon tune, its trials table (trials.csv) and the two
// figures the study drew with the plot helpers (optimisation_history.png,
// param_importance.png). The study's files are read, not recomputed: the
// importance needs the search space, which only the study had.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/analyze_results.hpp"
#include "core/error.hpp"

namespace fluxrecon::analysis {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();  // an empty last cell
  return cells;
}

ReportSection study_section(const fs::path& dir) {
  const std::string csv = (dir / "trials.csv").string();
  std::ifstream in(csv);
  FR_REQUIRE(in.good(), "analyze: cannot read '", csv, "'");
  std::string line;
  std::getline(in, line);
  ReportTable table;
  table.header = split_csv_line(line);
  FR_REQUIRE(table.header.size() >= 3 && table.header[0] == "number" &&
                 table.header[1] == "state" && table.header[2] == "value",
             "analyze: '", csv, "' is not a trials table of fluxrecon tune (header '", line, "')");
  std::string best_number, best_text;
  double best = std::nan("");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto row = split_csv_line(line);
    FR_REQUIRE(row.size() == table.header.size(), "analyze: '", csv, "': line '", line, "' has ",
               row.size(), " cells, its header ", table.header.size());
    const double value = std::strtod(row[2].c_str(), nullptr);
    if (row[1] == "complete" && std::isfinite(value) && !(value >= best)) {
      best = value;
      best_number = row[0];
      best_text = row[2];
    }
    table.rows.push_back(std::move(row));
  }
  const std::string name = dir.filename().string();
  ReportSection s;
  s.title = "Hyperparameter search: " + name;
  table.title = "Trials of " + name;
  table.caption =
      concat(table.rows.size(), " trial(s) of the study in ", dir.string(),
             " (trials.csv); value: validation MSE of the z-scored target (a pruned trial: its "
             "last intermediate value). ",
             best_number.empty()
                 ? std::string("No complete trial.")
                 : concat("Best: trial ", best_number, ", ", best_text, "; its parameters in ",
                          (dir / "best_params.yaml").string(), "."));
  s.tables.push_back(std::move(table));
  s.text =
      "fluxrecon tune minimises the validation MSE. The optimisation history shows each "
      "trial's value and the best so far. A parameter's importance is the share of the "
      "variance of the complete trials' value ranks that its bins explain (epsilon squared: "
      "between-bin variance less its expectation without an effect, over the total, clipped at "
      "0); bins are a categorical parameter's choices, a numeric one's values in up to "
      "min(5, sqrt(n)) equal-count bins. It needs a few dozen trials to mean much.";
  for (const auto& [file, caption] :
       {std::pair<const char*, const char*>{"optimisation_history.png", "optimisation history"},
        {"param_importance.png", "parameter importance"}}) {
    const auto png = dir / file;
    if (fs::exists(png)) s.figures.push_back({png.string(), name + ": " + caption});
  }
  return s;
}

}  // namespace

std::vector<std::string> tune_studies(const std::string& dir) {
  FR_REQUIRE(fs::is_directory(dir), "analyze: --tune '", dir, "' is not a folder");
  if (fs::is_regular_file(fs::path(dir) / "trials.csv")) return {dir};
  std::vector<std::string> studies;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && fs::is_regular_file(e.path() / "trials.csv"))
      studies.push_back(e.path().string());
  std::sort(studies.begin(), studies.end());
  FR_REQUIRE(!studies.empty(), "analyze: --tune '", dir,
             "' holds no study of fluxrecon tune (trials.csv), nor do its subfolders");
  return studies;
}

std::vector<ReportSection> tune_sections(const std::string& dir) {
  std::vector<ReportSection> sections;
  for (const auto& study : tune_studies(dir)) sections.push_back(study_section(study));
  return sections;
}

}  // namespace fluxrecon::analysis
