#include "models/encoder_file.hpp"

#include "core/error.hpp"
#include "models/model_file.hpp"

namespace fluxrecon::models {
using json = nlohmann::json;

void normalise_window(const std::uint8_t* pixels, int width, int channels, int x0, int y0,
                      int window_w, int window_h, float* out) {
  FR_REQUIRE(channels == 3 || channels == 4, "embedding input: images need 3 or 4 channels, not ",
             channels);
  const ImageNormalisation norm;
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.0f / (255.0f * norm.std[c]), shift = norm.mean[c] / norm.std[c];
    float* plane = out + std::size_t(c) * std::size_t(window_w) * std::size_t(window_h);
    for (int j = 0; j < window_h; ++j) {
      const std::uint8_t* row =
          pixels + (std::size_t(y0 + j) * std::size_t(width) + std::size_t(x0)) * channels + c;
      for (int i = 0; i < window_w; ++i)
        plane[std::size_t(j) * window_w + i] =
            float(row[std::size_t(i) * channels]) * scale - shift;
    }
  }
}

json encoder_spec_json(const EncoderSpec& spec) {
  return {{"input_channels", spec.input_channels},
          {"base_width", spec.base_width},
          {"blocks", spec.blocks},
          {"head", spec.head},
          {"head_hidden", spec.head_hidden},
          {"embedding_dims", spec.embedding_dims}};
}

void write_encoder_file(const std::string& path, const EncoderFile& file) {
  json meta = file.metadata.is_null() ? json::object() : file.metadata;
  meta["model"] = "triplet_embedding";
  const ImageNormalisation norm;
  meta["input_normalisation"] = {{"scale", 1.0 / 255.0},
                                 {"mean", {norm.mean[0], norm.mean[1], norm.mean[2]}},
                                 {"std", {norm.std[0], norm.std[1], norm.std[2]}}};
  write_state_dict_file(
      path, file.weights,
      {{"hyperparameters", encoder_spec_json(file.spec).dump()}, {"metadata", meta.dump()}});
}

EncoderFile read_encoder_file(const std::string& path) {
  auto raw = read_state_dict_file(path, {"hyperparameters", "metadata"});
  EncoderFile file;
  try {
    const json hyper = json::parse(raw.attributes.at("hyperparameters"));
    file.metadata = json::parse(raw.attributes.at("metadata"));
    FR_REQUIRE(file.metadata.value("model", std::string()) == "triplet_embedding", "'", path,
               "' is not a triplet embedding model (metadata model '",
               file.metadata.value("model", std::string("?")), "')");
    EncoderSpec& s = file.spec;
    s.input_channels = hyper.at("input_channels").get<int>();
    s.base_width = hyper.at("base_width").get<int>();
    s.blocks = hyper.at("blocks").get<std::vector<int>>();
    s.head = hyper.at("head").get<std::string>();
    s.head_hidden = hyper.at("head_hidden").get<int>();
    s.embedding_dims = hyper.at("embedding_dims").get<int>();
  } catch (const json::exception& e) {
    FR_FAIL("embedding model file '", path, "': unreadable or incomplete attribute: ", e.what());
  }
  const EncoderSpec& s = file.spec;
  bool valid = s.input_channels > 0 && s.base_width > 0 && !s.blocks.empty() && s.head_hidden > 0 &&
               s.embedding_dims > 0 && (s.head == "orig_fastai" || s.head == "linear");
  for (int b : s.blocks) valid = valid && b > 0;
  FR_REQUIRE(valid, "embedding model file '", path, "': invalid hyperparameters ",
             encoder_spec_json(s).dump());
  file.weights = std::move(raw.weights);
  return file;
}

}  // namespace fluxrecon::models
