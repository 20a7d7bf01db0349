#include "models/xgboost_model.hpp"

#include <xgboost/c_api.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "kernels/flatten.hpp"
#include "models/xgboost_capi.hpp"
#include "models/xgboost_config.hpp"

namespace fluxrecon::models {
using json = nlohmann::json;
using namespace xgb_capi;

std::vector<float> flatten_windows(const io::SampleBlock& block, int window, int dynamic) {
  const std::int64_t n = block.size();
  std::vector<float> flat(static_cast<size_t>(n) * kernels::flat_width(window, dynamic));
  kernels::FlattenWindows kernel{block.features.data(), window, flat.data(), dynamic};
  Kokkos::parallel_for("flatten_windows",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n), kernel);
  Kokkos::fence();
  return flat;
}

XgboostModel XgboostModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "cannot read XGBoost model file '", path, "'");
  std::stringstream text;
  text << in.rdbuf();
  const std::string bytes = text.str();
  XgboostModel m;
  BoosterHandle handle = nullptr;
  xgb_check(XGBoosterCreate(nullptr, 0, &handle), "XGBoosterCreate");
  m.booster_ = handle;
  xgb_check(XGBoosterLoadModelFromBuffer(handle, bytes.data(), bytes.size()),
            concat("loading XGBoost model '", path, "'").c_str());
  const char* attr = nullptr;
  int found = 0;
  xgb_check(XGBoosterGetAttr(handle, kMetadataAttribute, &attr, &found), "XGBoosterGetAttr");
  FR_REQUIRE(found, "'", path,
             "' is an XGBoost model without fluxrecon metadata (not trained by fluxrecon train)");
  m.metadata_ = json::parse(attr);
  m.window_ = m.metadata_.at("window").get<int>();
  m.dynamic_ = data::dynamic_feature_count(
      m.metadata_.at("features").get<std::vector<std::string>>(), "XGBoost model '" + path + "'");
  m.width_ = kernels::flat_width(m.window_, m.dynamic_);
  return m;
}

XgboostModel::XgboostModel(XgboostModel&& other) noexcept
    : booster_(other.booster_),
      width_(other.width_),
      window_(other.window_),
      dynamic_(other.dynamic_),
      metadata_(std::move(other.metadata_)) {
  other.booster_ = nullptr;
}

XgboostModel::~XgboostModel() {
  if (booster_) XGBoosterFree(booster_);
}

std::vector<float> XgboostModel::predict(const float* flat, std::int64_t n) const {
  return predict_values(booster_, flat, n, width_);
}

std::vector<float> XgboostModel::contributions(const float* flat, std::int64_t n) const {
  return predict_contributions(booster_, flat, n, width_);
}

std::vector<float> XgboostModel::interactions(const float* flat, std::int64_t n) const {
  return predict_contributions(booster_, flat, n, width_, 4);
}

}  // namespace fluxrecon::models
