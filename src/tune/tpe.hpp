// Samplers and the pruner of `fluxrecon tune`.
//
// TpeSampler follows Optuna 3's TPESampler with its defaults (univariate):
// random start-up trials, then per parameter a good/bad split of the finished
// trials by gamma(n), one Parzen estimator (truncated Gaussians with a prior
// and clipped bandwidths, or smoothed categorical frequencies) over each group,
// and of n_ei_candidates draws from the good one the candidate with the largest
// log l(x) - log g(x). A conditional parameter's estimators are built from the
// trials where it was active only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "tune/search_space.hpp"
#include "tune/trial.hpp"

namespace fluxrecon::tune {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Parameters of the next trial, given every trial of the study so far (any
  // state; running and failed ones are ignored). Only active parameters are set.
  virtual ParamSet sample(const SearchSpace& space, const std::vector<Trial>& history) = 0;
};

// Optuna's default_gamma: min(ceil(0.1 n), 25) trials form the good group.
int default_gamma(int n);
// Optuna's default_weights: 1 for the newest 25 observations, a linear ramp
// from 1/n up to 1 for the older ones (oldest first).
std::vector<double> default_weights(int n);

// Uniform draws: log-uniform for log parameters, uniform over the step grid.
class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(std::uint64_t seed) : rng_(seed) {}
  ParamSet sample(const SearchSpace& space, const std::vector<Trial>& history) override;
  double sample_param(const Param& p);

 private:
  std::mt19937_64 rng_;
};

struct TpeOptions {
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  double prior_weight = 1.0;
  bool consider_prior = true;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  Direction direction = Direction::minimize;
  std::function<int(int)> gamma = default_gamma;
  std::function<std::vector<double>(int)> weights = default_weights;
  // Optuna 3.1 to 3.4 leave -log(sigma) out of each truncated Gaussian's log
  // density (optuna/optuna#5109, fixed in 3.5), which favours wide components
  // such as the prior and so explores more. false (default) does the same, the
  // anchor's behaviour and the better one on tools/bench-tune.sh; true uses
  // the normalised density of Optuna >= 3.5.
  bool normalized_density = false;
};

class TpeSampler : public Sampler {
 public:
  explicit TpeSampler(std::uint64_t seed, TpeOptions options = {});
  ParamSet sample(const SearchSpace& space, const std::vector<Trial>& history) override;
  const TpeOptions& options() const { return options_; }

 private:
  double sample_param(const Param& p, const std::vector<const Trial*>& below,
                      const std::vector<const Trial*>& above);
  TpeOptions options_;
  std::mt19937_64 rng_;
  RandomSampler startup_;
};

// Runs `n_trials` trials one after another on `objective` (returning the
// value to minimise or maximise), appending them to `trials` (tests, benchmarks).
void optimize(const SearchSpace& space, Sampler& sampler,
              const std::function<double(const ParamSet&)>& objective, int n_trials,
              std::vector<Trial>& trials);

// The sampler a study's settings name (tpe or random), seeded from them.
std::unique_ptr<Sampler> make_sampler(const StudySettings& study);

struct MedianPrunerOptions {
  int n_startup_trials = 5;  // no pruning before this many complete trials
  int n_warmup_steps = 0;    // no pruning before this step
  int interval_steps = 1;    // check at warm-up + k * interval
  int n_min_trials = 1;      // complete trials with a value at the step, at least
  Direction direction = Direction::minimize;
};

// Optuna's MedianPruner: prune when the trial's best intermediate value so far
// is worse than the median of the complete trials' values at its last step.
class MedianPruner {
 public:
  explicit MedianPruner(MedianPrunerOptions options = {}) : options_(options) {}
  bool should_prune(const Trial& trial, const std::vector<Trial>& history) const;
  const MedianPrunerOptions& options() const { return options_; }

 private:
  MedianPrunerOptions options_;
};

namespace detail {
// Truncated standard normal on [a, b]: log of the mass, the quantile function
// and the log density; exposed for tests.
double log_gauss_mass(double a, double b);
double truncnorm_ppf(double q, double a, double b);
double truncnorm_logpdf(double x, double a, double b, double loc, double scale);
// A uniform double in [0, 1) from 53 random bits (the same on every compiler,
// unlike std::uniform_real_distribution).
double uniform01(std::mt19937_64& rng);
}  // namespace detail

}  // namespace fluxrecon::tune
