#include "train/loss_curve.hpp"

#include "plot/plots.hpp"

namespace fluxrecon::train {

void write_loss_curve(const std::string& png_path, const std::string& model,
                      const std::vector<EpochRecord>& history, int best_epoch) {
  if (history.empty()) return;
  plot::LinePlot plot;
  plot.title = "Training vs validation MSE (" + model + ")";
  plot.xlabel = "Epoch";
  plot.ylabel = "MSE (z-scored target)";
  plot.integer_x = true;
  plot::Series train{"Train MSE", {}, {}, {}, history.size() < 30};
  plot::Series valid{"Validation MSE", {}, {}, {}, history.size() < 30};
  for (const auto& e : history) {
    train.x.push_back(e.epoch);
    train.y.push_back(e.train_mse);
    valid.x.push_back(e.epoch);
    valid.y.push_back(e.validation_mse);
  }
  plot.series = {train, valid};
  if (best_epoch > 0) plot.vertical_lines.push_back({double(best_epoch), "best epoch (kept)"});
  plot::plot_lines(png_path, plot);
}

}  // namespace fluxrecon::train
