// The XGBoost C API pieces that the model (prediction, SHAP) and its trainer
// share: owned handles, DMatrix construction, threads per rank and the
// inplace and DMatrix predictions.
#pragma once

#include <mpi.h>
#include <xgboost/c_api.h>

#include <cstdint>
#include <vector>

#include "models/xgb_collective.hpp"

namespace fluxrecon::models::xgb_capi {

// The model attribute that holds fluxrecon's JSON metadata.
constexpr const char* kMetadataAttribute = "fluxrecon_metadata";

// Owns a DMatrix or a Booster handle.
struct DMatrix {
  DMatrixHandle handle = nullptr;
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (handle) XGDMatrixFree(handle);
  }
};
struct Booster {
  BoosterHandle handle = nullptr;
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (handle) XGBoosterFree(handle);
  }
};

// `threads` build it (0: all cores); `collective` checks the call where the
// DMatrix is distributed (its construction agrees on the column count).
void make_dmatrix(DMatrix& m, const float* flat, std::int64_t rows, int width, int threads,
                  XgbCollective* collective);

// Threads per rank: the cores of this node shared among its ranks.
int threads_per_rank(MPI_Comm comm);

// Predictions straight from the rows (XGBoost's inplace prediction, as
// Python's inplace_predict): no DMatrix copy of the data.
std::vector<float> predict_values(BoosterHandle booster, const float* flat, std::int64_t n,
                                  int width);

// SHAP contributions (type 2) or interactions (type 4) need a DMatrix.
std::vector<float> predict_contributions(BoosterHandle booster, const float* flat, std::int64_t n,
                                         int width, int type = 2);

}  // namespace fluxrecon::models::xgb_capi
