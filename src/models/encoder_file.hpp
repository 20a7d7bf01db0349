// The triplet embedding model's file (HDF5, as the neural CO2 models' files,
// ARCHITECTURE.md): one float32 dataset per key of convml_tt's
// TripletTrainerModel state_dict with PyTorch's shape (BatchNorm running
// statistics and num_batches_tracked included, the latter as a float32
// scalar), and two JSON attributes:
//   hyperparameters  {"input_channels", "base_width", "blocks", "head",
//                     "head_hidden", "embedding_dims"} (EncoderSpec, the
//                     config keys' names)
//   metadata         {"model": "triplet_embedding", "input_normalisation":
//                     {"scale", "mean", "std"}, training provenance}
// Written complete under a temporary name and renamed, or not at all.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "models/encoder_config.hpp"
#include "models/network_spec.hpp"

namespace fluxrecon::models {

struct EncoderFile {
  EncoderSpec spec;
  StateDict weights;
  nlohmann::json metadata;
};

nlohmann::json encoder_spec_json(const EncoderSpec& spec);
// Rank-local; "model" and "input_normalisation" are filled in.
void write_encoder_file(const std::string& path, const EncoderFile& file);
// Rank-local; errors name the file and the missing or mistyped key.
EncoderFile read_encoder_file(const std::string& path);

// The seed's input normalisation (spec 8.2): byte / 255, then ImageNet's
// per-channel mean and standard deviation.
struct ImageNormalisation {
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};
// The window of `window_w` x `window_h` pixels at column x0, row y0 (rows
// from the top) of an image of `width` pixels per row and `channels` bytes
// per pixel (3 or 4: RGB or RGBA, the alpha dropped), normalised as above,
// into `out` (3, window_h, window_w).
void normalise_window(const std::uint8_t* pixels, int width, int channels, int x0, int y0,
                      int window_w, int window_h, float* out);

}  // namespace fluxrecon::models
