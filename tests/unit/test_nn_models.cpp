// The oneDNN networks against the float64 reference (forward) and against
// central differences of the reference (gradients of every parameter).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "models/gru_layer.hpp"
#include "models/linear.hpp"
#include "models/lstm_layer.hpp"
#include "models/network.hpp"
#include "support/nn_reference.hpp"
#include "train/adam.hpp"

namespace {
using namespace fluxrecon::models;

NetworkSpec small_spec(NetworkKind kind) {
  NetworkSpec s;
  s.kind = kind;
  s.hidden_dims = {9, 7};
  s.hidden_dim = 6;
  s.num_layers = 2;
  s.dropout = 0.0;
  return s;
}

std::vector<float> random_windows(int n, const NetworkSpec& s, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(std::size_t(n) * s.window * s.n_features);
  for (auto& v : x) v = g(rng);
  return x;
}

std::vector<double> window(const std::vector<float>& x, const NetworkSpec& s, int i) {
  const std::size_t w = std::size_t(s.window) * s.n_features;
  return std::vector<double>(x.begin() + i * w, x.begin() + (i + 1) * w);
}

// Central difference of `loss` in values[i] (restored afterwards).
template <class Loss>
double central_difference(std::vector<double>& values, std::size_t i, Loss&& loss) {
  const double keep = values[i], h = 1e-5;
  values[i] = keep + h;
  const double up = loss();
  values[i] = keep - h;
  const double down = loss();
  values[i] = keep;
  return (up - down) / (2 * h);
}

// Larger weights than PyTorch's init so that every nonlinearity is exercised.
void scale_weights(Network& net, float factor) {
  for (auto& v : net.parameters().values()) v *= factor;
  net.parameters().touch();
}

class ForwardTest : public ::testing::TestWithParam<NetworkKind> {};

TEST_P(ForwardTest, MatchesFloat64Reference) {
  for (int layers : {1, 3}) {
    NetworkSpec s = small_spec(GetParam());
    s.num_layers = layers;
    s.hidden_dim = 16;
    auto net = make_network(s);
    net->parameters().initialise(7);
    scale_weights(*net, 2.0f);
    const auto ref = nn_reference::from_state_dict(net->parameters().state_dict());
    for (int n : {1, 5, 33}) {
      const auto x = random_windows(n, s, 11 + n);
      std::vector<float> y(n);
      net->forward(x.data(), n, false, y.data());
      std::vector<float> yt(n);
      net->forward(x.data(), n, true, yt.data());  // training mode, dropout 0: same
      for (int i = 0; i < n; ++i) {
        const double want = nn_reference::predict(ref, s, window(x, s, i));
        EXPECT_NEAR(y[i], want, 2e-5 * (1.0 + std::abs(want))) << kind_name(s.kind) << " n=" << n;
        EXPECT_NEAR(yt[i], want, 2e-5 * (1.0 + std::abs(want)));
      }
    }
    if (GetParam() == NetworkKind::mlp) break;  // num_layers is an LSTM key
  }
}

// Loss L = sum_i r_i y_i, so dL/dy = r. Checks every parameter entry (or a
// sample of 12 per tensor) against central differences of the float64 model.
TEST_P(ForwardTest, GradientsMatchCentralDifferences) {
  NetworkSpec s = small_spec(GetParam());
  auto net = make_network(s);
  net->parameters().initialise(3);
  scale_weights(*net, 1.5f);
  const int n = 4;
  const auto x = random_windows(n, s, 5);
  const std::vector<float> r{0.7f, -1.3f, 0.4f, 1.1f};
  std::vector<float> y(n);
  net->parameters().zero_grads();
  net->forward(x.data(), n, true, y.data());
  net->backward(r.data());

  auto ref = nn_reference::from_state_dict(net->parameters().state_dict());
  auto loss = [&] {
    double l = 0.0;
    for (int i = 0; i < n; ++i) l += r[i] * nn_reference::predict(ref, s, window(x, s, i));
    return l;
  };
  auto& params = net->parameters();
  std::mt19937 pick(1);
  for (std::size_t p = 0; p < params.count(); ++p) {
    const std::string& name = params.name(p);
    auto& values = ref.at(name);
    const float* grad = params.grad(p);
    double scale = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i)
      scale = std::max(scale, std::abs(double(grad[i])));
    for (int k = 0; k < 12; ++k) {
      const std::size_t i = values.size() <= 12 ? std::size_t(k) : pick() % values.size();
      if (i >= values.size()) break;
      const double numeric = central_difference(values, i, loss);
      EXPECT_NEAR(grad[i], numeric, 2e-3 * std::max(scale, 1e-3) + 1e-4 * std::abs(numeric))
          << kind_name(s.kind) << " " << name << "[" << i << "]";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ForwardTest,
                         ::testing::Values(NetworkKind::mlp, NetworkKind::lstm,
                                           NetworkKind::attention_lstm, NetworkKind::gru),
                         [](const auto& p) { return kind_name(p.param); });

TEST(AttentionWeights, MatchReferenceAndSumToOne) {
  NetworkSpec s = small_spec(NetworkKind::attention_lstm);
  auto net = make_network(s);
  net->parameters().initialise(9);
  scale_weights(*net, 2.0f);
  const int n = 3;
  const auto x = random_windows(n, s, 2);
  std::vector<float> y(n), alpha(std::size_t(n) * s.window * s.n_features), beta(n * s.window);
  dynamic_cast<AttentionLstmWeights&>(*net).forward_with_weights(x.data(), n, y.data(),
                                                                 alpha.data(), beta.data());
  const auto ref = nn_reference::from_state_dict(net->parameters().state_dict());
  for (int i = 0; i < n; ++i) {
    std::vector<double> a, b;
    nn_reference::attention_lstm(ref, s, window(x, s, i), &a, &b);
    double beta_sum = 0.0;
    for (int t = 0; t < s.window; ++t) {
      EXPECT_NEAR(beta[i * s.window + t], b[t], 1e-5);
      beta_sum += beta[i * s.window + t];
      double alpha_sum = 0.0;
      for (int f = 0; f < s.n_features; ++f) {
        const float got = alpha[(std::size_t(i) * s.window + t) * s.n_features + f];
        EXPECT_NEAR(got, a[t * s.n_features + f], 1e-5);
        alpha_sum += got;
      }
      EXPECT_NEAR(alpha_sum, 1.0, 1e-5);
    }
    EXPECT_NEAR(beta_sum, 1.0, 1e-5);
  }
}

// One LSTM layer alone with given initial states and gradients arriving at
// every output (sequence, last h, last c): all input and weight gradients.
TEST(LstmLayerGradients, AllInputsAndWeights) {
  const int T = 3, n = 2, D = 4, H = 5;
  ParameterSet params;
  LstmLayer layer(params, "lstm.", "_l0", D, H);
  params.initialise(4);
  for (auto& v : params.values()) v *= 2.0f;
  params.touch();
  std::mt19937 rng(8);
  std::normal_distribution<float> g;
  auto draw = [&](std::size_t count) {
    std::vector<float> v(count);
    for (auto& a : v) a = g(rng);
    return v;
  };
  auto x = draw(std::size_t(n) * T * D), h0 = draw(n * H), c0 = draw(n * H);
  const auto ry = draw(std::size_t(n) * T * H), rh = draw(n * H), rc = draw(n * H);
  std::vector<float> y(std::size_t(n) * T * H), hT(n * H), cT(n * H);
  LstmLayer::Tape tape;
  params.zero_grads();
  layer.forward(T, n, x.data(), h0.data(), c0.data(), y.data(), hT.data(), cT.data(), &tape);
  std::vector<float> dx(x.size()), dh0(h0.size()), dc0(c0.size());
  layer.begin_backward();
  layer.backward(tape, ry.data(), rh.data(), rc.data(), dx.data(), dh0.data(), dc0.data());
  layer.end_backward();

  auto ref = nn_reference::from_state_dict(params.state_dict());
  std::vector<double> xd(x.begin(), x.end()), h0d(h0.begin(), h0.end()), c0d(c0.begin(), c0.end());
  auto loss = [&] {
    double l = 0.0;
    for (int i = 0; i < n; ++i) {
      std::vector<double> h(h0d.begin() + i * H, h0d.begin() + (i + 1) * H);
      std::vector<double> c(c0d.begin() + i * H, c0d.begin() + (i + 1) * H);
      for (int t = 0; t < T; ++t) {
        std::vector<double> xt(xd.begin() + (i * T + t) * D, xd.begin() + (i * T + t + 1) * D);
        nn_reference::lstm_cell(ref, "lstm.", "_l0", xt, h, c);
        for (int k = 0; k < H; ++k) l += ry[(std::size_t(i) * T + t) * H + k] * h[k];
      }
      for (int k = 0; k < H; ++k) l += rh[i * H + k] * h[k] + rc[i * H + k] * c[k];
    }
    return l;
  };
  auto check = [&](std::vector<double>& values, const float* analytic, const std::string& what) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double numeric = central_difference(values, i, loss);
      EXPECT_NEAR(analytic[i], numeric, 1e-3 * (1.0 + std::abs(numeric)))
          << what << "[" << i << "]";
    }
  };
  check(xd, dx.data(), "dx");
  check(h0d, dh0.data(), "dh0");
  check(c0d, dc0.data(), "dc0");
  for (std::size_t p = 0; p < params.count(); ++p)
    check(ref.at(params.name(p)), params.grad(p), params.name(p));
}

// One GRU layer alone with a given initial state and gradients arriving at
// every output (sequence and last h): all input and weight gradients, through
// oneDNN's gate order and 4 biases back to PyTorch's.
TEST(GruLayerGradients, AllInputsAndWeights) {
  const int T = 3, n = 2, D = 4, H = 5;
  ParameterSet params;
  GruLayer layer(params, "gru.", "_l0", D, H);
  params.initialise(4);
  for (auto& v : params.values()) v *= 2.0f;
  params.touch();
  std::mt19937 rng(8);
  std::normal_distribution<float> g;
  auto draw = [&](std::size_t count) {
    std::vector<float> v(count);
    for (auto& a : v) a = g(rng);
    return v;
  };
  auto x = draw(std::size_t(n) * T * D), h0 = draw(n * H);
  const auto ry = draw(std::size_t(n) * T * H), rh = draw(n * H);
  std::vector<float> y(std::size_t(n) * T * H), hT(n * H);
  GruLayer::Tape tape;
  params.zero_grads();
  layer.forward(T, n, x.data(), h0.data(), y.data(), hT.data(), &tape);
  std::vector<float> dx(x.size()), dh0(h0.size());
  layer.begin_backward();
  layer.backward(tape, ry.data(), rh.data(), dx.data(), dh0.data());
  layer.end_backward();

  auto ref = nn_reference::from_state_dict(params.state_dict());
  std::vector<double> xd(x.begin(), x.end()), h0d(h0.begin(), h0.end());
  for (int i = 0; i < n; ++i) {  // the forward's outputs first
    std::vector<double> h(h0d.begin() + i * H, h0d.begin() + (i + 1) * H);
    for (int t = 0; t < T; ++t) {
      std::vector<double> xt(xd.begin() + (i * T + t) * D, xd.begin() + (i * T + t + 1) * D);
      nn_reference::gru_cell(ref, "gru.", "_l0", xt, h);
      for (int k = 0; k < H; ++k)
        EXPECT_NEAR(y[(std::size_t(i) * T + t) * H + k], h[k], 1e-5) << i << " " << t;
    }
    for (int k = 0; k < H; ++k) EXPECT_NEAR(hT[i * H + k], h[k], 1e-5);
  }
  auto loss = [&] {
    double l = 0.0;
    for (int i = 0; i < n; ++i) {
      std::vector<double> h(h0d.begin() + i * H, h0d.begin() + (i + 1) * H);
      for (int t = 0; t < T; ++t) {
        std::vector<double> xt(xd.begin() + (i * T + t) * D, xd.begin() + (i * T + t + 1) * D);
        nn_reference::gru_cell(ref, "gru.", "_l0", xt, h);
        for (int k = 0; k < H; ++k) l += ry[(std::size_t(i) * T + t) * H + k] * h[k];
      }
      for (int k = 0; k < H; ++k) l += rh[i * H + k] * h[k];
    }
    return l;
  };
  auto check = [&](std::vector<double>& values, const float* analytic, const std::string& what) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double numeric = central_difference(values, i, loss);
      EXPECT_NEAR(analytic[i], numeric, 1e-3 * (1.0 + std::abs(numeric)))
          << what << "[" << i << "]";
    }
  };
  check(xd, dx.data(), "dx");
  check(h0d, dh0.data(), "dh0");
  for (std::size_t p = 0; p < params.count(); ++p)
    check(ref.at(params.name(p)), params.grad(p), params.name(p));
}

TEST(LinearGradients, InputWeightsAndBiasAccumulate) {
  ParameterSet params;
  Linear lin(params, "fc", 3, 2);
  params.initialise(1);
  const std::vector<float> x{1, 2, -1, 0.5f, -0.5f, 2}, dy{1, -1, 0.5f, 2};
  std::vector<float> dx(6);
  params.zero_grads();
  lin.backward(x.data(), dy.data(), 2, dx.data());
  lin.backward(x.data(), dy.data(), 2, dx.data());  // gradients add up
  const float* W = params.value(0);
  const float* gW = params.grad(0);
  const float* gb = params.grad(1);
  for (int o = 0; o < 2; ++o) {
    EXPECT_NEAR(gb[o], 2 * (dy[o] + dy[2 + o]), 1e-6);
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(gW[o * 3 + i], 2 * (dy[o] * x[i] + dy[2 + o] * x[3 + i]), 1e-5);
  }
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(dx[s * 3 + i], dy[s * 2] * W[i] + dy[s * 2 + 1] * W[3 + i], 1e-6);
}

TEST(Dropout, MasksTrainingOnlyAndFollowsTheSeed) {
  NetworkSpec s = small_spec(NetworkKind::mlp);
  s.hidden_dims = {64};
  s.dropout = 0.5;
  auto net = make_network(s);
  net->parameters().initialise(2);
  const int n = 50;
  const auto x = random_windows(n, s, 3);
  std::vector<float> a(n), b(n), c(n), d(n);
  net->forward(x.data(), n, false, a.data());
  net->forward(x.data(), n, false, b.data());
  EXPECT_EQ(a, b);
  net->seed_dropout(5);
  net->forward(x.data(), n, true, c.data());
  net->seed_dropout(5);
  net->forward(x.data(), n, true, d.data());
  EXPECT_EQ(c, d);
  EXPECT_NE(a, c);
}

// torch.optim.Adam's update (coupled L2 decay, bias corrections) in float64,
// over several of the optimiser's blocks plus a partial one, with the
// gradient scale the trainer passes (1 / global count).
TEST(Adam, MatchesFloat64ReferenceOverBlocksWithGradientScale) {
  const std::size_t n = 3 * 4096 + 123;
  const double lr = 3e-3, wd = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const float scale = 1.0f / 96.0f;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n), grad(n);
  for (auto& v : x) v = g(rng);
  std::vector<double> xr(x.begin(), x.end()), m(n, 0.0), v(n, 0.0);
  fluxrecon::train::Adam adam(n, lr, wd, b1, b2, eps);
  for (int t = 1; t <= 4; ++t) {
    // Gradients over several decades, some exactly zero.
    for (std::size_t i = 0; i < n; ++i)
      grad[i] = i % 97 == 0 ? 0.0f : g(rng) * std::pow(10.0f, float(int(i % 5) - 2));
    adam.step(x.data(), grad.data(), scale);
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = double(grad[i]) * scale + wd * xr[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)) + eps;
      xr[i] -= lr / (1 - std::pow(b1, t)) * m[i] / denom;
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      worst = std::max(worst, std::abs(x[i] - xr[i]) / (std::abs(xr[i]) + 1e-3));
    EXPECT_LT(worst, 1e-5) << "step " << t;
  }
  EXPECT_EQ(adam.steps(), 4);
}

TEST(ParameterSet, LoadRejectsMissingWrongShapeAndUnknownKeys) {
  NetworkSpec s = small_spec(NetworkKind::lstm);
  auto net = make_network(s);
  net->parameters().initialise(1);
  auto dict = net->parameters().state_dict();
  auto missing = dict;
  missing.erase("fc1.bias");
  EXPECT_THROW(net->parameters().load(missing, "m.h5"), fluxrecon::Error);
  auto wrong = dict;
  wrong["lstm.weight_ih_l0"].shape = {3, 3};
  EXPECT_THROW(net->parameters().load(wrong, "m.h5"), fluxrecon::Error);
  auto extra = dict;
  extra["lstm.weight_ih_l7"] = dict["fc1.bias"];
  EXPECT_THROW(net->parameters().load(extra, "m.h5"), fluxrecon::Error);
  EXPECT_NO_THROW(net->parameters().load(dict, "m.h5"));
}

}  // namespace
