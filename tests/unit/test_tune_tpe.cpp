// TPE and random samplers and the median pruner of `fluxrecon tune`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "tune/tpe.hpp"

using namespace fluxrecon::tune;

namespace {
Param real_param(const std::string& name, double low, double high, bool log = false) {
  Param p;
  p.name = name;
  p.kind = ParamKind::real;
  p.low = low;
  p.high = high;
  p.log = log;
  return p;
}

SearchSpace quadratic_space() {
  return SearchSpace::from_params({real_param("x", -5, 5), real_param("y", -5, 5)});
}

double quadratic(const ParamSet& p) {
  const double x = p.at("x") - 1.3, y = p.at("y") + 2.1;
  return x * x + y * y;
}

double best_value(const std::vector<Trial>& trials) {
  double best = INFINITY;
  for (const auto& t : trials)
    if (t.state == TrialState::complete) best = std::min(best, t.value);
  return best;
}

Trial complete(int number, std::map<int, double> steps, double value) {
  Trial t;
  t.number = number;
  t.state = TrialState::complete;
  t.intermediate = std::move(steps);
  t.value = value;
  return t;
}

MedianPrunerOptions pruner_options(int startup, int warmup, int interval) {
  MedianPrunerOptions o;
  o.n_startup_trials = startup;
  o.n_warmup_steps = warmup;
  o.interval_steps = interval;
  return o;
}

Trial running(std::map<int, double> steps) {
  Trial t;
  t.number = 99;
  t.intermediate = std::move(steps);
  return t;
}
}  // namespace

TEST(TuneTpe, TruncatedNormalHelpers) {
  using namespace fluxrecon::tune::detail;
  // Mass of [-1, 1] of a standard normal, and of a far tail.
  EXPECT_NEAR(std::exp(log_gauss_mass(-1, 1)), 0.6826894921370859, 1e-12);
  EXPECT_NEAR(log_gauss_mass(8, 9), std::log(6.2209605742717e-16 - 1.1285884059538e-19), 1e-6);
  EXPECT_NEAR(log_gauss_mass(-9, -8), log_gauss_mass(8, 9), 1e-12);
  // The quantile function inverts the CDF on the truncated interval.
  for (double q : {0.01, 0.3, 0.5, 0.9}) {
    const double x = truncnorm_ppf(q, -0.5, 2.0);
    EXPECT_NEAR(std::exp(log_gauss_mass(-0.5, x) - log_gauss_mass(-0.5, 2.0)), q, 1e-9);
    EXPECT_GE(x, -0.5);
    EXPECT_LE(x, 2.0);
  }
  EXPECT_NEAR(truncnorm_ppf(0.5, 5, 6), 5.0 + 0.16, 0.05);  // right tail
  // The density integrates to 1 on its interval, loc + scale * [a, b] = [-3, 3].
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = -3 + 6.0 * (i + 0.5) / n;
    sum += std::exp(truncnorm_logpdf(x, -2, 1, 1.0, 2.0)) * 6.0 / n;
  }
  EXPECT_EQ(truncnorm_logpdf(3.5, -2, 1, 1.0, 2.0), -INFINITY);
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(TuneTpe, GammaAndWeightsAreOptunasDefaults) {
  EXPECT_EQ(default_gamma(10), 1);
  EXPECT_EQ(default_gamma(11), 2);
  EXPECT_EQ(default_gamma(100), 10);
  EXPECT_EQ(default_gamma(1000), 25);
  EXPECT_EQ(default_weights(24), std::vector<double>(24, 1.0));
  const auto w = default_weights(35);  // a 10-point ramp, then 25 ones
  ASSERT_EQ(w.size(), 35u);
  EXPECT_DOUBLE_EQ(w[0], 1.0 / 35);
  EXPECT_DOUBLE_EQ(w[9], 1.0);
  EXPECT_LT(w[4], w[5]);
  EXPECT_DOUBLE_EQ(w[10], 1.0);
}

TEST(TuneTpe, SameSeedSameTrialsOtherSeedOtherTrials) {
  const auto space = quadratic_space();
  auto run = [&](std::uint64_t seed) {
    TpeSampler sampler(seed);
    std::vector<Trial> trials;
    optimize(space, sampler, quadratic, 30, trials);
    return trials;
  };
  const auto a = run(7), b = run(7), c = run(8);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].params, b[i].params) << "trial " << i;
    EXPECT_EQ(a[i].value, b[i].value);
  }
  EXPECT_NE(a[15].params, c[15].params);
}

TEST(TuneTpe, StaysInsideBoundsOnGridsAndLogScales) {
  Param n;
  n.name = "n";
  n.kind = ParamKind::integer;
  n.low = 100;
  n.high = 1000;
  n.step = 100;
  Param c;
  c.name = "c";
  c.kind = ParamKind::categorical;
  c.choices = {"a", "b", "c"};
  const auto space = SearchSpace::from_params({real_param("lr", 1e-5, 1e-2, true), n, c});
  TpeSampler sampler(3);
  std::vector<Trial> trials;
  optimize(
      space, sampler,
      [](const ParamSet& p) {
        return std::pow(std::log10(p.at("lr")) + 3, 2) + std::abs(p.at("n") - 300) / 100 +
               (p.at("c") == 1 ? 0 : 1);
      },
      60, trials);
  for (const auto& t : trials) EXPECT_NO_THROW(space.check(t.params));
  // The model has found the optimum's neighbourhood.
  EXPECT_LT(best_value(trials), 0.6);
}

TEST(TuneTpe, BeatsRandomSearchOnAQuadraticWithTheSameBudget) {
  const auto space = quadratic_space();
  const int seeds = 10, budget = 40;
  std::vector<double> tpe, rnd;
  int wins = 0;
  for (int s = 0; s < seeds; ++s) {
    TpeSampler t(static_cast<std::uint64_t>(s));
    RandomSampler r(static_cast<std::uint64_t>(s));
    std::vector<Trial> tt, rt;
    optimize(space, t, quadratic, budget, tt);
    optimize(space, r, quadratic, budget, rt);
    tpe.push_back(best_value(tt));
    rnd.push_back(best_value(rt));
    wins += tpe.back() < rnd.back();
  }
  const double tpe_mean = std::accumulate(tpe.begin(), tpe.end(), 0.0) / seeds;
  const double rnd_mean = std::accumulate(rnd.begin(), rnd.end(), 0.0) / seeds;
  std::printf("quadratic, %d trials, %d seeds: mean best TPE %.4f, random %.4f, TPE better in %d\n",
              budget, seeds, tpe_mean, rnd_mean, wins);
  EXPECT_LT(tpe_mean, 0.5 * rnd_mean) << "TPE " << tpe_mean << " random " << rnd_mean;
  EXPECT_GE(wins, 7) << "TPE better in " << wins << " of " << seeds << " seeds";
}

TEST(TuneTpe, ConditionalParametersOnlyWhenActiveAndModelledFromActiveTrials) {
  const auto space = SearchSpace::from_text(
      "model: lstm\nparameters:\n"
      "  - {name: layers, type: int, low: 1, high: 3}\n"
      "  - {name: dropout, type: float, low: 0, high: 0.5, active_if: {param: layers, min: 2}}\n"
      "  - {name: kind, type: categorical, choices: [a, b, c]}\n"
      "  - {name: y, type: float, low: 0.001, high: 1, log: true,"
      " active_if: {param: kind, in: [b]}}\n"
      "  - {name: z, type: int, low: 0, high: 9, active_if: {param: y, max: 0.1}}\n",
      "cond.yaml");
  auto objective = [](const ParamSet& p) {
    double v = p.at("kind") == 1 ? 0.0 : 1.0;
    if (p.count("dropout")) v += std::abs(p.at("dropout") - 0.2);
    if (p.count("y")) v += std::abs(std::log10(p.at("y")) + 2);
    if (p.count("z")) v += std::abs(p.at("z") - 4) * 0.1;
    return v;
  };
  for (std::uint64_t seed : {1u, 2u}) {
    TpeSampler sampler(seed);
    std::vector<Trial> trials;
    optimize(space, sampler, objective, 80, trials);
    int with_y = 0, with_z = 0;
    for (const auto& t : trials) {
      EXPECT_NO_THROW(space.check(t.params)) << "trial " << t.number;
      EXPECT_EQ(t.params.count("dropout") == 1, t.params.at("layers") >= 2);
      EXPECT_EQ(t.params.count("y") == 1, t.params.at("kind") == 1);
      with_y += t.params.count("y") ? 1 : 0;
      with_z += t.params.count("z") ? 1 : 0;
    }
    // TPE learns that kind b is good, so y is sampled often and z follows.
    EXPECT_GT(with_y, 40);
    EXPECT_GT(with_z, 10);
    EXPECT_LT(best_value(trials), 0.3);
  }
}

TEST(TuneTpe, RandomSamplerCoversTheGridUniformly) {
  Param n;
  n.name = "n";
  n.kind = ParamKind::integer;
  n.low = 1;
  n.high = 4;
  const auto space = SearchSpace::from_params({n, real_param("lr", 1e-4, 1, true)});
  RandomSampler sampler(5);
  std::vector<int> counts(5, 0);
  int below_1e2 = 0;
  const int draws = 8000;
  for (int i = 0; i < draws; ++i) {
    const auto p = sampler.sample(space, {});
    ++counts[static_cast<int>(p.at("n"))];
    below_1e2 += p.at("lr") < 1e-2;
  }
  for (int k = 1; k <= 4; ++k) EXPECT_NEAR(counts[k], draws / 4, draws / 20) << k;
  EXPECT_NEAR(below_1e2, draws / 2, draws / 20);  // log-uniform: half the decades
}

TEST(TuneTpe, PrunedAndFailedTrialsInTheHistory) {
  const auto space = quadratic_space();
  std::vector<Trial> trials;
  RandomSampler r(1);
  for (int i = 0; i < 12; ++i) {
    Trial t;
    t.number = i;
    t.params = r.sample(space, trials);
    t.state = i % 3 == 0   ? TrialState::pruned
              : i % 3 == 1 ? TrialState::failed
                           : TrialState::complete;
    if (t.state == TrialState::pruned) t.intermediate = {{0, quadratic(t.params)}};
    if (t.state == TrialState::complete) t.value = quadratic(t.params);
    trials.push_back(t);
  }
  // 8 finished (complete + pruned) < 10 start-up trials: still random, but valid.
  TpeSampler sampler(4);
  EXPECT_NO_THROW(space.check(sampler.sample(space, trials)));
  optimize(space, sampler, quadratic, 20, trials);
  for (const auto& t : trials) EXPECT_NO_THROW(space.check(t.params));
}

TEST(TuneMedianPruner, DecisionsOnHandMadeHistories) {
  std::vector<Trial> history;
  for (int i = 0; i < 5; ++i)
    history.push_back(complete(i, {{0, 1.0 + i}, {1, 0.5 + i}, {2, 0.2 + i}}, 0.2 + i));
  // Medians: step 0 -> 3.0, step 1 -> 2.5, step 2 -> 2.2.
  MedianPruner pruner(pruner_options(5, 0, 1));
  EXPECT_TRUE(pruner.should_prune(running({{0, 3.5}}), history));
  EXPECT_FALSE(pruner.should_prune(running({{0, 2.9}}), history));
  EXPECT_FALSE(pruner.should_prune(running({{0, 3.0}}), history));  // equal is not worse
  // Best so far counts: 2.0 at step 0 beats step 1's median 2.5 though 4.0 does not.
  EXPECT_FALSE(pruner.should_prune(running({{0, 2.0}, {1, 4.0}}), history));
  EXPECT_TRUE(pruner.should_prune(running({{0, 3.1}, {1, 4.0}}), history));
  // No values: nothing to judge; only NaN values: pruned.
  EXPECT_FALSE(pruner.should_prune(running({}), history));
  EXPECT_TRUE(pruner.should_prune(running({{0, NAN}}), history));
  // No complete trial reported at this step: no decision.
  EXPECT_FALSE(pruner.should_prune(running({{7, 100.0}}), history));

  // Too few complete trials.
  MedianPruner late(pruner_options(6, 0, 1));
  EXPECT_FALSE(late.should_prune(running({{0, 100.0}}), history));
  // Warm-up: steps before 2 are never pruned.
  MedianPruner warm(pruner_options(5, 2, 1));
  EXPECT_FALSE(warm.should_prune(running({{0, 9.0}, {1, 9.0}}), history));
  EXPECT_TRUE(warm.should_prune(running({{0, 9.0}, {1, 9.0}, {2, 9.0}}), history));
  // Interval 2: checks at steps 0 and 2; step 1 comes after the step-0 check.
  MedianPruner every2(pruner_options(5, 0, 2));
  EXPECT_FALSE(every2.should_prune(running({{0, 2.0}, {1, 9.0}}), history));
  EXPECT_TRUE(every2.should_prune(running({{0, 9.0}, {1, 9.0}, {2, 9.0}}), history));
  // A trial that skipped the check step is checked at its next report.
  EXPECT_TRUE(every2.should_prune(running({{1, 9.0}}), history));

  // Maximising: lower than the median is worse.
  MedianPrunerOptions mo = pruner_options(5, 0, 1);
  mo.direction = Direction::maximize;
  MedianPruner maxp(mo);
  EXPECT_TRUE(maxp.should_prune(running({{0, 2.5}}), history));
  EXPECT_FALSE(maxp.should_prune(running({{0, 3.5}}), history));
  // Running, pruned and failed trials are not part of the median.
  auto mixed = history;
  Trial pruned = complete(10, {{0, -100.0}}, NAN);
  pruned.state = TrialState::pruned;
  mixed.push_back(pruned);
  mixed.push_back(running({{0, -100.0}}));
  EXPECT_TRUE(pruner.should_prune(running({{0, 3.5}}), mixed));
}
