// Quality of fluxrecon's samplers on standard test functions (tools/bench-tune.sh):
// for each seed, the best value after each checkpoint number of trials, as
// CSV lines "sampler,function,seed,trials,best". The functions are the same
// as in tools/bench_tune.py, which runs Optuna's TPESampler on them.
//
// Usage: bench_tune [--trials 50,100] [--seeds 20] [--samplers tpe,tpe-normalized,random]
//                   [--functions branin,hartmann6,noisy]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tune/tpe.hpp"

using namespace fluxrecon::tune;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

Param real_param(const std::string& name, double low, double high, bool log = false) {
  Param p;
  p.name = name;
  p.kind = ParamKind::real;
  p.low = low;
  p.high = high;
  p.log = log;
  return p;
}

// Branin on [-5, 10] x [0, 15]; minimum 0.397887 at three points.
double branin(const ParamSet& p) {
  const double x1 = p.at("x1"), x2 = p.at("x2");
  const double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
  const double u = x2 - b * x1 * x1 + c * x1 - 6;
  return u * u + 10 * (1 - t) * std::cos(x1) + 10;
}

// Hartmann-6 on [0, 1]^6; minimum -3.32237.
double hartmann6(const ParamSet& p) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      const double d = p.at("x" + std::to_string(j)) - P[i][j];
      inner += A[i][j] * d * d;
    }
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

// A hyper-parameter-like function: a categorical "model", a float, a log-scale
// learning rate, a layer count and a dropout that only exists with more than
// one layer. Noise-free minimum 0 (quadratic, x = 1.3, lr = 1e-3, 3 layers,
// dropout 0.2); observations add N(0, 0.1) noise.
double noisy_true(const ParamSet& p) {
  static const double base[3] = {0.5, 0.0, 1.0};  // linear, quadratic, sine
  const double x = p.at("x") - 1.3, lr = std::log10(p.at("lr")) + 3;
  double v = base[static_cast<int>(p.at("model"))] + 0.5 * x * x + 0.3 * lr * lr;
  const double layers = p.at("layers");
  if (layers > 1) {
    const double d = p.at("dropout") - 0.2;
    v += 5 * d * d + 0.1 * (layers - 3) * (layers - 3);
  } else {
    v += 0.4;
  }
  return v;
}

SearchSpace space_of(const std::string& function) {
  if (function == "branin")
    return SearchSpace::from_params({real_param("x1", -5, 10), real_param("x2", 0, 15)});
  if (function == "hartmann6") {
    std::vector<Param> ps;
    for (int j = 0; j < 6; ++j) ps.push_back(real_param("x" + std::to_string(j), 0, 1));
    return SearchSpace::from_params(ps);
  }
  return SearchSpace::from_text(
      "model: mlp\nparameters:\n"
      "  - {name: model, type: categorical, choices: [linear, quadratic, sine]}\n"
      "  - {name: x, type: float, low: -5, high: 5}\n"
      "  - {name: layers, type: int, low: 1, high: 4}\n"
      "  - {name: dropout, type: categorical, choices: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],"
      " active_if: {param: layers, min: 2}}\n"
      "  - {name: lr, type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n",
      "noisy");
}

// Dropout's internal value is a choice index; the function wants the value.
ParamSet external(const SearchSpace& space, const ParamSet& p) {
  ParamSet out = p;
  const auto it = p.find("dropout");
  if (it != p.end()) out["dropout"] = space.param("dropout").to_external(it->second).get<double>();
  return out;
}

std::unique_ptr<Sampler> sampler_of(const std::string& name, std::uint64_t seed) {
  if (name == "random") return std::make_unique<RandomSampler>(seed);
  TpeOptions o;
  o.normalized_density = name == "tpe-normalized";
  return std::make_unique<TpeSampler>(seed, o);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> checkpoints = {50, 100};
  int seeds = 20;
  std::vector<std::string> samplers = {"tpe", "tpe-normalized", "random"};
  std::vector<std::string> functions = {"branin", "hartmann6", "noisy"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--trials") {
      checkpoints.clear();
      for (const auto& s : split(value)) checkpoints.push_back(std::stoi(s));
    } else if (key == "--seeds") {
      seeds = std::stoi(value);
    } else if (key == "--samplers") {
      samplers = split(value);
    } else if (key == "--functions") {
      functions = split(value);
    } else {
      std::fprintf(stderr, "bench_tune: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  const int budget = *std::max_element(checkpoints.begin(), checkpoints.end());
  for (const auto& function : functions) {
    const SearchSpace space = space_of(function);
    for (const auto& name : samplers) {
      for (int seed = 0; seed < seeds; ++seed) {
        auto sampler = sampler_of(name, static_cast<std::uint64_t>(seed));
        std::mt19937_64 noise_rng(1000003ULL * static_cast<std::uint64_t>(seed) + 17);
        std::normal_distribution<double> noise(0.0, 0.1);
        std::vector<Trial> trials;
        // Reported quality: the noise-free value of the best observed trial.
        double best_seen = INFINITY, best_true = INFINITY;
        for (int n = 1; n <= budget; ++n) {
          double truth = 0, observed = 0;
          optimize(
              space, *sampler,
              [&](const ParamSet& p) {
                const ParamSet x = external(space, p);
                truth = function == "branin"      ? branin(x)
                        : function == "hartmann6" ? hartmann6(x)
                                                  : noisy_true(x);
                observed = function == "noisy" ? truth + noise(noise_rng) : truth;
                return observed;
              },
              1, trials);
          if (observed < best_seen) {
            best_seen = observed;
            best_true = truth;
          }
          if (std::find(checkpoints.begin(), checkpoints.end(), n) != checkpoints.end())
            std::printf("fluxrecon-%s,%s,%d,%d,%.9g\n", name.c_str(), function.c_str(), seed, n,
                        best_true);
        }
      }
    }
  }
  return 0;
}
