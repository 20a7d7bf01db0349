// The triplet embedding encoder (models/conv_encoder.*) against PyTorch: the
// fixture tests/data/encoder_fixture.json holds small convml_tt-style
// encoders (random weights and BatchNorm statistics), input images and the
// embeddings PyTorch computed (tests/support/torch_encoder.py fixture); the
// reverse direction (a model file we write loads into the PyTorch
// definition with strict key and shape checks) runs live where torch is
// importable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "models/conv_encoder.hpp"
#include "models/encoder_config.hpp"
#include "models/encoder_file.hpp"

namespace {

using fluxrecon::models::ConvEncoder;
using fluxrecon::models::EncoderFile;
using fluxrecon::models::EncoderSpec;
using fluxrecon::models::StateDict;
using fluxrecon::models::Tensor;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kSource = FLUXRECON_SOURCE_DIR;

json load_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

EncoderSpec spec_from(const json& h) {
  EncoderSpec s;
  s.input_channels = h.at("input_channels").get<int>();
  s.base_width = h.at("base_width").get<int>();
  s.blocks = h.at("blocks").get<std::vector<int>>();
  s.head = h.at("head").get<std::string>();
  s.head_hidden = h.at("head_hidden").get<int>();
  s.embedding_dims = h.at("embedding_dims").get<int>();
  return s;
}

StateDict weights_from(const json& w) {
  StateDict d;
  for (const auto& [name, t] : w.items()) {
    Tensor tensor;
    tensor.shape = t.at("shape").get<std::vector<std::size_t>>();
    for (double v : t.at("values")) tensor.values.push_back(static_cast<float>(v));
    d.emplace(name, std::move(tensor));
  }
  return d;
}

json weights_to(const StateDict& d) {
  json w = json::object();
  for (const auto& [name, t] : d) w[name] = {{"shape", t.shape}, {"values", t.values}};
  return w;
}

// Normalised (n, 3, h, w) inputs from the fixture's (n, h, w, 3) bytes.
std::vector<float> inputs_from(const json& images) {
  const int n = images.at("count"), h = images.at("height"), w = images.at("width");
  const auto bytes = images.at("bytes").get<std::vector<int>>();
  std::vector<std::uint8_t> pixels(bytes.begin(), bytes.end());
  std::vector<float> x(std::size_t(n) * 3 * h * w);
  for (int s = 0; s < n; ++s)
    fluxrecon::models::normalise_window(pixels.data() + std::size_t(s) * h * w * 3, w, 3, 0, 0, w,
                                        h, x.data() + std::size_t(s) * 3 * h * w);
  return x;
}

std::vector<float> embed(ConvEncoder& enc, const json& images) {
  const int n = images.at("count"), h = images.at("height"), w = images.at("width");
  const auto x = inputs_from(images);
  std::vector<float> y(std::size_t(n) * enc.spec().embedding_dims);
  enc.embed(x.data(), n, h, w, y.data());
  return y;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  ASSERT_GT(scale, 1e-3) << "a trivial reference cannot tell anything apart";
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(ConvEncoder, EmbeddingsEqualPyTorchFixture) {
  const json fixture = load_json(kSource + "/tests/data/encoder_fixture.json");
  ASSERT_EQ(fixture.at("cases").size(), 2u);
  for (const auto& c : fixture.at("cases")) {
    ConvEncoder enc(spec_from(c.at("hyperparameters")));
    enc.load(weights_from(c.at("weights")), "fixture");
    expect_close(embed(enc, c.at("images")), c.at("embeddings").get<std::vector<double>>(), 1e-4);
  }
}

TEST(ConvEncoder, ModelFileRoundTripsAndIsComplete) {
  const json fixture = load_json(kSource + "/tests/data/encoder_fixture.json");
  const auto& c = fixture.at("cases").at(0);
  EncoderFile file{spec_from(c.at("hyperparameters")), weights_from(c.at("weights")),
                   json{{"note", "test"}}};
  const auto path = (fs::temp_directory_path() / "fr_encoder_roundtrip.h5").string();
  fluxrecon::models::write_encoder_file(path, file);
  const auto back = fluxrecon::models::read_encoder_file(path);
  EXPECT_EQ(back.spec.blocks, file.spec.blocks);
  EXPECT_EQ(back.spec.head, "orig_fastai");
  EXPECT_EQ(back.metadata.at("model"), "triplet_embedding");
  EXPECT_EQ(back.metadata.at("note"), "test");
  ASSERT_EQ(back.weights.size(), file.weights.size());
  for (const auto& [name, t] : file.weights) {
    ASSERT_TRUE(back.weights.count(name)) << name;
    EXPECT_EQ(back.weights.at(name).shape, t.shape) << name;
    EXPECT_EQ(back.weights.at(name).values, t.values) << name;
  }
  EXPECT_TRUE(back.weights.at("backbone.1.num_batches_tracked").shape.empty());
  ConvEncoder enc(back.spec);
  enc.load(back.weights, path);
  expect_close(embed(enc, c.at("images")), c.at("embeddings").get<std::vector<double>>(), 1e-4);
  fs::remove(path);
}

TEST(ConvEncoder, LoadRejectsMissingUnknownAndMisshapenWeights) {
  EncoderSpec spec;
  spec.base_width = 2;
  spec.blocks = {1, 1};
  spec.head_hidden = 4;
  spec.embedding_dims = 3;
  ConvEncoder enc(spec);
  auto good = enc.state_dict();
  auto missing = good;
  missing.erase("backbone.5.0.downsample.1.running_var");
  EXPECT_THROW(enc.load(missing, "m"), fluxrecon::Error);
  auto unknown = good;
  unknown["backbone.9.weight"] = Tensor{{1}, {0.0f}};
  EXPECT_THROW(enc.load(unknown, "m"), fluxrecon::Error);
  auto shape = good;
  shape["head.4.weight"].shape = {8, 1};
  EXPECT_THROW(enc.load(shape, "m"), fluxrecon::Error);
  EXPECT_NO_THROW(enc.load(good, "m"));
}

TEST(ConvEncoder, DefaultIsResnet18WithTheSeedsHead) {
  const auto cfg =
      fluxrecon::config::Config::from_text("{}", fluxrecon::models::encoder_schema(), "test");
  const auto spec = fluxrecon::models::encoder_spec(cfg);
  ConvEncoder enc(spec);
  std::size_t backbone = 0, head = 0;
  for (const auto& [name, t] : enc.parameters().state_dict())
    (name.rfind("backbone.", 0) == 0 ? backbone : head) += t.values.size();
  EXPECT_EQ(backbone, 11176512u);  // torchvision resnet18 minus its fc
  EXPECT_EQ(head, 2u * 1024 + 1024 * 512 + 512 + 2 * 512 + 512 * 100 + 100);
  const auto training = fluxrecon::models::embedding_training(cfg);
  EXPECT_DOUBLE_EQ(training.learning_rate, 1e-2);
  EXPECT_DOUBLE_EQ(training.weight_decay, 0.01);
  EXPECT_DOUBLE_EQ(training.margin, 1.0);
  EXPECT_THROW(fluxrecon::config::Config::from_text("base_widht: 8",
                                                    fluxrecon::models::encoder_schema(), "test"),
               fluxrecon::Error);
}

// Our model file, read back and handed to PyTorch's definition with
// load_state_dict(strict=True), gives our embeddings.
TEST(ConvEncoder, ModelFileLoadsIntoPyTorch) {
  if (std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "torch is not importable: the committed fixture covers PyTorch -> ours";
  EncoderSpec spec;
  spec.base_width = 4;
  spec.blocks = {2, 1};
  spec.head_hidden = 12;
  spec.embedding_dims = 6;
  ConvEncoder enc(spec);
  enc.initialise(5);
  // Non-trivial running statistics.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  auto& buf = enc.buffers().values();
  for (float& v : buf) v = u(rng);
  enc.buffers().touch();
  const auto dir = fs::temp_directory_path() / "fr_encoder_torch";
  fs::create_directories(dir);
  const auto model = (dir / "model.h5").string();
  fluxrecon::models::write_encoder_file(model, {spec, enc.state_dict(), json::object()});
  const auto back = fluxrecon::models::read_encoder_file(model);
  std::mt19937 img(9);
  std::uniform_int_distribution<int> byte(0, 255);
  json images = {{"count", 3}, {"height", 34}, {"width", 30}};
  std::vector<int> bytes(3 * 34 * 30 * 3);
  for (int& b : bytes) b = byte(img);
  images["bytes"] = bytes;
  json in = {{"hyperparameters", fluxrecon::models::encoder_spec_json(back.spec)},
             {"weights", weights_to(back.weights)},
             {"images", images}};
  std::ofstream((dir / "in.json").string()) << in.dump();
  const std::string cmd = "/usr/bin/python3 " + kSource + "/tests/support/torch_encoder.py embed " +
                          (dir / "in.json").string() + " " + (dir / "out.json").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto out = load_json((dir / "out.json").string());
  expect_close(embed(enc, images), out.at("embeddings").get<std::vector<double>>(), 1e-4);
  fs::remove_all(dir);
}

}  // namespace
