#include "models/conv_encoder.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "kernels/nn_conv.hpp"

namespace fluxrecon::models {

namespace {
bool is_buffer(const std::string& name) {
  for (const char* suffix : {".running_mean", ".running_var", ".num_batches_tracked"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}
}  // namespace

ConvEncoder::ConvEncoder(const EncoderSpec& spec) : spec_(spec) {
  FR_REQUIRE(!spec.blocks.empty(), "embedding model: blocks must name at least one stage");
  FR_REQUIRE(spec.head == "orig_fastai" || spec.head == "linear", "embedding model: head '",
             spec.head, "' is not one of orig_fastai, linear");
  stem_ = std::make_unique<Conv2d>(params_, "backbone.0", spec.input_channels, spec.base_width, 7,
                                   2, 3);
  stem_bn_ = std::make_unique<BatchNorm>(params_, buffers_, "backbone.1", spec.base_width);
  int in = spec.base_width;
  for (std::size_t s = 0; s < spec.blocks.size(); ++s) {
    const int width = spec.base_width << s;
    for (int b = 0; b < spec.blocks[s]; ++b) {
      const int stride = (s > 0 && b == 0) ? 2 : 1;
      const std::string name = "backbone." + std::to_string(4 + s) + "." + std::to_string(b);
      Block block{Conv2d(params_, name + ".conv1", in, width, 3, stride, 1),
                  Conv2d(params_, name + ".conv2", width, width, 3, 1, 1),
                  BatchNorm(params_, buffers_, name + ".bn1", width),
                  BatchNorm(params_, buffers_, name + ".bn2", width),
                  nullptr,
                  nullptr};
      // torchvision registers bn1 before conv2; the state_dict is a map,
      // so only the initialisation order differs, which is ours to choose.
      if (stride != 1 || in != width) {
        block.down =
            std::make_unique<Conv2d>(params_, name + ".downsample.0", in, width, 1, stride, 0);
        block.down_bn =
            std::make_unique<BatchNorm>(params_, buffers_, name + ".downsample.1", width);
      }
      blocks_.push_back(std::move(block));
      in = width;
    }
  }
  const int features = spec.backbone_features();
  if (spec.head == "orig_fastai") {
    head_bn1_ = std::make_unique<BatchNorm>(params_, buffers_, "head.2", 2 * features);
    head_fc1_ = std::make_unique<Linear>(params_, "head.4", 2 * features, spec.head_hidden);
    head_bn2_ = std::make_unique<BatchNorm>(params_, buffers_, "head.6", spec.head_hidden);
    head_fc2_ = std::make_unique<Linear>(params_, "head.8", spec.head_hidden, spec.embedding_dims);
  } else {
    head_fc1_ = std::make_unique<Linear>(params_, "head.2", features, spec.embedding_dims);
  }
  initialise(0);
}

ConvEncoder::~ConvEncoder() = default;

void ConvEncoder::initialise(std::uint64_t seed) {
  params_.initialise(seed);
  stem_bn_->reset(params_, buffers_);
  for (auto& b : blocks_) {
    b.bn1.reset(params_, buffers_);
    b.bn2.reset(params_, buffers_);
    if (b.down_bn) b.down_bn->reset(params_, buffers_);
  }
  if (head_bn1_) head_bn1_->reset(params_, buffers_);
  if (head_bn2_) head_bn2_->reset(params_, buffers_);
  params_.touch();
  buffers_.touch();
}

StateDict ConvEncoder::state_dict() const {
  StateDict dict = params_.state_dict();
  for (auto& [name, t] : buffers_.state_dict()) dict.emplace(name, std::move(t));
  return dict;
}

void ConvEncoder::load(const StateDict& dict, const std::string& origin) {
  StateDict params, buffers;
  for (const auto& [name, t] : dict) (is_buffer(name) ? buffers : params).emplace(name, t);
  params_.load(params, origin);
  buffers_.load(buffers, origin);
}

void ConvEncoder::embed(const float* x, int n, int height, int width, float* y) {
  if (n == 0) return;
  Dims4 shape{n, spec_.input_channels, height, width};
  const Dims4 stem = stem_->output(shape);
  FR_REQUIRE(stem.h >= 1 && stem.w >= 1, "embedding model: ", height, " x ", width,
             " images are too small");
  // Largest activation: the stem output (the backbone only shrinks after it) or the head's.
  const std::size_t most = std::max({stem.count(), std::size_t(n) * 2 * spec_.backbone_features(),
                                     std::size_t(n) * spec_.head_hidden});
  for (auto* v : {&a_, &b_, &c_, &d_})
    if (v->size() < most) v->resize(most);
  float *cur = a_.data(), *tmp = b_.data(), *mid = c_.data(), *skip = d_.data();

  stem_->forward(x, shape, tmp);
  stem_bn_->forward_inference(params_, buffers_, tmp, stem, /*relu=*/true, tmp);
  shape = pool_.output(stem);
  pool_.forward(tmp, stem, cur);
  for (auto& b : blocks_) {
    const Dims4 out = b.conv1.output(shape);
    b.conv1.forward(cur, shape, mid);
    b.bn1.forward_inference(params_, buffers_, mid, out, true, mid);
    b.conv2.forward(mid, out, tmp);
    b.bn2.forward_inference(params_, buffers_, tmp, out, false, tmp);
    const float* identity = cur;
    if (b.down) {
      b.down->forward(cur, shape, skip);
      b.down_bn->forward_inference(params_, buffers_, skip, out, false, skip);
      identity = skip;
    }
    kernels::conv::add_in_place(tmp, identity, out.count(), /*relu=*/true);
    std::swap(cur, tmp);
    shape = out;
  }
  const int features = spec_.backbone_features();
  if (spec_.head == "orig_fastai") {
    kernels::conv::concat_pool(cur, n, features, shape.plane(), tmp);
    const Dims4 pooled{n, 2 * features, 1, 1};
    head_bn1_->forward_inference(params_, buffers_, tmp, pooled, false, tmp);
    head_fc1_->forward(tmp, n, mid);
    const Dims4 hidden{n, spec_.head_hidden, 1, 1};
    // Linear -> ReLU -> BatchNorm1d: the ReLU comes first, in place.
    for (std::size_t i = 0; i < hidden.count(); ++i) mid[i] = std::max(mid[i], 0.0f);
    head_bn2_->forward_inference(params_, buffers_, mid, hidden, false, mid);
    head_fc2_->forward(mid, n, y);
  } else {
    kernels::conv::average_pool(cur, n, features, shape.plane(), tmp);
    head_fc1_->forward(tmp, n, y);
  }
}

}  // namespace fluxrecon::models
