#include "explain/shapley.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "kernels/explain.hpp"

namespace fluxrecon::explain {
namespace {

using Mask = std::vector<unsigned char>;

double binomial(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// The coalitions and their kernel weights (SHAP paper, section 4.1).
struct Design {
  std::vector<Mask> masks;
  std::vector<double> weights;
  bool exact = false;
};

// Every subset of `size` of m players, in lexicographic order, through `add`.
template <class Add>
void for_each_subset(int m, int size, Add add) {
  std::vector<int> idx(static_cast<size_t>(size));
  std::iota(idx.begin(), idx.end(), 0);
  Mask mask(static_cast<size_t>(m));
  while (true) {
    std::fill(mask.begin(), mask.end(), 0);
    for (int i : idx) mask[static_cast<size_t>(i)] = 1;
    add(mask);
    int i = size - 1;
    while (i >= 0 && idx[static_cast<size_t>(i)] == m - size + i) --i;
    if (i < 0) return;
    ++idx[static_cast<size_t>(i)];
    for (int j = i + 1; j < size; ++j)
      idx[static_cast<size_t>(j)] = idx[static_cast<size_t>(j - 1)] + 1;
  }
}

Mask complement(const Mask& m) {
  Mask c(m.size());
  for (size_t i = 0; i < m.size(); ++i) c[i] = m[i] ? 0 : 1;
  return c;
}

Design design(int m, std::int64_t budget, std::uint64_t seed) {
  Design d;
  const double all = m < 62 ? std::ldexp(1.0, m) - 2 : 1e30;
  if (budget <= 0) budget = 2 * m + 2048;
  budget = static_cast<std::int64_t>(std::min<double>(static_cast<double>(budget), all));
  const int sizes = (m - 1 + 1) / 2;  // subset sizes 1..ceil((m-1)/2), with complements
  const int paired = (m - 1) / 2;     // sizes whose complement is another size
  std::vector<double> weight(static_cast<size_t>(sizes) + 1, 0.0);
  for (int s = 1; s <= sizes; ++s)
    weight[static_cast<size_t>(s)] = (m - 1.0) / (s * double(m - s)) * (s <= paired ? 2 : 1);
  const double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  for (double& w : weight) w /= total;

  // Whole sizes while the budget's share of them covers every subset.
  std::vector<double> remaining = weight;
  std::int64_t left = budget;
  int full = 0;
  for (int s = 1; s <= sizes; ++s) {
    const double subsets = binomial(m, s) * (s <= paired ? 2 : 1);
    double rest = 0;
    for (int r = s; r <= sizes; ++r) rest += remaining[static_cast<size_t>(r)];
    if (static_cast<double>(left) * remaining[static_cast<size_t>(s)] / rest < subsets - 1e-8)
      break;
    ++full;
    left -= static_cast<std::int64_t>(subsets);
    const double each = weight[static_cast<size_t>(s)] / subsets;
    for_each_subset(m, s, [&](const Mask& mask) {
      d.masks.push_back(mask);
      d.weights.push_back(each);
      if (s <= paired) {
        d.masks.push_back(complement(mask));
        d.weights.push_back(each);
      }
    });
  }
  d.exact = full == sizes;
  if (d.exact || left <= 0) return d;

  // The other sizes sampled by their kernel weight, each draw with its
  // complement; a coalition drawn again counts again.
  std::vector<double> draw(weight.begin() + full + 1, weight.end());
  for (size_t i = 0; i < draw.size(); ++i)
    if (full + 1 + static_cast<int>(i) <= paired) draw[i] /= 2;
  std::discrete_distribution<int> pick(draw.begin(), draw.end());
  std::mt19937_64 rng(seed);
  std::vector<int> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  std::map<Mask, size_t> seen;
  const size_t fixed = d.masks.size();
  std::vector<double> counts;
  auto add = [&](const Mask& mask) {
    const auto [it, fresh] = seen.emplace(mask, counts.size());
    if (fresh) {
      d.masks.push_back(mask);
      counts.push_back(1.0);
      --left;
    } else {
      counts[it->second] += 1.0;
    }
  };
  for (std::int64_t tries = 4 * left + 16; left > 0 && tries > 0; --tries) {
    const int s = full + 1 + pick(rng);
    std::shuffle(order.begin(), order.end(), rng);
    Mask mask(static_cast<size_t>(m), 0);
    for (int i = 0; i < s; ++i) mask[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
    add(mask);
    if (s <= paired) add(complement(mask));
  }
  double sampled_weight = 0;
  for (int s = full + 1; s <= sizes; ++s) sampled_weight += weight[static_cast<size_t>(s)];
  const double count_total = std::accumulate(counts.begin(), counts.end(), 0.0);
  for (double c : counts) d.weights.push_back(c * sampled_weight / count_total);
  FR_REQUIRE(d.weights.size() == d.masks.size() && d.masks.size() >= fixed,
             "internal: KernelSHAP design");
  return d;
}

// Solves the symmetric positive (semi-)definite system a x = b in place
// (Cholesky; a tiny ridge when the coalitions leave it singular).
std::vector<double> solve_spd(std::vector<double> a, std::vector<double> b, int n) {
  double trace = 0;
  for (int i = 0; i < n; ++i) trace += a[static_cast<size_t>(i * n + i)];
  const double ridge = 1e-12 * std::max(trace, 1e-300) / std::max(n, 1);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<double> l = a;
    if (attempt == 1)
      for (int i = 0; i < n; ++i) l[static_cast<size_t>(i * n + i)] += ridge * 1e6;
    bool ok = true;
    for (int j = 0; j < n && ok; ++j) {
      double s = l[static_cast<size_t>(j * n + j)];
      for (int k = 0; k < j; ++k)
        s -= l[static_cast<size_t>(j * n + k)] * l[static_cast<size_t>(j * n + k)];
      if (!(s > ridge)) {
        ok = false;
        break;
      }
      const double d = std::sqrt(s);
      l[static_cast<size_t>(j * n + j)] = d;
      for (int i = j + 1; i < n; ++i) {
        double t = l[static_cast<size_t>(i * n + j)];
        for (int k = 0; k < j; ++k)
          t -= l[static_cast<size_t>(i * n + k)] * l[static_cast<size_t>(j * n + k)];
        l[static_cast<size_t>(i * n + j)] = t / d;
      }
    }
    if (!ok) continue;
    std::vector<double> x = b;
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < i; ++k)
        x[static_cast<size_t>(i)] -= l[static_cast<size_t>(i * n + k)] * x[static_cast<size_t>(k)];
      x[static_cast<size_t>(i)] /= l[static_cast<size_t>(i * n + i)];
    }
    for (int i = n - 1; i >= 0; --i) {
      for (int k = i + 1; k < n; ++k)
        x[static_cast<size_t>(i)] -= l[static_cast<size_t>(k * n + i)] * x[static_cast<size_t>(k)];
      x[static_cast<size_t>(i)] /= l[static_cast<size_t>(i * n + i)];
    }
    return x;
  }
  FR_FAIL("KernelSHAP: the coalitions do not determine the values (", n + 1,
          " players); raise the number of coalitions");
}

}  // namespace

Background uniform_background(std::vector<float> rows, int cells) {
  FR_REQUIRE(cells > 0 && !rows.empty() && rows.size() % static_cast<size_t>(cells) == 0,
             "explain: a background of ", rows.size(), " values is not whole rows of ", cells);
  Background b;
  const size_t n = rows.size() / static_cast<size_t>(cells);
  b.rows = std::move(rows);
  b.weights.assign(n, 1.0 / static_cast<double>(n));
  return b;
}

Background kmeans_background(const Background& b, int cells, int k, std::uint64_t seed) {
  const std::int64_t n = b.size();
  if (k <= 0 || k >= n) return b;
  const auto c = static_cast<size_t>(cells);
  std::vector<std::int64_t> pick(static_cast<size_t>(n));
  std::iota(pick.begin(), pick.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(pick.begin(), pick.end(), rng);
  std::vector<double> centre(static_cast<size_t>(k) * c);
  for (int j = 0; j < k; ++j)
    for (size_t q = 0; q < c; ++q)
      centre[static_cast<size_t>(j) * c + q] =
          b.rows[static_cast<size_t>(pick[static_cast<size_t>(j)]) * c + q];
  std::vector<int> label(static_cast<size_t>(n), -1);
  std::vector<double> mass(static_cast<size_t>(k));
  for (int iteration = 0; iteration < 100; ++iteration) {
    bool moved = false;
    for (std::int64_t i = 0; i < n; ++i) {
      int best = 0;
      double best_d = INFINITY;
      for (int j = 0; j < k; ++j) {
        double d = 0;
        for (size_t q = 0; q < c; ++q) {
          const double e =
              b.rows[static_cast<size_t>(i) * c + q] - centre[static_cast<size_t>(j) * c + q];
          d += e * e;
        }
        if (d < best_d) {
          best_d = d;
          best = j;
        }
      }
      moved = moved || label[static_cast<size_t>(i)] != best;
      label[static_cast<size_t>(i)] = best;
    }
    std::fill(centre.begin(), centre.end(), 0.0);
    std::fill(mass.begin(), mass.end(), 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto j = static_cast<size_t>(label[static_cast<size_t>(i)]);
      mass[j] += b.weights[static_cast<size_t>(i)];
      for (size_t q = 0; q < c; ++q)
        centre[j * c + q] +=
            b.weights[static_cast<size_t>(i)] * b.rows[static_cast<size_t>(i) * c + q];
    }
    for (int j = 0; j < k; ++j)
      if (mass[static_cast<size_t>(j)] > 0)
        for (size_t q = 0; q < c; ++q)
          centre[static_cast<size_t>(j) * c + q] /= mass[static_cast<size_t>(j)];
    if (!moved) break;
  }
  Background out;
  for (int j = 0; j < k; ++j) {
    if (!(mass[static_cast<size_t>(j)] > 0)) continue;  // an emptied cluster
    for (size_t q = 0; q < c; ++q)
      out.rows.push_back(static_cast<float>(centre[static_cast<size_t>(j) * c + q]));
    out.weights.push_back(mass[static_cast<size_t>(j)]);
  }
  const double total = std::accumulate(out.weights.begin(), out.weights.end(), 0.0);
  for (double& w : out.weights) w /= total;
  return out;
}

Attribution kernel_shap(const float* instance, const Players& players, const Background& background,
                        const BatchPredict& predict, const KernelShapOptions& options) {
  const int m = players.count(), cells = players.cells();
  const std::int64_t nb = background.size();
  FR_REQUIRE(m >= 1 && cells >= 1 && nb >= 1 &&
                 background.rows.size() == static_cast<size_t>(nb) * static_cast<size_t>(cells),
             "explain: ", m, " players over ", cells, " cells with a background of ",
             background.rows.size(), " values in ", nb, " rows");
  for (int o : players.owner)
    FR_REQUIRE(o >= 0 && o < m, "explain: a cell owned by player ", o, " of ", m);
  Attribution a;
  const Design d = m == 1 ? Design{{}, {}, true} : design(m, options.coalitions, options.seed);
  a.exact = d.exact;
  a.coalitions = static_cast<std::int64_t>(d.masks.size());

  // Values of the coalitions: the empty one first, then the design's.
  std::vector<Mask> masks{Mask(static_cast<size_t>(m), 0)};
  masks.insert(masks.end(), d.masks.begin(), d.masks.end());
  const std::int64_t per_call = std::max<std::int64_t>(1, options.max_rows / nb);
  std::vector<double> value(masks.size());
  std::vector<unsigned char> flat_masks;
  std::vector<float> rows, out;
  for (size_t first = 0; first < masks.size(); first += static_cast<size_t>(per_call)) {
    const size_t count = std::min(masks.size() - first, static_cast<size_t>(per_call));
    flat_masks.clear();
    for (size_t c = 0; c < count; ++c)
      flat_masks.insert(flat_masks.end(), masks[first + c].begin(), masks[first + c].end());
    const std::int64_t n = static_cast<std::int64_t>(count) * nb;
    rows.resize(static_cast<size_t>(n) * static_cast<size_t>(cells));
    out.resize(static_cast<size_t>(n));
    Kokkos::parallel_for("fluxrecon::explain::coalition_rows",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n),
                         kernels::CoalitionRows{instance, background.rows.data(), flat_masks.data(),
                                                players.owner.data(), rows.data(), cells, m, nb});
    Kokkos::fence();
    predict(rows.data(), n, out.data());
    a.evaluations += n;
    for (size_t c = 0; c < count; ++c) {
      double v = 0;
      for (std::int64_t b = 0; b < nb; ++b)
        v += background.weights[static_cast<size_t>(b)] *
             out[c * static_cast<size_t>(nb) + static_cast<size_t>(b)];
      value[first + c] = v;
    }
  }
  float fx = 0;
  predict(instance, 1, &fx);
  a.evaluations += 1;
  a.prediction = fx;
  a.expected = value[0];
  const double delta = a.prediction - a.expected;
  if (m == 1) {
    a.values = {delta};
    return a;
  }
  // Efficiency as a constraint: phi_last = delta - sum of the others, so
  // y - z_last delta = sum_j (z_j - z_last) phi_j for j < last.
  const int k = m - 1;
  std::vector<double> ata(static_cast<size_t>(k) * static_cast<size_t>(k), 0.0),
      atb(static_cast<size_t>(k), 0.0), row(static_cast<size_t>(k));
  for (size_t i = 0; i < d.masks.size(); ++i) {
    const Mask& z = d.masks[i];
    const double last = z[static_cast<size_t>(k)];
    const double y = value[i + 1] - a.expected - last * delta;
    for (int j = 0; j < k; ++j) row[static_cast<size_t>(j)] = z[static_cast<size_t>(j)] - last;
    const double w = d.weights[i];
    for (int p = 0; p < k; ++p) {
      if (row[static_cast<size_t>(p)] == 0) continue;
      const double wp = w * row[static_cast<size_t>(p)];
      atb[static_cast<size_t>(p)] += wp * y;
      for (int q = 0; q < k; ++q)
        ata[static_cast<size_t>(p * k + q)] += wp * row[static_cast<size_t>(q)];
    }
  }
  a.values = solve_spd(std::move(ata), std::move(atb), k);
  const double rest = std::accumulate(a.values.begin(), a.values.end(), 0.0);
  a.values.push_back(delta - rest);
  return a;
}

std::vector<double> group_sums(const std::vector<double>& values, const std::vector<int>& group,
                               int groups) {
  FR_REQUIRE(values.size() == group.size(), "explain: ", values.size(), " values for ",
             group.size(), " group labels");
  std::vector<double> out(static_cast<size_t>(groups), 0.0);
  for (size_t i = 0; i < values.size(); ++i)
    if (group[i] >= 0 && group[i] < groups) out[static_cast<size_t>(group[i])] += values[i];
  return out;
}

}  // namespace fluxrecon::explain
