#include "tune/tpe.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"

namespace fluxrecon::tune {

namespace detail {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const double kLogSqrt2Pi = 0.5 * std::log(2.0 * M_PI);

double ndtr(double a) {
  // erfc in the tails keeps the small probabilities accurate.
  const double x = a / std::sqrt(2.0);
  if (x < -1.0 / std::sqrt(2.0)) return 0.5 * std::erfc(-x);
  if (x < 1.0 / std::sqrt(2.0)) return 0.5 + 0.5 * std::erf(x);
  return 1.0 - 0.5 * std::erfc(x);
}

double log_ndtr(double a) {
  if (a > 6) return -ndtr(-a);  // log(1 - e) ~ -e
  if (a > -20) return std::log(ndtr(a));
  // Far left tail: the asymptotic series of the Mills ratio.
  const double log_lhs = -0.5 * a * a - std::log(-a) - kLogSqrt2Pi;
  double last = 0.0, rhs = 1.0, numerator = 1.0, denom = 1.0, sign = 1.0;
  const double denom_step = 1.0 / (a * a);
  for (int i = 1; std::abs(last - rhs) > std::numeric_limits<double>::epsilon() && i < 200; ++i) {
    last = rhs;
    sign = -sign;
    denom *= denom_step;
    numerator *= 2.0 * i - 1.0;
    rhs += sign * numerator * denom;
  }
  return log_lhs + std::log(rhs);
}

double log_add_exp(double x, double y) {
  const double m = std::max(x, y);
  if (m == -kInf) return -kInf;
  return m + std::log(std::exp(x - m) + std::exp(y - m));
}

// Inverse of log_ndtr by bisection, robust over the whole range.
double ndtri_exp(double y) {
  double lo = -100.0, hi = 100.0;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (log_ndtr(mid) < y ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}
}  // namespace

double log_gauss_mass(double a, double b) {
  // Work in the left tail, where log_ndtr is accurate.
  if (b <= 0) {
    const double lb = log_ndtr(b), la = log_ndtr(a);
    return lb + std::log1p(-std::exp(la - lb));
  }
  if (a > 0) return log_gauss_mass(-b, -a);
  // Straddling 0: 1 - both tails, without cancellation near 1.
  return std::log1p(-ndtr(a) - ndtr(-b));
}

double truncnorm_ppf(double q, double a, double b) {
  if (q <= 0) return a;
  if (q >= 1) return b;
  const double mass = log_gauss_mass(a, b);
  if (a < 0) return ndtri_exp(log_add_exp(log_ndtr(a), std::log(q) + mass));
  return -ndtri_exp(log_add_exp(log_ndtr(-b), std::log1p(-q) + mass));
}

double truncnorm_logpdf(double x, double a, double b, double loc, double scale) {
  const double z = (x - loc) / scale;
  if (z < a || z > b) return -kInf;
  return -0.5 * z * z - kLogSqrt2Pi - log_gauss_mass(a, b) - std::log(scale);
}

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace detail

using detail::uniform01;

int default_gamma(int n) { return std::min(static_cast<int>(std::ceil(0.1 * n)), 25); }

std::vector<double> default_weights(int n) {
  if (n <= 0) return {};
  if (n < 25) return std::vector<double>(n, 1.0);
  std::vector<double> w(n, 1.0);
  const int ramp = n - 25;
  // numpy.linspace(1/n, 1, ramp): both end points included.
  for (int i = 0; i < ramp; ++i)
    w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (ramp - 1);
  return w;
}

// ---------------------------------------------------------------- random

double RandomSampler::sample_param(const Param& p) {
  const double u = uniform01(rng_);
  if (p.kind == ParamKind::categorical)
    return std::min(std::floor(u * p.choices.size()), p.choices.size() - 1.0);
  // Uniform in the transformed space, where each grid point owns an equal interval.
  const TransformedBounds b = p.transformed_bounds();
  return p.from_transformed(b.low + u * (b.high - b.low));
}

ParamSet RandomSampler::sample(const SearchSpace& space, const std::vector<Trial>&) {
  ParamSet out;
  for (const auto& p : space.params())
    if (space.is_active(p, out)) out[p.name] = sample_param(p);
  return out;
}

// ---------------------------------------------------------------- TPE

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// One mixture over a parameter: the observations' components and the prior.
struct Parzen {
  const Param* param = nullptr;
  std::vector<double> weights;  // normalised mixture weights
  TransformedBounds bounds;
  std::vector<double> mus, sigmas;         // numeric
  std::vector<std::vector<double>> probs;  // categorical, per component
};

Parzen build_parzen(const Param& p, const std::vector<double>& obs, const TpeOptions& o) {
  Parzen pe;
  pe.param = &p;
  const size_t n = obs.size();
  // Without observations the prior alone must carry the mixture.
  const bool prior = o.consider_prior || n == 0;
  std::vector<double> w = o.weights(static_cast<int>(n));
  FR_REQUIRE(w.size() >= n, "TPE weights function returned ", w.size(), " weights for ", n,
             " observations");
  w.resize(n);
  if (prior) w.push_back(o.prior_weight);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  FR_REQUIRE(total > 0, "TPE weights sum to zero");
  for (auto& x : w) x /= total;
  pe.weights = w;

  if (p.kind == ParamKind::categorical) {
    const size_t k = p.choices.size();
    const double fill = o.prior_weight / static_cast<double>(prior ? n + 1 : n);
    pe.probs.assign(n + (prior ? 1 : 0), std::vector<double>(k, fill));
    for (size_t i = 0; i < n; ++i) pe.probs[i][static_cast<size_t>(obs[i])] += 1.0;
    for (auto& row : pe.probs) {
      const double s = std::accumulate(row.begin(), row.end(), 0.0);
      for (auto& x : row) x /= s;
    }
    return pe;
  }

  const TransformedBounds b = p.transformed_bounds();
  pe.bounds = b;
  std::vector<double> mus;
  for (double v : obs) mus.push_back(p.to_transformed(v));
  if (prior) mus.push_back(0.5 * (b.low + b.high));
  const size_t m = mus.size();
  // Bandwidth: the larger gap to a sorted neighbour (the bounds act as
  // neighbours); without consider_endpoints the outermost use the inner gap.
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return mus[i] < mus[j]; });
  std::vector<double> ext(m + 2);
  ext[0] = b.low;
  for (size_t i = 0; i < m; ++i) ext[i + 1] = mus[order[i]];
  ext[m + 1] = b.high;
  std::vector<double> sorted_sigmas(m);
  for (size_t i = 0; i < m; ++i)
    sorted_sigmas[i] = std::max(ext[i + 1] - ext[i], ext[i + 2] - ext[i + 1]);
  if (!o.consider_endpoints && m >= 2) {
    sorted_sigmas[0] = ext[2] - ext[1];
    sorted_sigmas[m - 1] = ext[m] - ext[m - 1];
  }
  std::vector<double> sigmas(m);
  for (size_t i = 0; i < m; ++i) sigmas[order[i]] = sorted_sigmas[i];
  const double range = b.high - b.low;
  const double min_sigma =
      o.consider_magic_clip ? range / std::min(100.0, 1.0 + static_cast<double>(m)) : 1e-12;
  for (auto& s : sigmas) s = std::clamp(s, min_sigma, range);
  if (prior) sigmas[m - 1] = range;
  pe.mus = std::move(mus);
  pe.sigmas = std::move(sigmas);
  return pe;
}

size_t pick(const std::vector<double>& probabilities, double u) {
  double cum = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    cum += probabilities[i];
    if (u < cum) return i;
  }
  return probabilities.size() - 1;  // rounding: cum may end just below 1
}

// n draws (internal values) from the mixture.
std::vector<double> sample_parzen(const Parzen& pe, size_t n, std::mt19937_64& rng) {
  std::vector<size_t> active(n);
  for (auto& a : active) a = pick(pe.weights, uniform01(rng));
  std::vector<double> out(n);
  const Param& p = *pe.param;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = active[i];
    if (p.kind == ParamKind::categorical) {
      out[i] = static_cast<double>(pick(pe.probs[k], uniform01(rng)));
    } else {
      const double mu = pe.mus[k], s = pe.sigmas[k];
      const double a = (pe.bounds.low - mu) / s, b = (pe.bounds.high - mu) / s;
      const double t = detail::truncnorm_ppf(uniform01(rng), a, b) * s + mu;
      out[i] = p.from_transformed(t);
    }
  }
  return out;
}

double log_pdf(const Parzen& pe, double value, bool normalized_density) {
  const Param& p = *pe.param;
  if (p.kind == ParamKind::categorical) {
    const auto idx = static_cast<size_t>(value);
    double sum = 0;
    for (size_t k = 0; k < pe.weights.size(); ++k) sum += pe.weights[k] * pe.probs[k][idx];
    return std::log(sum);
  }
  const double x = p.to_transformed(value);
  const double lo = pe.bounds.low, hi = pe.bounds.high, q = pe.bounds.q;
  std::vector<double> terms(pe.weights.size());
  for (size_t k = 0; k < terms.size(); ++k) {
    const double mu = pe.mus[k], s = pe.sigmas[k];
    const double a = (lo - mu) / s, b = (hi - mu) / s;
    double lp;
    if (q > 0) {
      // A grid point's probability: the mass of its cell of width q.
      const double cell_lo = std::max(x - 0.5 * q, lo), cell_hi = std::min(x + 0.5 * q, hi);
      lp = detail::log_gauss_mass((cell_lo - mu) / s, (cell_hi - mu) / s) -
           detail::log_gauss_mass(a, b);
    } else {
      lp = detail::truncnorm_logpdf(x, a, b, mu, s);
      if (!normalized_density) lp += std::log(s);
    }
    terms[k] = lp + std::log(pe.weights[k]);
  }
  const double m = *std::max_element(terms.begin(), terms.end());
  if (m == -kInf) return -kInf;
  double sum = 0;
  for (double t : terms) sum += std::exp(t - m);
  return m + std::log(sum);
}

// Ranking key of a finished trial (Optuna's): complete trials first by value,
// then pruned ones by how far they got (later step is better), then value.
struct Score {
  double step_key;
  double value;
  bool operator<(const Score& o) const {
    return step_key < o.step_key || (step_key == o.step_key && value < o.value);
  }
};

bool score_of(const Trial& t, double sign, Score& out) {
  if (t.state == TrialState::complete) {
    if (std::isnan(t.value)) return false;
    out = {-kInf, sign * t.value};
    return true;
  }
  if (t.state == TrialState::pruned) {
    if (t.intermediate.empty()) {
      out = {1.0, 0.0};
    } else {
      const auto& [step, v] = *t.intermediate.rbegin();
      out = {-static_cast<double>(step), std::isnan(v) ? kInf : sign * v};
    }
    return true;
  }
  return false;
}
}  // namespace

TpeSampler::TpeSampler(std::uint64_t seed, TpeOptions options)
    : options_(std::move(options)),
      rng_(seed),
      // The start-up draws use their own stream so that the model's draws do
      // not depend on how many start-up parameters there were.
      startup_(seed ^ 0x9e3779b97f4a7c15ULL) {
  FR_REQUIRE(options_.n_ei_candidates >= 1, "TPE: n_ei_candidates must be >= 1");
  FR_REQUIRE(options_.prior_weight > 0, "TPE: prior_weight must be > 0");
}

ParamSet TpeSampler::sample(const SearchSpace& space, const std::vector<Trial>& history) {
  const double sign = options_.direction == Direction::maximize ? -1.0 : 1.0;
  std::vector<const Trial*> finished;
  std::vector<Score> scores;
  for (const auto& t : history) {
    Score s{};
    if (score_of(t, sign, s)) {
      finished.push_back(&t);
      scores.push_back(s);
    }
  }
  const int n = static_cast<int>(finished.size());
  ParamSet out;
  if (n < options_.n_startup_trials) {
    for (const auto& p : space.params())
      if (space.is_active(p, out)) out[p.name] = startup_.sample_param(p);
    return out;
  }
  std::vector<size_t> order(finished.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return scores[i] < scores[j]; });
  const size_t n_below = std::min<size_t>(std::max(options_.gamma(n), 0), order.size());
  std::vector<size_t> below_idx(order.begin(), order.begin() + n_below);
  std::vector<size_t> above_idx(order.begin() + n_below, order.end());
  // Each group in trial order: the weights ramp over age.
  std::sort(below_idx.begin(), below_idx.end());
  std::sort(above_idx.begin(), above_idx.end());
  std::vector<const Trial*> below, above;
  for (size_t i : below_idx) below.push_back(finished[i]);
  for (size_t i : above_idx) above.push_back(finished[i]);

  for (const auto& p : space.params())
    if (space.is_active(p, out)) out[p.name] = sample_param(p, below, above);
  return out;
}

double TpeSampler::sample_param(const Param& p, const std::vector<const Trial*>& below,
                                const std::vector<const Trial*>& above) {
  // Only trials in which the parameter was active describe it.
  auto observed = [&](const std::vector<const Trial*>& group) {
    std::vector<double> v;
    for (const Trial* t : group) {
      const auto it = t->params.find(p.name);
      if (it != t->params.end() && p.contains(it->second)) v.push_back(it->second);
    }
    return v;
  };
  const Parzen l = build_parzen(p, observed(below), options_);
  const Parzen g = build_parzen(p, observed(above), options_);
  const auto candidates = sample_parzen(l, static_cast<size_t>(options_.n_ei_candidates), rng_);
  double best = candidates[0], best_score = -kInf;
  for (double c : candidates) {
    const double score =
        log_pdf(l, c, options_.normalized_density) - log_pdf(g, c, options_.normalized_density);
    // The first maximum wins, as numpy.argmax.
    if (score > best_score) {
      best_score = score;
      best = c;
    }
  }
  return best;
}

void optimize(const SearchSpace& space, Sampler& sampler,
              const std::function<double(const ParamSet&)>& objective, int n_trials,
              std::vector<Trial>& trials) {
  for (int i = 0; i < n_trials; ++i) {
    Trial t;
    t.number = static_cast<int>(trials.size());
    t.params = sampler.sample(space, trials);
    t.value = objective(t.params);
    t.state = std::isnan(t.value) ? TrialState::failed : TrialState::complete;
    trials.push_back(std::move(t));
  }
}

std::unique_ptr<Sampler> make_sampler(const StudySettings& study) {
  if (study.sampler == "random") return std::make_unique<RandomSampler>(study.seed);
  FR_REQUIRE(study.sampler == "tpe", "unknown sampler '", study.sampler,
             "'; expected tpe or random");
  TpeOptions o;
  o.n_startup_trials = study.n_startup_trials;
  o.n_ei_candidates = study.n_ei_candidates;
  o.direction = study.direction;
  return std::make_unique<TpeSampler>(study.seed, o);
}

// ---------------------------------------------------------------- pruner

bool MedianPruner::should_prune(const Trial& trial, const std::vector<Trial>& history) const {
  std::vector<const Trial*> complete;
  for (const auto& t : history)
    if (t.state == TrialState::complete) complete.push_back(&t);
  if (complete.empty() || static_cast<int>(complete.size()) < options_.n_startup_trials)
    return false;
  const auto last = trial.last_step();
  if (!last || *last < options_.n_warmup_steps) return false;
  const int step = *last;
  // Check only at the first report at or after each pruning step
  // (warm-up + k * interval), as Optuna does.
  const int interval = std::max(options_.interval_steps, 1);
  const int pruning_step =
      (step - options_.n_warmup_steps) / interval * interval + options_.n_warmup_steps;
  int previous = -1;
  for (const auto& [s, v] : trial.intermediate)
    if (s != step && s > previous) previous = s;
  if (previous >= pruning_step) return false;

  const bool maximize = options_.direction == Direction::maximize;
  double best = std::nan("");
  for (const auto& [s, v] : trial.intermediate)
    if (!std::isnan(v) && (std::isnan(best) || (maximize ? v > best : v < best))) best = v;
  if (std::isnan(best)) return true;  // only NaN so far: it cannot recover

  std::vector<double> at_step;
  int reported = 0;
  for (const Trial* t : complete) {
    const auto it = t->intermediate.find(step);
    if (it == t->intermediate.end()) continue;
    ++reported;
    if (!std::isnan(it->second)) at_step.push_back(it->second);
  }
  if (reported < options_.n_min_trials || at_step.empty()) return false;
  std::sort(at_step.begin(), at_step.end());
  const size_t k = at_step.size();
  const double median = k % 2 ? at_step[k / 2] : 0.5 * (at_step[k / 2 - 1] + at_step[k / 2]);
  return maximize ? best < median : best > median;
}

}  // namespace fluxrecon::tune
