// The convml_tt triplet embedding encoder (spec 8.2) on oneDNN: a
// torchvision-style ResNet backbone of BasicBlocks minus its avgpool and fc,
// then the `orig_fastai` or `linear` head, giving one embedding per image.
//
// Parameter names are those of convml_tt's TripletTrainerModel state_dict:
//   backbone.0.weight                 stem conv 7x7/2 (no bias)
//   backbone.1.{weight,bias,running_mean,running_var,num_batches_tracked}
//   backbone.<4+s>.<b>.conv1/bn1/conv2/bn2[.downsample.0 (1x1 conv)/.1 (bn)]
//   head.2 BatchNorm1d, head.4 Linear, head.6 BatchNorm1d, head.8 Linear (orig_fastai)
//   head.2 Linear (linear)
// (backbone = nn.Sequential(conv1, bn1, relu, maxpool, layer1, ...), head =
// nn.Sequential(AdaptiveConcatPool2d, Flatten, BatchNorm1d, Dropout, Linear,
// ReLU, BatchNorm1d, Dropout, Linear).)
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/conv_layers.hpp"
#include "models/encoder_config.hpp"
#include "models/linear.hpp"
#include "models/parameters.hpp"

namespace fluxrecon::models {

// What a training forward pass keeps for its backward pass.
struct EncoderTape {
  struct Block {
    Dims4 in, out;
    const float* x = nullptr;  // the block's input (the previous block's output)
    std::vector<float> z1, a1, z2, b2, zd, bd, act;
    BatchStats s1, s2, sd;
  };
  Dims4 input, stem, pooled;
  const float* x = nullptr;  // the input images
  std::vector<float> stem_conv, stem_act, pool_out;
  BatchStats stem_stats;
  std::vector<std::uint8_t> pool_workspace;
  std::vector<Block> blocks;
  std::vector<float> features, h1, mask1, d1, r, h2, mask2, d2;
  std::vector<int> argmax;
  BatchStats hs1, hs2;
};

class ConvEncoder {
 public:
  explicit ConvEncoder(const EncoderSpec& spec);
  ~ConvEncoder();
  ConvEncoder(const ConvEncoder&) = delete;
  ConvEncoder& operator=(const ConvEncoder&) = delete;

  const EncoderSpec& spec() const { return spec_; }
  ParameterSet& parameters() { return params_; }
  ParameterSet& buffers() { return buffers_; }

  // PyTorch's initialisation of the weights from `seed` (uniform bounds of
  // its default Conv2d / Linear init; BatchNorm weight 1, bias 0, running
  // mean 0, running variance 1).
  void initialise(std::uint64_t seed);
  // Trainable parameters and BatchNorm buffers under their state_dict names.
  StateDict state_dict() const;
  // Every key of the architecture must be present with its shape; unknown keys
  // are errors naming `origin`.
  void load(const StateDict& dict, const std::string& origin);

  // Inference (BatchNorm running statistics, no dropout): x (n, channels,
  // height, width) normalised images -> y (n, embedding_dims).
  void embed(const float* x, int n, int height, int width, float* y);

  // Training forward: BatchNorm on batch statistics (the running statistics
  // move), dropout (p 0.25, 0.5 in orig_fastai's head) when `dropout`, masks
  // from `rng`; `tape` keeps what backward needs (x must outlive it).
  void forward_training(const float* x, int n, int height, int width, bool dropout,
                        std::mt19937_64& rng, EncoderTape& tape, float* y);
  // dy (n, embedding_dims) of the tape's forward: adds to parameters().grads().
  void backward(EncoderTape& tape, const float* dy);

 private:
  struct Block {
    Conv2d conv1, conv2;
    BatchNorm bn1, bn2;
    std::unique_ptr<Conv2d> down;
    std::unique_ptr<BatchNorm> down_bn;
  };
  EncoderSpec spec_;
  ParameterSet params_, buffers_;
  std::unique_ptr<Conv2d> stem_;
  std::unique_ptr<BatchNorm> stem_bn_;
  MaxPool2d pool_{3, 2, 1};
  std::vector<Block> blocks_;
  std::unique_ptr<BatchNorm> head_bn1_, head_bn2_;
  std::unique_ptr<Linear> head_fc1_, head_fc2_;
  std::vector<float> a_, b_, c_, d_;  // activation scratch
};

}  // namespace fluxrecon::models
