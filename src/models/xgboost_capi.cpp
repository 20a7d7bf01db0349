#include "models/xgboost_capi.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon::models::xgb_capi {
using json = nlohmann::json;

namespace {

std::vector<float> copy_result(const bst_ulong* shape, bst_ulong dims, const float* result) {
  bst_ulong total = 1;
  for (bst_ulong d = 0; d < dims; ++d) total *= shape[d];
  return std::vector<float>(result, result + total);
}

}  // namespace

void make_dmatrix(DMatrix& m, const float* flat, std::int64_t rows, int width, int threads,
                  XgbCollective* collective) {
  auto create = [&] {
    return XGDMatrixCreateFromMat_omp(rows ? flat : nullptr, static_cast<bst_ulong>(rows),
                                      static_cast<bst_ulong>(width),
                                      std::numeric_limits<float>::quiet_NaN(), &m.handle, threads);
  };
  if (collective) {
    collective->run("XGDMatrixCreateFromMat_omp", create);
  } else {
    xgb_check(create(), "XGDMatrixCreateFromMat_omp");
  }
}

int threads_per_rank(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  const int local = mpi::size(node);
  MPI_Comm_free(&node);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / local);
}

std::vector<float> predict_values(BoosterHandle booster, const float* flat, std::int64_t n,
                                  int width) {
  if (n == 0) return {};
  const json rows = {{"data", {reinterpret_cast<std::uintptr_t>(flat), true}},
                     {"shape", {n, width}},
                     {"typestr", "<f4"},
                     {"version", 3}};
  const std::string config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
      R"( "strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  xgb_check(XGBoosterPredictFromDense(booster, rows.dump().c_str(), config.c_str(), nullptr, &shape,
                                      &dims, &result),
            "XGBoosterPredictFromDense");
  return copy_result(shape, dims, result);
}

std::vector<float> predict_contributions(BoosterHandle booster, const float* flat, std::int64_t n,
                                         int width, int type) {
  DMatrix m;
  make_dmatrix(m, flat, n, width, 0, nullptr);
  const std::string config =
      concat(R"({"type": )", type, R"(, "training": false, "iteration_begin": 0,)",
             R"( "iteration_end": 0, "strict_shape": false})");
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  xgb_check(XGBoosterPredictFromDMatrix(booster, m.handle, config.c_str(), &shape, &dims, &result),
            "XGBoosterPredictFromDMatrix");
  return copy_result(shape, dims, result);
}

}  // namespace fluxrecon::models::xgb_capi
