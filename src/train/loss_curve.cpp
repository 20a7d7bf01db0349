#include "train/loss_curve.hpp"

#include <plplot/plstream.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.hpp"

namespace fluxrecon::train {

void write_loss_curve(const std::string& png_path, const std::string& model,
                      const std::vector<EpochRecord>& history, int best_epoch) {
  if (history.empty()) return;
  AtomicOutput out(png_path, MPI_COMM_SELF);
  std::vector<PLFLT> x, train, valid;
  for (const auto& e : history) {
    x.push_back(e.epoch);
    train.push_back(e.train_mse);
    valid.push_back(e.validation_mse);
  }
  PLFLT lo = std::min(*std::min_element(train.begin(), train.end()),
                      *std::min_element(valid.begin(), valid.end()));
  PLFLT hi = std::max(*std::max_element(train.begin(), train.end()),
                      *std::max_element(valid.begin(), valid.end()));
  const PLFLT pad = std::max<PLFLT>(0.05 * (hi - lo), 1e-6);
  {
    plstream pls;
    pls.sdev("pngcairo");
    pls.sfnam(out.temp_path().c_str());
    pls.spage(0, 0, 1000, 625, 0, 0);
    pls.scolbg(255, 255, 255);
    pls.init();
    pls.scol0(3, 0, 0, 0);  // index 15 (the default ink) is white
    pls.col0(3);
    pls.env(x.front() - 0.5, std::max<PLFLT>(x.back(), x.front() + 1) + 0.5,
            std::max<PLFLT>(lo - pad, 0), hi + pad, 0,
            2);  // axis 2: with a grid, as the seed's plot
    const std::string title = "Training vs validation MSE (" + model + ")";
    pls.lab("Epoch", "MSE (z-scored target)", title.c_str());
    pls.scol0(1, 31, 119, 180);
    pls.scol0(2, 255, 127, 14);
    pls.width(2);
    pls.col0(1);
    pls.line(static_cast<PLINT>(x.size()), x.data(), train.data());
    pls.col0(2);
    pls.line(static_cast<PLINT>(x.size()), x.data(), valid.data());
    if (best_epoch > 0) {
      PLFLT bx = best_epoch,
            by = valid[static_cast<std::size_t>(best_epoch - history.front().epoch)];
      pls.poin(1, &bx, &by, 4);
    }
    PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE}, colors[2] = {1, 2}, styles[2] = {1, 1};
    PLFLT widths[2] = {2, 2}, text_scale = 0.9, legend_w = 0, legend_h = 0;
    const char* texts[2] = {"Train MSE", "Validation MSE"};
    PLINT text_colors[2] = {3, 3}, zero[2] = {0, 0};
    PLFLT zero_f[2] = {0, 0};
    const char* none[2] = {"", ""};
    pls.legend(&legend_w, &legend_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
               PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.1, 0, 3, 1,
               0, 0, 2, opt, 1.0, text_scale, 2.0, 0.0, text_colors, texts, nullptr, nullptr,
               nullptr, nullptr, colors, styles, widths, zero, zero_f, zero, none);
  }  // plstream's destructor finishes the PNG
  out.commit();
}

}  // namespace fluxrecon::train
