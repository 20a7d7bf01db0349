#include "models/nn_inference.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "models/network.hpp"
#include "models/parameters.hpp"

namespace fluxrecon::models {

namespace nn = kernels::nn;
using Shape = std::vector<std::size_t>;

namespace {

std::size_t u(int v) { return static_cast<std::size_t>(v); }

// Every key the spec's network reads, with its PyTorch shape.
std::vector<std::pair<std::string, Shape>> expected_keys(const NetworkSpec& spec) {
  std::vector<std::pair<std::string, Shape>> keys;
  const std::size_t f = u(spec.n_features), h = u(spec.hidden_dim);
  if (spec.kind == NetworkKind::mlp) {
    std::size_t in = u(spec.window * spec.n_dynamic + spec.n_features - spec.n_dynamic);
    for (std::size_t l = 0; l < spec.hidden_dims.size(); ++l) {
      const std::size_t out = u(spec.hidden_dims[l]);
      keys.push_back({"layers." + std::to_string(l) + ".weight", {out, in}});
      keys.push_back({"layers." + std::to_string(l) + ".bias", {out}});
      in = out;
    }
    keys.push_back({"output_layer.weight", {1, in}});
    keys.push_back({"output_layer.bias", {1}});
  } else if (spec.kind == NetworkKind::lstm) {
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string sfx = "_l" + std::to_string(l);
      keys.push_back({"lstm.weight_ih" + sfx, {4 * h, l == 0 ? f : h}});
      keys.push_back({"lstm.weight_hh" + sfx, {4 * h, h}});
      keys.push_back({"lstm.bias_ih" + sfx, {4 * h}});
      keys.push_back({"lstm.bias_hh" + sfx, {4 * h}});
    }
    keys.push_back({"fc1.weight", {1, h}});
    keys.push_back({"fc1.bias", {1}});
  } else if (spec.kind == NetworkKind::gru) {
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string sfx = "_l" + std::to_string(l);
      keys.push_back({"gru.weight_ih" + sfx, {3 * h, l == 0 ? f : h}});
      keys.push_back({"gru.weight_hh" + sfx, {3 * h, h}});
      keys.push_back({"gru.bias_ih" + sfx, {3 * h}});
      keys.push_back({"gru.bias_hh" + sfx, {3 * h}});
    }
    keys.push_back({"fc1.weight", {1, h}});
    keys.push_back({"fc1.bias", {1}});
  } else {
    keys.push_back({"attention.W.weight", {h, 2 * h}});
    keys.push_back({"attention.W.bias", {h}});
    keys.push_back({"attention.U.weight", {h, f}});
    keys.push_back({"attention.U.bias", {h}});
    keys.push_back({"attention.V.weight", {f, h}});
    keys.push_back({"attention.V.bias", {f}});
    keys.push_back({"lstm_cell.weight_ih", {4 * h, f}});
    keys.push_back({"lstm_cell.weight_hh", {4 * h, h}});
    keys.push_back({"lstm_cell.bias_ih", {4 * h}});
    keys.push_back({"lstm_cell.bias_hh", {4 * h}});
    keys.push_back({"temporal_attention.weight", {1, h}});
    keys.push_back({"temporal_attention.bias", {1}});
    keys.push_back({"fc1.weight", {1, h}});
    keys.push_back({"fc1.bias", {1}});
  }
  return keys;
}

void validate_spec(const NetworkSpec& spec) {
  const std::string net = "network spec (" + kind_name(spec.kind) + "): ";
  FR_REQUIRE(spec.window >= 1 && spec.window <= 64, net, "window = ", spec.window,
             ", expected 1..64");
  FR_REQUIRE(spec.n_features >= 1 && spec.n_features <= 1024, net, "n_features = ", spec.n_features,
             ", expected 1..1024");
  if (spec.kind == NetworkKind::mlp) {
    FR_REQUIRE(spec.n_dynamic >= 0 && spec.n_dynamic <= spec.n_features, net,
               "n_dynamic = ", spec.n_dynamic, ", expected 0..n_features (", spec.n_features, ")");
    FR_REQUIRE(!spec.hidden_dims.empty() && spec.hidden_dims.size() <= nn::kMaxMlpLayers, net,
               spec.hidden_dims.size(), " hidden layers, expected 1..", nn::kMaxMlpLayers);
    for (int d : spec.hidden_dims)
      FR_REQUIRE(d >= 1 && d <= 65536, net, "hidden dim ", d, ", expected 1..65536");
  } else {
    FR_REQUIRE(spec.hidden_dim >= 1 && spec.hidden_dim <= 65536, net,
               "hidden_dim = ", spec.hidden_dim, ", expected 1..65536");
  }
  if (spec.kind == NetworkKind::lstm || spec.kind == NetworkKind::gru)
    FR_REQUIRE(spec.num_layers >= 1 && spec.num_layers <= nn::kMaxLstmLayers, net,
               "num_layers = ", spec.num_layers, ", expected 1..", nn::kMaxLstmLayers);
}

// Appends `count` zeros, 64-byte aligned, and returns where they start.
std::int64_t append(std::vector<float>& packed, std::size_t count) {
  const std::size_t at =
      (packed.size() + nn::kAlignFloats - 1) / nn::kAlignFloats * nn::kAlignFloats;
  packed.resize(at + count, 0.0f);
  return static_cast<std::int64_t>(at);
}

// One LSTM layer's gates in the kernels' order (nn_lstm.hpp): rows of a
// block = gate r/2 of unit 2*block + r%2; k over [W_ih (in_real of in_dim
// columns), W_hh (h of hp)].
void pack_gates(std::vector<float>& packed, const Tensor& wih, const Tensor& whh, const Tensor& bih,
                const Tensor& bhh, int h, int hp, int in_real, int in_dim, std::int64_t& weight_at,
                std::int64_t& bias_at) {
  const std::size_t k_total = u(in_dim + hp);
  weight_at = append(packed, u(hp / nn::kUnitsPerRowBlock) * k_total * nn::kRowBlock);
  bias_at = append(packed, u(4 * hp));
  for (int unit = 0; unit < h; ++unit)
    for (int g = 0; g < 4; ++g) {
      const std::size_t row = u(g * h + unit);
      const int rb = unit / nn::kUnitsPerRowBlock;
      const int r = g * nn::kUnitsPerRowBlock + unit % nn::kUnitsPerRowBlock;
      float* base = packed.data() + weight_at + u(rb) * k_total * nn::kRowBlock + r;
      for (int k = 0; k < in_real; ++k)
        base[u(k) * nn::kRowBlock] = wih.values[row * u(in_real) + u(k)];
      for (int k = 0; k < h; ++k)
        base[u(in_dim + k) * nn::kRowBlock] = whh.values[row * u(h) + u(k)];
      packed[u(bias_at) + u(rb * nn::kRowBlock + r)] = bih.values[row] + bhh.values[row];
    }
}

// One GRU layer in the kernels' order (nn_gru.hpp): rows of a block = part
// r/U (r, z, n input, n recurrent) of unit U*block + r%U; k over [W_ih
// (in_real of in_dim columns), W_hh (h of hp)]. PyTorch's gates are r, z, n.
void pack_gru_gates(std::vector<float>& packed, const Tensor& wih, const Tensor& whh,
                    const Tensor& bih, const Tensor& bhh, int h, int hp, int in_real, int in_dim,
                    std::int64_t& weight_at, std::int64_t& bias_at) {
  constexpr int U = nn::kGruUnitsPerRowBlock;
  const std::size_t k_total = u(in_dim + hp);
  weight_at = append(packed, u(hp / U) * k_total * nn::kRowBlock);
  bias_at = append(packed, u(4 * hp));
  for (int unit = 0; unit < h; ++unit)
    for (int part = 0; part < 4; ++part) {
      const std::size_t row = u(std::min(part, 2) * h + unit);  // both n parts: gate n
      const int rb = unit / U, r = part * U + unit % U;
      float* base = packed.data() + weight_at + u(rb) * k_total * nn::kRowBlock + r;
      if (part != 3)
        for (int k = 0; k < in_real; ++k)
          base[u(k) * nn::kRowBlock] = wih.values[row * u(in_real) + u(k)];
      if (part != 2)
        for (int k = 0; k < h; ++k)
          base[u(in_dim + k) * nn::kRowBlock] = whh.values[row * u(h) + u(k)];
      const float b = part < 2 ? bih.values[row] + bhh.values[row]
                               : (part == 2 ? bih.values[row] : bhh.values[row]);
      packed[u(bias_at) + u(rb * nn::kRowBlock + r)] = b;
    }
}

// A vector of `n` values padded with zeros to `padded`; returns its offset.
std::int64_t pack_vector(std::vector<float>& packed, const Tensor& t, int padded) {
  const std::int64_t at = append(packed, u(padded));
  std::copy(t.values.begin(), t.values.end(), packed.begin() + at);
  return at;
}

template <class Functor>
void launch(const char* name, const Functor& functor, std::size_t scratch_bytes) {
  Kokkos::TeamPolicy<NnInference::ExecSpace> policy(static_cast<int>(functor.blocks()), 1);
  policy.set_scratch_size(1, Kokkos::PerTeam(scratch_bytes));
  Kokkos::parallel_for(name, policy, functor);
}

}  // namespace

void NnInference::validate(const NetworkSpec& spec, const StateDict& weights) {
  validate_spec(spec);
  for (const auto& [key, shape] : expected_keys(spec)) {
    const auto it = weights.find(key);
    FR_REQUIRE(it != weights.end(), kind_name(spec.kind), " state dict: missing key '", key,
               "' (expected shape ", shape_text(shape), ")");
    FR_REQUIRE(it->second.shape == shape, kind_name(spec.kind), " state dict: key '", key,
               "' has shape ", shape_text(it->second.shape), ", expected ", shape_text(shape));
    std::size_t count = 1;
    for (std::size_t d : shape) count *= d;
    FR_REQUIRE(it->second.values.size() == count, kind_name(spec.kind), " state dict: key '", key,
               "' holds ", it->second.values.size(), " values, its shape ", shape_text(shape),
               " needs ", count);
  }
}

NnInference::NnInference(const NetworkSpec& spec, const StateDict& weights, std::size_t batch)
    : spec_(spec), batch_(std::max<std::size_t>(batch, nn::kBlockPoints)) {
  validate(spec, weights);
  auto w = [&](const std::string& key) -> const Tensor& { return weights.at(key); };
  std::vector<float> packed;
  const int f = spec.n_features, h = spec.hidden_dim;
  const int hp = nn::round_up(h, nn::kRowBlock);
  if (spec.kind == NetworkKind::mlp) {
    mlp_.steps = spec.window;
    mlp_.features = f;
    mlp_.dynamic = spec.n_dynamic;
    mlp_.in_dim = spec.window * spec.n_dynamic + f - spec.n_dynamic;
    mlp_.n_hidden = static_cast<int>(spec.hidden_dims.size());
    int in_real = mlp_.in_dim, in_dim = mlp_.in_dim;
    for (int l = 0; l < mlp_.n_hidden; ++l) {
      const std::string name = "layers." + std::to_string(l);
      const int out = spec.hidden_dims[u(l)], rows = nn::round_up(out, nn::kRowBlock);
      mlp_.rows[l] = rows;
      mlp_.weight_at[l] = append(packed, u(rows) * u(in_dim));
      const Tensor& wl = w(name + ".weight");
      for (int j = 0; j < out; ++j)
        for (int k = 0; k < in_real; ++k)
          packed[u(mlp_.weight_at[l]) + (u(j / nn::kRowBlock) * u(in_dim) + u(k)) * nn::kRowBlock +
                 u(j % nn::kRowBlock)] = wl.values[u(j) * u(in_real) + u(k)];
      mlp_.bias_at[l] = pack_vector(packed, w(name + ".bias"), rows);
      in_real = out;
      in_dim = rows;
    }
    mlp_.weight_at[mlp_.n_hidden] = pack_vector(packed, w("output_layer.weight"), in_dim);
    mlp_.bias_at[mlp_.n_hidden] = pack_vector(packed, w("output_layer.bias"), 1);
  } else if (spec.kind == NetworkKind::lstm) {
    lstm_.steps = spec.window;
    lstm_.features = f;
    lstm_.hidden = hp;
    lstm_.n_layers = spec.num_layers;
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string sfx = "_l" + std::to_string(l);
      lstm_.in_dim[l] = l == 0 ? f : hp;
      pack_gates(packed, w("lstm.weight_ih" + sfx), w("lstm.weight_hh" + sfx),
                 w("lstm.bias_ih" + sfx), w("lstm.bias_hh" + sfx), h, hp, l == 0 ? f : h,
                 lstm_.in_dim[l], lstm_.weight_at[l], lstm_.bias_at[l]);
    }
    lstm_.head_weight_at = pack_vector(packed, w("fc1.weight"), hp);
    lstm_.head_bias_at = pack_vector(packed, w("fc1.bias"), 1);
  } else if (spec.kind == NetworkKind::gru) {
    gru_.steps = spec.window;
    gru_.features = f;
    gru_.hidden = hp;
    gru_.n_layers = spec.num_layers;
    for (int l = 0; l < spec.num_layers; ++l) {
      const std::string sfx = "_l" + std::to_string(l);
      gru_.in_dim[l] = l == 0 ? f : hp;
      pack_gru_gates(packed, w("gru.weight_ih" + sfx), w("gru.weight_hh" + sfx),
                     w("gru.bias_ih" + sfx), w("gru.bias_hh" + sfx), h, hp, l == 0 ? f : h,
                     gru_.in_dim[l], gru_.weight_at[l], gru_.bias_at[l]);
    }
    gru_.head_weight_at = pack_vector(packed, w("fc1.weight"), hp);
    gru_.head_bias_at = pack_vector(packed, w("fc1.bias"), 1);
  } else {
    auto& a = attention_;
    a.steps = spec.window;
    a.features = f;
    a.hidden = hp;
    a.score_rows = nn::round_up(f, nn::kRowBlock);
    const std::size_t k_attention = u(f + 2 * hp);
    a.attention_weight_at = append(packed, u(hp) * k_attention);
    a.attention_bias_at = append(packed, u(hp));
    const Tensor &ww = w("attention.W.weight"), &uw = w("attention.U.weight");
    for (int j = 0; j < h; ++j) {
      float* base = packed.data() + a.attention_weight_at +
                    u(j / nn::kRowBlock) * k_attention * nn::kRowBlock + j % nn::kRowBlock;
      for (int k = 0; k < f; ++k) base[u(k) * nn::kRowBlock] = uw.values[u(j * f + k)];
      for (int k = 0; k < h; ++k) {
        base[u(f + k) * nn::kRowBlock] = ww.values[u(j) * u(2 * h) + u(k)];
        base[u(f + hp + k) * nn::kRowBlock] = ww.values[u(j) * u(2 * h) + u(h + k)];
      }
      packed[u(a.attention_bias_at + j)] =
          w("attention.W.bias").values[u(j)] + w("attention.U.bias").values[u(j)];
    }
    a.score_weight_at = append(packed, u(a.score_rows) * u(hp));
    const Tensor& vw = w("attention.V.weight");
    for (int j = 0; j < f; ++j)
      for (int k = 0; k < h; ++k)
        packed[u(a.score_weight_at) + (u(j / nn::kRowBlock) * u(hp) + u(k)) * nn::kRowBlock +
               u(j % nn::kRowBlock)] = vw.values[u(j * h + k)];
    a.score_bias_at = pack_vector(packed, w("attention.V.bias"), a.score_rows);
    pack_gates(packed, w("lstm_cell.weight_ih"), w("lstm_cell.weight_hh"), w("lstm_cell.bias_ih"),
               w("lstm_cell.bias_hh"), h, hp, f, f, a.cell_weight_at, a.cell_bias_at);
    a.temporal_weight_at = pack_vector(packed, w("temporal_attention.weight"), hp);
    a.temporal_bias_at = pack_vector(packed, w("temporal_attention.bias"), 1);
    a.head_weight_at = pack_vector(packed, w("fc1.weight"), hp);
    a.head_bias_at = pack_vector(packed, w("fc1.bias"), 1);
  }
  params_ =
      DeviceFloats(Kokkos::ViewAllocateWithoutInitializing("fluxrecon::nn_params"), packed.size());
  Kokkos::deep_copy(params_,
                    Kokkos::View<const float*, Kokkos::HostSpace>(packed.data(), packed.size()));
}

double NnInference::flops_per_sample() const {
  const double t = spec_.window, f = spec_.n_features, h = spec_.hidden_dim;
  double macs = 0;
  if (spec_.kind == NetworkKind::mlp) {
    double in = t * spec_.n_dynamic + f - spec_.n_dynamic;
    for (int d : spec_.hidden_dims) {
      macs += in * d;
      in = d;
    }
    macs += in;
  } else if (spec_.kind == NetworkKind::lstm) {
    for (int l = 0; l < spec_.num_layers; ++l)
      macs += t * 4 * h * (l == 0 ? f : h) + (t - 1) * 4 * h * h;  // no W_hh h at step 0
    macs += h;
  } else if (spec_.kind == NetworkKind::gru) {
    // The model's products; the kernel's zero blocks of the split n gate not counted.
    for (int l = 0; l < spec_.num_layers; ++l)
      macs += t * 3 * h * (l == 0 ? f : h) + (t - 1) * 3 * h * h;  // no W_hh h at step 0
    macs += h;
  } else {
    macs += t * h * f + (t - 1) * h * 2 * h;  // U x_t; W [h; c] from step 1 on
    macs += t * f * h;                        // V
    macs += t * 4 * h * f + (t - 1) * 4 * h * h;
    macs += 2 * t * h;  // temporal attention and fc1 at every step
  }
  return 2 * macs;
}

void NnInference::predict_device(ConstDeviceFloats windows, DeviceFloats out, DeviceFloats alpha,
                                 DeviceFloats beta) const {
  const auto n = static_cast<std::int64_t>(out.extent(0));
  const std::int64_t per_sample = std::int64_t(spec_.window) * spec_.n_features;
  FR_REQUIRE(static_cast<std::int64_t>(windows.extent(0)) == n * per_sample,
             "NnInference::predict_device: ", windows.extent(0), " window values for ", n,
             " outputs, expected ", n * per_sample);
  FR_REQUIRE(alpha.extent(0) == 0 || static_cast<std::int64_t>(alpha.extent(0)) == n * per_sample,
             "NnInference::predict_device: alpha has ", alpha.extent(0), " values, expected ",
             n * per_sample);
  FR_REQUIRE(beta.extent(0) == 0 || static_cast<std::int64_t>(beta.extent(0)) == n * spec_.window,
             "NnInference::predict_device: beta has ", beta.extent(0), " values, expected ",
             n * spec_.window);
  FR_REQUIRE(
      spec_.kind == NetworkKind::attention_lstm || (alpha.extent(0) == 0 && beta.extent(0) == 0),
      "NnInference: attention weights exist only for attention_lstm, not ", kind_name(spec_.kind));
  // League sizes are int: launch at most 2^24 blocks at a time.
  const std::int64_t chunk = std::int64_t(nn::kBlockPoints) << 24;
  for (std::int64_t first = 0; first < n; first += chunk) {
    const std::int64_t m = std::min(chunk, n - first);
    const auto range = [&](std::int64_t width) {
      return std::make_pair(first * width, (first + m) * width);
    };
    auto win = Kokkos::subview(windows, range(per_sample));
    auto y = Kokkos::subview(out, range(1));
    if (spec_.kind == NetworkKind::mlp) {
      nn::MlpForward<ExecSpace> k{win, y, params_, mlp_, m};
      launch("fluxrecon::nn::mlp_forward", k, mlp_.scratch_bytes());
    } else if (spec_.kind == NetworkKind::lstm) {
      nn::LstmForward<ExecSpace> k{win, y, params_, lstm_, m};
      launch("fluxrecon::nn::lstm_forward", k, lstm_.scratch_bytes());
    } else if (spec_.kind == NetworkKind::gru) {
      nn::GruForward<ExecSpace> k{win, y, params_, gru_, m};
      launch("fluxrecon::nn::gru_forward", k, gru_.scratch_bytes());
    } else {
      DeviceFloats a = alpha.extent(0) ? DeviceFloats(Kokkos::subview(alpha, range(per_sample)))
                                       : DeviceFloats();
      DeviceFloats b = beta.extent(0) ? DeviceFloats(Kokkos::subview(beta, range(spec_.window)))
                                      : DeviceFloats();
      nn::AttentionLstmForward<ExecSpace> k{win, y, a, b, params_, attention_, m};
      launch("fluxrecon::nn::attention_lstm_forward", k, attention_.scratch_bytes());
    }
  }
}

void NnInference::predict(const float* windows, std::size_t n, float* out) const {
  run(windows, n, out, nullptr, nullptr);
}

void NnInference::predict_with_attention(const float* windows, std::size_t n, float* out,
                                         float* alpha, float* beta) const {
  FR_REQUIRE(spec_.kind == NetworkKind::attention_lstm,
             "NnInference: attention weights exist only for attention_lstm, not ",
             kind_name(spec_.kind));
  FR_REQUIRE(alpha != nullptr && beta != nullptr,
             "NnInference::predict_with_attention: alpha and beta must not be null");
  run(windows, n, out, alpha, beta);
}

void NnInference::run(const float* windows, std::size_t n, float* out, float* alpha,
                      float* beta) const {
  if (n == 0) return;
  const std::size_t per_sample = u(spec_.window) * u(spec_.n_features);
  const std::size_t steps = u(spec_.window);
  using HostFloats = Kokkos::View<float*, Kokkos::HostSpace>;
  if constexpr (Kokkos::SpaceAccessibility<ExecSpace, Kokkos::HostSpace>::accessible) {
    // The kernels read and write the caller's memory directly.
    predict_device(ConstDeviceFloats(windows, n * per_sample), DeviceFloats(out, n),
                   alpha ? DeviceFloats(alpha, n * per_sample) : DeviceFloats(),
                   beta ? DeviceFloats(beta, n * steps) : DeviceFloats());
    Kokkos::fence();
    return;
  }
  const std::size_t batch = std::min(batch_, n);
  DeviceFloats win(Kokkos::ViewAllocateWithoutInitializing("fluxrecon::nn_windows"),
                   batch * per_sample);
  DeviceFloats y(Kokkos::ViewAllocateWithoutInitializing("fluxrecon::nn_out"), batch);
  DeviceFloats a, b;
  if (alpha) {
    a = DeviceFloats(Kokkos::ViewAllocateWithoutInitializing("fluxrecon::nn_alpha"),
                     batch * per_sample);
    b = DeviceFloats(Kokkos::ViewAllocateWithoutInitializing("fluxrecon::nn_beta"), batch * steps);
  }
  for (std::size_t first = 0; first < n; first += batch) {
    const std::size_t m = std::min(batch, n - first);
    const auto head = [](const DeviceFloats& v, std::size_t count) -> DeviceFloats {
      return Kokkos::subview(v, std::make_pair(std::size_t(0), count));
    };
    Kokkos::deep_copy(head(win, m * per_sample),
                      HostFloats(const_cast<float*>(windows) + first * per_sample, m * per_sample));
    predict_device(head(win, m * per_sample), head(y, m), alpha ? head(a, m * per_sample) : a,
                   beta ? head(b, m * steps) : b);
    Kokkos::deep_copy(HostFloats(out + first, m), head(y, m));
    if (alpha) {
      Kokkos::deep_copy(HostFloats(alpha + first * per_sample, m * per_sample),
                        head(a, m * per_sample));
      Kokkos::deep_copy(HostFloats(beta + first * steps, m * steps), head(b, m * steps));
    }
  }
}

}  // namespace fluxrecon::models
