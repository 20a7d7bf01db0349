// Neural model files (HDF5, ARCHITECTURE.md): one float32 dataset per PyTorch
// state_dict key with PyTorch's shape, and two JSON attributes:
//   hyperparameters  {"hidden_dims": [...], "hidden_dim": H, "num_layers": L, "dropout": p}
//                    (what ../shared/bench/torch_models.py reads to build the model)
//   metadata         model kind, window, feature order, normalisation statistics,
//                    training provenance, software version
// A model file alone is enough to reconstruct. Checkpoints use the same
// layout plus flat arrays under "checkpoint/" and a "checkpoint" attribute.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/sample_store.hpp"
#include "models/network_spec.hpp"

namespace fluxrecon::models {

struct ModelFile {
  NetworkSpec spec;
  StateDict weights;
  nlohmann::json metadata;                          // see above; "model" = kind name
  std::map<std::string, std::vector<float>> extra;  // checkpoint arrays
  nlohmann::json checkpoint;                        // null in a model file
};

// Rank-local: writes `file` to `path` under a temporary name, then renames.
void write_model_file(const std::string& path, const ModelFile& file);
// Rank-local: reads and validates (spec from metadata + hyperparameters,
// every weight's presence and shape is checked by ParameterSet::load later).
ModelFile read_model_file(const std::string& path);

// Any state_dict as such a file (one float32 dataset per key with PyTorch's
// shape, 0-d for scalars) with string `attributes` (JSON text by convention);
// rank-local, written under a temporary name and renamed. The reader fails
// naming the file when one of `attribute_names` is missing.
void write_state_dict_file(const std::string& path, const StateDict& weights,
                           const std::map<std::string, std::string>& attributes);
struct StateDictFile {
  StateDict weights;
  std::map<std::string, std::string> attributes;
};
StateDictFile read_state_dict_file(const std::string& path,
                                   const std::vector<std::string>& attribute_names);

// The normalisation statistics stored in a model's metadata.
io::Normalisation model_normalisation(const nlohmann::json& metadata);
nlohmann::json normalisation_json(const io::Normalisation& norm);
nlohmann::json hyperparameters_json(const NetworkSpec& spec);

}  // namespace fluxrecon::models
