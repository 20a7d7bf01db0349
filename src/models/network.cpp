// MLP, LSTM and GRU networks, the factory and shared helpers. The attention
// LSTM is in attention_lstm.cpp.
#include "models/network.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "kernels/flatten.hpp"
#include "models/gru_layer.hpp"
#include "models/linear.hpp"
#include "models/lstm_layer.hpp"

namespace fluxrecon::models {

std::unique_ptr<Network> make_attention_lstm(const NetworkSpec& spec);  // attention_lstm.cpp

std::string kind_name(NetworkKind kind) {
  switch (kind) {
    case NetworkKind::mlp:
      return "mlp";
    case NetworkKind::lstm:
      return "lstm";
    case NetworkKind::attention_lstm:
      return "attention_lstm";
    case NetworkKind::gru:
      return "gru";
  }
  return "?";
}

NetworkKind parse_kind(const std::string& name) {
  for (auto k :
       {NetworkKind::mlp, NetworkKind::lstm, NetworkKind::attention_lstm, NetworkKind::gru})
    if (kind_name(k) == name) return k;
  FR_FAIL("unknown neural model '", name, "': expected mlp, lstm, attention_lstm or gru");
}

void Network::draw_dropout(std::vector<float>& mask, std::size_t count) {
  if (spec_.dropout <= 0.0) {
    mask.clear();
    return;
  }
  const double keep = 1.0 - spec_.dropout;
  const float scale = static_cast<float>(1.0 / keep);
  mask.resize(count);
  // 53 random bits -> [0, 1): the same stream on every platform.
  for (auto& m : mask) {
    const double u = static_cast<double>(dropout_rng_() >> 11) * 0x1.0p-53;
    m = u < keep ? scale : 0.0f;
  }
}

namespace {

void apply_mask(float* v, const std::vector<float>& mask) {
  for (std::size_t i = 0; i < mask.size(); ++i) v[i] *= mask[i];
}

// ---------------------------------------------------------------- MLP
class Mlp final : public Network {
 public:
  explicit Mlp(const NetworkSpec& spec) : Network(spec) {
    FR_REQUIRE(!spec.hidden_dims.empty(), "mlp: hidden_dims must name at least one layer");
    FR_REQUIRE(spec.n_dynamic >= 1 && spec.n_features - spec.n_dynamic == kernels::kStatic,
               "mlp: the flat input needs dynamic features and 4 position features per step, "
               "got ",
               spec.n_features, " features of which ", spec.n_dynamic, " dynamic");
    int in = kernels::flat_width(spec.window, spec.n_dynamic);
    for (std::size_t k = 0; k < spec.hidden_dims.size(); ++k) {
      layers_.emplace_back(params_, "layers." + std::to_string(k), in, spec.hidden_dims[k]);
      in = spec.hidden_dims[k];
    }
    output_ = std::make_unique<Linear>(params_, "output_layer", in, 1);
    acts_.resize(layers_.size() + 1);
    pre_.resize(layers_.size());
    masks_.resize(layers_.size());
  }

  void forward(const float* x, int n, bool training, float* y) override {
    n_ = n;
    const int width = kernels::flat_width(spec_.window, spec_.n_dynamic);
    acts_[0].resize(std::size_t(n) * width);
    const kernels::FlattenWindows flatten{x, spec_.window, acts_[0].data(), spec_.n_dynamic};
    for (int s = 0; s < n; ++s) flatten(s);
    for (std::size_t k = 0; k < layers_.size(); ++k) {
      const std::size_t count = std::size_t(n) * layers_[k].out();
      pre_[k].resize(count);
      acts_[k + 1].resize(count);
      layers_[k].forward(acts_[k].data(), n, pre_[k].data());
      float* a = acts_[k + 1].data();
      for (std::size_t i = 0; i < count; ++i) a[i] = std::max(pre_[k][i], 0.0f);
      if (training) {
        draw_dropout(masks_[k], count);
        apply_mask(a, masks_[k]);
      } else {
        masks_[k].clear();
      }
    }
    output_->forward(acts_.back().data(), n, y);
  }

  void backward(const float* dy) override {
    const int n = n_;
    std::vector<float> da(std::size_t(n) * output_->in());
    output_->backward(acts_.back().data(), dy, n, da.data());
    for (std::size_t k = layers_.size(); k-- > 0;) {
      // Through dropout and ReLU: the mask scales, the ReLU passes where z > 0.
      const auto& mask = masks_[k];
      for (std::size_t i = 0; i < da.size(); ++i) {
        float g = pre_[k][i] > 0.0f ? da[i] : 0.0f;
        da[i] = mask.empty() ? g : g * mask[i];
      }
      std::vector<float> da_in(k > 0 ? std::size_t(n) * layers_[k].in() : 0);
      layers_[k].backward(acts_[k].data(), da.data(), n, k > 0 ? da_in.data() : nullptr);
      da.swap(da_in);
    }
  }

 private:
  std::vector<Linear> layers_;
  std::unique_ptr<Linear> output_;
  std::vector<std::vector<float>> acts_, pre_, masks_;
  int n_ = 0;
};

// ---------------------------------------------------------------- LSTM, GRU
// From the sequence, without initial or final states.
void run(LstmLayer& layer, int T, int n, const float* x, float* y, LstmLayer::Tape* tape) {
  layer.forward(T, n, x, nullptr, nullptr, y, nullptr, nullptr, tape);
}
void run(GruLayer& layer, int T, int n, const float* x, float* y, GruLayer::Tape* tape) {
  layer.forward(T, n, x, nullptr, y, nullptr, tape);
}
void run_backward(LstmLayer& layer, const LstmLayer::Tape& tape, const float* dy, float* dx) {
  layer.backward(tape, dy, nullptr, nullptr, dx, nullptr, nullptr);
}
void run_backward(GruLayer& layer, const GruLayer::Tape& tape, const float* dy, float* dx) {
  layer.backward(tape, dy, nullptr, dx, nullptr);
}

// nn.LSTM or nn.GRU (`name`: the state_dict prefix), the top layer's last
// state through dropout and fc1.
template <class Layer>
class Recurrent final : public Network {
 public:
  Recurrent(const NetworkSpec& spec, const std::string& name) : Network(spec) {
    FR_REQUIRE(spec.num_layers >= 1, name, ": num_layers must be >= 1");
    for (int l = 0; l < spec.num_layers; ++l)
      layers_.emplace_back(params_, name + ".", "_l" + std::to_string(l),
                           l == 0 ? spec.n_features : spec.hidden_dim, spec.hidden_dim);
    fc1_ = std::make_unique<Linear>(params_, "fc1", spec.hidden_dim, 1);
    outs_.resize(layers_.size());
    inputs_.resize(layers_.size());
    masks_.resize(layers_.size());
    tapes_.resize(layers_.size());
  }

  void forward(const float* x, int n, bool training, float* y) override {
    n_ = n;
    const int T = spec_.window, H = spec_.hidden_dim;
    const std::size_t seq = std::size_t(n) * T * H;
    const float* in = x;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      outs_[l].resize(seq);
      run(layers_[l], T, n, in, outs_[l].data(), training ? &tapes_[l] : nullptr);
      // Dropout between layers (nn.LSTM's and nn.GRU's `dropout`) and before fc1.
      const bool last = l + 1 == layers_.size();
      if (last) break;
      if (!training) {
        in = outs_[l].data();
        continue;
      }
      inputs_[l + 1] = outs_[l];
      draw_dropout(masks_[l], seq);
      apply_mask(inputs_[l + 1].data(), masks_[l]);
      in = inputs_[l + 1].data();
    }
    last_.resize(std::size_t(n) * H);
    const float* top = outs_.back().data();
    for (int s = 0; s < n; ++s)
      std::copy_n(top + (std::size_t(s) * T + T - 1) * H, H, last_.data() + std::size_t(s) * H);
    if (training) {
      draw_dropout(masks_.back(), last_.size());
      apply_mask(last_.data(), masks_.back());
    } else {
      masks_.back().clear();
    }
    fc1_->forward(last_.data(), n, y);
  }

  void backward(const float* dy) override {
    const int n = n_, T = spec_.window, H = spec_.hidden_dim;
    std::vector<float> dlast(std::size_t(n) * H);
    fc1_->backward(last_.data(), dy, n, dlast.data());
    apply_mask(dlast.data(), masks_.back());
    std::vector<float> dseq(std::size_t(n) * T * H, 0.0f);
    for (int s = 0; s < n; ++s)
      std::copy_n(dlast.data() + std::size_t(s) * H, H,
                  dseq.data() + (std::size_t(s) * T + T - 1) * H);
    for (std::size_t l = layers_.size(); l-- > 0;) {
      layers_[l].begin_backward();
      std::vector<float> din(l > 0 ? std::size_t(n) * T * H : 0);
      run_backward(layers_[l], tapes_[l], dseq.data(), l > 0 ? din.data() : nullptr);
      layers_[l].end_backward();
      if (l > 0) apply_mask(din.data(), masks_[l - 1]);
      dseq.swap(din);
    }
  }

 private:
  std::vector<Layer> layers_;
  std::unique_ptr<Linear> fc1_;
  std::vector<std::vector<float>> outs_, inputs_, masks_;
  std::vector<typename Layer::Tape> tapes_;
  std::vector<float> last_;
  int n_ = 0;
};

}  // namespace

std::unique_ptr<Network> make_network(const NetworkSpec& spec) {
  FR_REQUIRE(spec.window >= 1 && spec.n_features >= 1, "network: window and features must be >= 1");
  switch (spec.kind) {
    case NetworkKind::mlp:
      return std::make_unique<Mlp>(spec);
    case NetworkKind::lstm:
      return std::make_unique<Recurrent<LstmLayer>>(spec, "lstm");
    case NetworkKind::attention_lstm:
      return make_attention_lstm(spec);
    case NetworkKind::gru:
      return std::make_unique<Recurrent<GruLayer>>(spec, "gru");
  }
  FR_FAIL("unknown network kind");
}

}  // namespace fluxrecon::models
