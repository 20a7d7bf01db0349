// The neural inference kernels (kernels/nn_*.hpp through models::NnInference)
// against float64 references written here from the equations of the seed
// spec 3.1-3.3 and of PyTorch's nn.GRU, with random weights in PyTorch's
// initialisation range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/nn_dense.hpp"
#include "models/network.hpp"
#include "models/nn_inference.hpp"
#include "models/nn_inference_bf16.hpp"
#include "support/random_networks.hpp"

namespace {

using fluxrecon::models::NetworkKind;
using fluxrecon::models::NetworkSpec;
using fluxrecon::models::NnInference;
using fluxrecon::models::StateDict;
using fluxrecon::models::Tensor;
using Vec = std::vector<double>;
using test_util::random_weights;

std::vector<float> random_windows(const NetworkSpec& spec, std::size_t n, unsigned seed,
                                  float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(n * spec.window * spec.n_features);
  for (float& v : x) v = normal(rng);
  return x;
}

// y = W x + b in float64, W (out, in) row-major.
Vec linear(const StateDict& d, const std::string& name, const Vec& x) {
  const Tensor& w = d.at(name + ".weight");
  const Tensor& b = d.at(name + ".bias");
  const std::size_t out = w.shape[0], in = w.shape[1];
  Vec y(out);
  for (std::size_t j = 0; j < out; ++j) {
    double s = b.values[j];
    for (std::size_t k = 0; k < in; ++k) s += double(w.values[j * in + k]) * x[k];
    y[j] = s;
  }
  return y;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One PyTorch LSTM cell step; `prefix` names weight_ih/hh and bias_ih/hh (+ suffix).
void lstm_step(const StateDict& d, const std::string& prefix, const std::string& suffix,
               const Vec& x, Vec& h, Vec& c) {
  const Tensor& wih = d.at(prefix + "weight_ih" + suffix);
  const Tensor& whh = d.at(prefix + "weight_hh" + suffix);
  const Tensor& bih = d.at(prefix + "bias_ih" + suffix);
  const Tensor& bhh = d.at(prefix + "bias_hh" + suffix);
  const std::size_t hd = h.size(), in = x.size();
  Vec gates(4 * hd);
  for (std::size_t j = 0; j < 4 * hd; ++j) {
    double s = double(bih.values[j]) + bhh.values[j];
    for (std::size_t k = 0; k < in; ++k) s += double(wih.values[j * in + k]) * x[k];
    for (std::size_t k = 0; k < hd; ++k) s += double(whh.values[j * hd + k]) * h[k];
    gates[j] = s;
  }
  for (std::size_t j = 0; j < hd; ++j) {
    const double i = sigmoid(gates[j]), f = sigmoid(gates[hd + j]);
    const double g = std::tanh(gates[2 * hd + j]), o = sigmoid(gates[3 * hd + j]);
    c[j] = f * c[j] + i * g;
    h[j] = o * std::tanh(c[j]);
  }
}

// One PyTorch GRU cell step (gates r, z, n; r scales W_hn h + b_hn).
void gru_step(const StateDict& d, const std::string& suffix, const Vec& x, Vec& h) {
  const Tensor& wih = d.at("gru.weight_ih" + suffix);
  const Tensor& whh = d.at("gru.weight_hh" + suffix);
  const Tensor& bih = d.at("gru.bias_ih" + suffix);
  const Tensor& bhh = d.at("gru.bias_hh" + suffix);
  const std::size_t hd = h.size(), in = x.size();
  Vec from_x(3 * hd), from_h(3 * hd);
  for (std::size_t j = 0; j < 3 * hd; ++j) {
    double a = bih.values[j], b = bhh.values[j];
    for (std::size_t k = 0; k < in; ++k) a += double(wih.values[j * in + k]) * x[k];
    for (std::size_t k = 0; k < hd; ++k) b += double(whh.values[j * hd + k]) * h[k];
    from_x[j] = a;
    from_h[j] = b;
  }
  for (std::size_t j = 0; j < hd; ++j) {
    const double r = sigmoid(from_x[j] + from_h[j]);
    const double z = sigmoid(from_x[hd + j] + from_h[hd + j]);
    const double n = std::tanh(from_x[2 * hd + j] + r * from_h[2 * hd + j]);
    h[j] = (1 - z) * n + z * h[j];
  }
}

Vec step_features(const NetworkSpec& spec, const float* window, int t) {
  return Vec(window + t * spec.n_features, window + (t + 1) * spec.n_features);
}

double mlp_reference(const NetworkSpec& spec, const StateDict& d, const float* window) {
  Vec v;
  for (int t = 0; t < spec.window; ++t)
    for (int f = 0; f < spec.n_dynamic; ++f) v.push_back(window[t * spec.n_features + f]);
  for (int f = spec.n_dynamic; f < spec.n_features; ++f) v.push_back(window[f]);
  for (std::size_t l = 0; l < spec.hidden_dims.size(); ++l) {
    v = linear(d, "layers." + std::to_string(l), v);
    for (double& e : v) e = std::max(e, 0.0);
  }
  return linear(d, "output_layer", v)[0];
}

double lstm_reference(const NetworkSpec& spec, const StateDict& d, const float* window) {
  std::vector<Vec> seq;
  for (int t = 0; t < spec.window; ++t) seq.push_back(step_features(spec, window, t));
  for (int l = 0; l < spec.num_layers; ++l) {
    Vec h(spec.hidden_dim, 0.0), c(spec.hidden_dim, 0.0);
    for (auto& x : seq) {
      lstm_step(d, "lstm.", "_l" + std::to_string(l), x, h, c);
      x = h;
    }
  }
  return linear(d, "fc1", seq.back())[0];
}

double gru_reference(const NetworkSpec& spec, const StateDict& d, const float* window) {
  std::vector<Vec> seq;
  for (int t = 0; t < spec.window; ++t) seq.push_back(step_features(spec, window, t));
  for (int l = 0; l < spec.num_layers; ++l) {
    Vec h(spec.hidden_dim, 0.0);
    for (auto& x : seq) {
      gru_step(d, "_l" + std::to_string(l), x, h);
      x = h;
    }
  }
  return linear(d, "fc1", seq.back())[0];
}

struct AttentionReference {
  double y;
  Vec alpha, beta;  // [window][features], [window]
};

AttentionReference attention_reference(const NetworkSpec& spec, const StateDict& d,
                                       const float* window) {
  const std::size_t hd = spec.hidden_dim;
  Vec h(hd, 0.0), c(hd, 0.0), scores, heads;
  AttentionReference r;
  std::vector<Vec> hs;
  for (int t = 0; t < spec.window; ++t) {
    const Vec x = step_features(spec, window, t);
    Vec hc(h);
    hc.insert(hc.end(), c.begin(), c.end());
    const Vec wpart = linear(d, "attention.W", hc), upart = linear(d, "attention.U", x);
    Vec a(hd);
    for (std::size_t j = 0; j < hd; ++j) a[j] = std::tanh(wpart[j] + upart[j]);
    Vec e = linear(d, "attention.V", a);
    const double top = *std::max_element(e.begin(), e.end());
    double sum = 0;
    for (double& v : e) sum += (v = std::exp(v - top));
    Vec xt(x.size());
    for (std::size_t f = 0; f < x.size(); ++f) {
      r.alpha.push_back(e[f] / sum);
      xt[f] = e[f] / sum * x[f];
    }
    lstm_step(d, "lstm_cell.", "", xt, h, c);
    hs.push_back(h);
    scores.push_back(linear(d, "temporal_attention", h)[0]);
  }
  const double top = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double s : scores) sum += std::exp(s - top);
  Vec context(hd, 0.0);
  for (int t = 0; t < spec.window; ++t) {
    r.beta.push_back(std::exp(scores[t] - top) / sum);
    for (std::size_t j = 0; j < hd; ++j) context[j] += r.beta[t] * hs[t][j];
  }
  r.y = linear(d, "fc1", context)[0];
  return r;
}

// |y - ref| <= 1e-5 relative to the largest of |ref|, the batch's rms output
// and `floor` (the model's typical output, for batches of one that cancel).
void expect_close(const std::vector<float>& y, const Vec& ref, const std::string& what,
                  double floor = 0) {
  double rms = 0;
  for (double v : ref) rms += v * v;
  rms = std::max(std::sqrt(rms / ref.size()), floor);
  double worst = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double scale = std::max(std::abs(ref[i]), rms);
    worst = std::max(worst, std::abs(y[i] - ref[i]) / scale);
    ASSERT_LE(std::abs(y[i] - ref[i]), 1e-5 * scale)
        << what << " sample " << i << ": kernel " << y[i] << ", reference " << ref[i];
  }
  ::testing::Test::RecordProperty(what, std::to_string(worst));
}

// n = 1, a block less one, a block, a block and one, and larger batches.
constexpr std::size_t kBlock = fluxrecon::kernels::nn::kBlockPoints;
const std::size_t kBatches[] = {1, kBlock - 1, kBlock, kBlock + 1, 100, 257};

NetworkSpec mlp_spec(std::vector<int> hidden, int window = 4, int features = 14, int dynamic = 10) {
  NetworkSpec s;
  s.kind = NetworkKind::mlp;
  s.window = window;
  s.n_features = features;
  s.n_dynamic = dynamic;
  s.hidden_dims = std::move(hidden);
  return s;
}

NetworkSpec lstm_spec(int hidden, int layers, int window = 4, int features = 14) {
  NetworkSpec s;
  s.kind = NetworkKind::lstm;
  s.window = window;
  s.n_features = features;
  s.hidden_dim = hidden;
  s.num_layers = layers;
  return s;
}

NetworkSpec gru_spec(int hidden, int layers, int window = 4, int features = 14) {
  NetworkSpec s = lstm_spec(hidden, layers, window, features);
  s.kind = NetworkKind::gru;
  return s;
}

NetworkSpec attention_spec(int hidden, int window = 4, int features = 14) {
  NetworkSpec s;
  s.kind = NetworkKind::attention_lstm;
  s.window = window;
  s.n_features = features;
  s.hidden_dim = hidden;
  return s;
}

}  // namespace

TEST(NnKernels, ExpSigmoidTanhAreFloatAccurate) {
  using namespace fluxrecon::kernels::nn;
  double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
  for (double x = -87.0; x <= 88.0; x += 0.001953125) {
    const float xf = static_cast<float>(x);
    worst_exp = std::max(worst_exp, std::abs(exp_approx(xf) / std::exp(double(xf)) - 1));
    worst_sig = std::max(worst_sig, std::abs(sigmoid(xf) - 1 / (1 + std::exp(-double(xf)))));
    worst_tanh = std::max(worst_tanh, std::abs(tanh_approx(xf) - std::tanh(double(xf))));
  }
  EXPECT_LT(worst_exp, 3e-7);
  EXPECT_LT(worst_sig, 2e-7);
  EXPECT_LT(worst_tanh, 3e-7);
  EXPECT_EQ(exp_approx(0.0f), 1.0f);
  EXPECT_GT(exp_approx(-1000.0f), 0.0f);  // clamped, no underflow to garbage
  EXPECT_TRUE(std::isfinite(exp_approx(1000.0f)));
  EXPECT_EQ(tanh_approx(0.0f), 0.0f);
}

TEST(NnKernels, MlpMatchesFloat64Reference) {
  // The seed's network, and a small one on windows of another shape.
  for (const NetworkSpec& spec : {mlp_spec({207, 248, 198}), mlp_spec({5, 17}, 6, 9, 5)}) {
    const StateDict weights = random_weights(spec, 11);
    const NnInference model(spec, weights);
    for (std::size_t n : kBatches) {
      const auto x = random_windows(spec, n, 100 + n);
      std::vector<float> y(n);
      model.predict(x.data(), n, y.data());
      Vec ref(n);
      const std::size_t stride = std::size_t(spec.window) * spec.n_features;
      for (std::size_t i = 0; i < n; ++i)
        ref[i] = mlp_reference(spec, weights, x.data() + i * stride);
      expect_close(y, ref,
                   "mlp_" + std::to_string(spec.hidden_dims.size()) + "_n" + std::to_string(n));
    }
  }
}

TEST(NnKernels, LstmMatchesFloat64ReferenceForOneToThreeLayers) {
  std::vector<NetworkSpec> specs;
  for (int layers = 1; layers <= 3; ++layers) {
    specs.push_back(lstm_spec(128, layers));
    specs.push_back(lstm_spec(13, layers, 6, 9));  // padded units, other window shape
  }
  for (const NetworkSpec& spec : specs) {
    const StateDict weights = random_weights(spec, 20 + spec.num_layers);
    const NnInference model(spec, weights);
    const std::size_t stride = std::size_t(spec.window) * spec.n_features;
    for (std::size_t n : kBatches) {
      const auto x = random_windows(spec, n, 200 + n, 2.0f);
      std::vector<float> y(n);
      model.predict(x.data(), n, y.data());
      Vec ref(n);
      for (std::size_t i = 0; i < n; ++i)
        ref[i] = lstm_reference(spec, weights, x.data() + i * stride);
      expect_close(y, ref,
                   "lstm_h" + std::to_string(spec.hidden_dim) + "_l" +
                       std::to_string(spec.num_layers) + "_n" + std::to_string(n));
    }
  }
}

TEST(NnKernels, GruMatchesFloat64ReferenceForOneToThreeLayers) {
  std::vector<NetworkSpec> specs;
  for (int layers = 1; layers <= 3; ++layers) {
    specs.push_back(gru_spec(128, layers));
    specs.push_back(gru_spec(13, layers, 6, 9));  // padded units, other window shape
  }
  specs.push_back(gru_spec(5, 2, 1, 3));  // a single step: no recurrent product
  for (const NetworkSpec& spec : specs) {
    const StateDict weights = random_weights(spec, 50 + spec.num_layers);
    const NnInference model(spec, weights);
    const std::size_t stride = std::size_t(spec.window) * spec.n_features;
    double typical = 0;  // rms output over 257 windows
    const auto many = random_windows(spec, 257, 599, 2.0f);
    for (std::size_t i = 0; i < 257; ++i)
      typical += std::pow(gru_reference(spec, weights, many.data() + i * stride), 2) / 257;
    typical = std::sqrt(typical);
    for (std::size_t n : kBatches) {
      const auto x = random_windows(spec, n, 600 + n, 2.0f);
      std::vector<float> y(n);
      model.predict(x.data(), n, y.data());
      Vec ref(n);
      for (std::size_t i = 0; i < n; ++i)
        ref[i] = gru_reference(spec, weights, x.data() + i * stride);
      expect_close(y, ref,
                   "gru_h" + std::to_string(spec.hidden_dim) + "_l" +
                       std::to_string(spec.num_layers) + "_t" + std::to_string(spec.window) + "_n" +
                       std::to_string(n),
                   typical);
    }
  }
}

TEST(NnKernels, AttentionLstmMatchesFloat64ReferenceWithAttentionWeights) {
  for (const NetworkSpec& spec : {attention_spec(256), attention_spec(19, 3, 9)}) {
    const StateDict weights = random_weights(spec, 31);
    const NnInference model(spec, weights);
    const std::size_t steps = spec.window, features = spec.n_features;
    for (std::size_t n : kBatches) {
      const auto x = random_windows(spec, n, 300 + n, 2.0f);
      std::vector<float> y(n), y_plain(n), alpha(n * steps * features), beta(n * steps);
      model.predict_with_attention(x.data(), n, y.data(), alpha.data(), beta.data());
      model.predict(x.data(), n, y_plain.data());
      Vec ref(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = attention_reference(spec, weights, x.data() + i * steps * features);
        ref[i] = r.y;
        EXPECT_EQ(y_plain[i], y[i]) << "sample " << i;
        double beta_sum = 0;
        for (std::size_t t = 0; t < steps; ++t) {
          double sum = 0;
          for (std::size_t f = 0; f < features; ++f) {
            const double a = alpha[(i * steps + t) * features + f];
            ASSERT_NEAR(a, r.alpha[t * features + f], 2e-6) << "alpha sample " << i << " t " << t;
            sum += a;
          }
          EXPECT_NEAR(sum, 1.0, 2e-6);
          ASSERT_NEAR(beta[i * steps + t], r.beta[t], 2e-6) << "beta sample " << i << " t " << t;
          beta_sum += beta[i * steps + t];
        }
        EXPECT_NEAR(beta_sum, 1.0, 2e-6);
      }
      expect_close(y, ref,
                   "attention_h" + std::to_string(spec.hidden_dim) + "_n" + std::to_string(n));
    }
  }
}

// The parity requirement: the kernels give the oneDNN training
// forward's predictions (inference mode) within 1e-5 relative.
TEST(NnKernels, MatchTheOneDnnTrainingForward) {
  for (const NetworkSpec& spec : {mlp_spec({207, 248, 198}), lstm_spec(128, 3), lstm_spec(13, 1),
                                  attention_spec(256), gru_spec(128, 3), gru_spec(13, 2)}) {
    auto net = fluxrecon::models::make_network(spec);
    net->parameters().initialise(77);
    const NnInference model(spec, net->parameters().state_dict());
    const std::size_t n = 257, steps = spec.window, features = spec.n_features;
    const auto x = random_windows(spec, n, 400, 2.0f);
    std::vector<float> y(n), y_dnnl(n);
    model.predict(x.data(), n, y.data());
    net->forward(x.data(), static_cast<int>(n), false, y_dnnl.data());
    const std::string what = "onednn_" + std::to_string(static_cast<int>(spec.kind));
    expect_close(y, Vec(y_dnnl.begin(), y_dnnl.end()), what);
    if (spec.kind != NetworkKind::attention_lstm) continue;
    auto* with_weights = dynamic_cast<fluxrecon::models::AttentionLstmWeights*>(net.get());
    ASSERT_NE(with_weights, nullptr);
    std::vector<float> alpha(n * steps * features), beta(n * steps), alpha_dnnl(alpha.size()),
        beta_dnnl(beta.size());
    model.predict_with_attention(x.data(), n, y.data(), alpha.data(), beta.data());
    with_weights->forward_with_weights(x.data(), static_cast<int>(n), y_dnnl.data(),
                                       alpha_dnnl.data(), beta_dnnl.data());
    for (std::size_t i = 0; i < alpha.size(); ++i) ASSERT_NEAR(alpha[i], alpha_dnnl[i], 2e-6) << i;
    for (std::size_t i = 0; i < beta.size(); ++i) ASSERT_NEAR(beta[i], beta_dnnl[i], 2e-6) << i;
  }
}

// The optional bf16 path (oneDNN): close to float32 at bf16's precision
// (8 significant bits in weights and activations), over several oneDNN calls.
TEST(NnKernels, Bf16PathStaysCloseToFloat32) {
  for (const NetworkSpec& spec : {mlp_spec({207, 248, 198}), lstm_spec(128, 3), lstm_spec(13, 2),
                                  gru_spec(128, 3), gru_spec(13, 2)}) {
    const StateDict weights = random_weights(spec, 41);
    const NnInference f32(spec, weights);
    fluxrecon::models::NnInferenceBf16 bf16(spec, weights, 64);
    const std::size_t n = 257;
    const auto x = random_windows(spec, n, 500);
    std::vector<float> y(n), y_bf16(n);
    f32.predict(x.data(), n, y.data());
    bf16.predict(x.data(), n, y_bf16.data());
    double ss = 0, ss_diff = 0;
    for (std::size_t i = 0; i < n; ++i) {
      ss += double(y[i]) * y[i];
      ss_diff += double(y_bf16[i] - y[i]) * (y_bf16[i] - y[i]);
    }
    const double relative_rms = std::sqrt(ss_diff / ss);
    ::testing::Test::RecordProperty("bf16_rel_rms_" + std::to_string(int(spec.kind)),
                                    std::to_string(relative_rms));
    EXPECT_LT(relative_rms, 1e-2) << "kind " << int(spec.kind);
    EXPECT_GT(relative_rms, 0.0);  // it is a different precision
  }
  EXPECT_THROW(fluxrecon::models::NnInferenceBf16(attention_spec(256),
                                                  random_weights(attention_spec(256), 1)),
               fluxrecon::Error);
}

TEST(NnKernels, FlopCountsOfTheSeedSizes) {
  const NetworkSpec mlp = mlp_spec({207, 248, 198});
  EXPECT_EQ(NnInference(mlp, random_weights(mlp, 1)).flops_per_sample(),
            2.0 * (44 * 207 + 207 * 248 + 248 * 198 + 198));
  const NetworkSpec lstm = lstm_spec(128, 3);
  // Layer 0: 4 steps of W_ih (512 x 14), 3 of W_hh (512 x 128); layers 1-2: 4 + 3 of 512 x 128.
  EXPECT_EQ(NnInference(lstm, random_weights(lstm, 1)).flops_per_sample(),
            2.0 * (4 * 512 * 14 + 3 * 512 * 128 + 2 * 7 * 512 * 128 + 128));
  const NetworkSpec gru = gru_spec(128, 3);
  // The same with 3 gates: 384 rows.
  EXPECT_EQ(NnInference(gru, random_weights(gru, 1)).flops_per_sample(),
            2.0 * (4 * 384 * 14 + 3 * 384 * 128 + 2 * 7 * 384 * 128 + 128));
}

TEST(NnKernels, RejectsMissingKeysAndWrongShapes) {
  const NetworkSpec lstm = lstm_spec(128, 3);
  StateDict weights = random_weights(lstm, 5);
  weights.erase("lstm.bias_hh_l1");
  try {
    NnInference model(lstm, weights);
    FAIL() << "a missing key was accepted";
  } catch (const fluxrecon::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing key 'lstm.bias_hh_l1'"), std::string::npos) << m;
    EXPECT_NE(m.find("(512)"), std::string::npos) << m;
  }

  // An LSTM's state dict is not a GRU's: the first GRU key is named.
  try {
    NnInference model(gru_spec(128, 3), random_weights(lstm, 5));
    FAIL() << "an LSTM state dict was accepted as a GRU's";
  } catch (const fluxrecon::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing key 'gru.weight_ih_l0' (expected shape (384, 14))"),
              std::string::npos)
        << m;
  }

  const NetworkSpec att = attention_spec(256);
  StateDict aw = random_weights(att, 6);
  aw["attention.W.weight"].shape = {256, 256};
  aw["attention.W.weight"].values.resize(256 * 256);
  try {
    NnInference model(att, aw);
    FAIL() << "a wrong shape was accepted";
  } catch (const fluxrecon::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'attention.W.weight' has shape (256, 256), expected (256, 512)"),
              std::string::npos)
        << m;
  }

  // A spec with other sizes than the weights: the first layer's shape names both.
  NetworkSpec mlp = mlp_spec({207, 248, 198});
  StateDict mw = random_weights(mlp, 7);
  mlp.window = 3;
  EXPECT_THROW(NnInference(mlp, mw), fluxrecon::Error);

  // Inconsistent values and shape; attention weights of a model without them.
  mlp.window = 4;
  mw["output_layer.bias"].values.push_back(0.0f);
  EXPECT_THROW(NnInference(mlp, mw), fluxrecon::Error);
  mw["output_layer.bias"].values.pop_back();
  const NnInference model(mlp, mw);
  std::vector<float> x(56), y(1), alpha(56), beta(4);
  EXPECT_THROW(model.predict_with_attention(x.data(), 1, y.data(), alpha.data(), beta.data()),
               fluxrecon::Error);

  NetworkSpec bad = lstm_spec(128, 0);
  EXPECT_THROW(NnInference::validate(bad, random_weights(lstm, 1)), fluxrecon::Error);
}
