// The sample store: one HDF5 file per set (train, validation, one test set
// per year/region/experiment), written collectively with parallel HDF5.
//   features (N, window, F) float32    z-scored, feature order in `feature_names`
//                                      (F = 14 for the seed's features)
//   target   (N) float32               z-scored with the training statistics
//   lat, lon (N) float32, year, month (N) int32, location (N) int64 = y*nx + x
// Root attributes: feature_names, feature_mean/std (F), target_mean/std,
// and a JSON `metadata` string (set, region, experiment, years, seed, inputs).
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::io {

struct Normalisation {
  std::vector<double> feature_mean, feature_std;  // one per feature
  double target_mean = 0, target_std = 1;
};

struct SampleBlock {  // this rank's part of a store, in memory
  std::vector<float> features, target, lat, lon;
  std::vector<std::int32_t> year, month;
  std::vector<std::int64_t> location;
  std::int64_t size() const { return static_cast<std::int64_t>(target.size()); }
};

// The first non-finite feature or target of `block` (samples numbered from
// `first_sample`) as an error text naming `path`, the dataset, the sample and
// the feature; "" when every value is finite. NaN or infinite inputs would
// make XGBoost and the networks train on garbage (or, at several ranks, stop
// in a collective), so no store holds them.
std::string first_non_finite(const SampleBlock& block, int window,
                             const std::vector<std::string>& feature_names,
                             std::int64_t first_sample, const std::string& path);

class SampleStoreWriter {
 public:
  // Collective. Creates `path` (a temporary name: commit is the caller's)
  // for `total` samples of `window` months, and reserves the disk space for
  // them, so that a full disk fails here. Every failure of the writer is
  // raised on all ranks together (a rank-local one would leave the others in
  // HDF5's collective close).
  SampleStoreWriter(const std::string& path, std::int64_t total, int window,
                    const std::vector<std::string>& feature_names, const Normalisation& norm,
                    const std::string& metadata_json, MPI_Comm comm);
  ~SampleStoreWriter();
  SampleStoreWriter(const SampleStoreWriter&) = delete;
  SampleStoreWriter& operator=(const SampleStoreWriter&) = delete;

  // Collective: writes `block` at global offset `offset`. Every rank must
  // call it the same number of times (an empty block is fine). A non-finite
  // feature or target on any rank fails all of them before anything is written.
  void write(std::int64_t offset, const SampleBlock& block);
  // Collective: flushes and closes.
  void close();

 private:
  herr_t write_dataset(const char* name, hid_t type, std::int64_t offset, std::int64_t count,
                       int inner, const void* data);
  void close_quietly();
  std::string path_;
  MPI_Comm comm_;
  int window_, features_;
  std::vector<std::string> names_;
  hid_t file_ = -1, transfer_ = -1;
};

// Rank-local (serial HDF5) reads, for statistics reuse and tests. Every
// reader fails on a non-finite feature or target (see first_non_finite).
Normalisation read_normalisation(const std::string& path);
std::string read_metadata(const std::string& path);
std::string read_metadata_from(hid_t file, const std::string& path);
SampleBlock read_samples(const std::string& path, int* window = nullptr);

// Collective (parallel HDF5): this rank's contiguous shard of the store,
// samples [N*r/P, N*(r+1)/P), so every sample is read by exactly one rank and
// the shards are the same for a given rank count. A rank may get none.
struct SampleShard {
  SampleBlock block;
  std::int64_t total = 0, offset = 0;
  int window = 0;
  Normalisation norm;
  std::string metadata;                    // the store's JSON metadata
  std::vector<std::string> feature_names;  // in the order of the features' last axis
};
SampleShard read_sample_shard(const std::string& path, MPI_Comm comm);

// The `selection` entry of a store's JSON metadata (what decided its content,
// recorded by prepare) as canonical JSON text; "null" when the metadata has
// none or is not JSON (a store of an older version).
std::string store_selection(const std::string& metadata_json);

// Collective: false when train.h5 or validation.h5 in `samples_dir` was
// prepared with other settings than the stores a model was trained on
// (`model_metadata`: the model's JSON metadata with "train_store" and
// "validation_store", the stores' metadata when it was trained), so that a
// rerun trains again instead of keeping a model of other samples. True when
// the settings are the same, or when a store is gone (nothing to compare).
bool stores_unchanged_since(const std::string& model_metadata, const std::string& samples_dir,
                            MPI_Comm comm);

}  // namespace fluxrecon::io
