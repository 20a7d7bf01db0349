#include "models/parameters.hpp"

#include <algorithm>
#include <random>

#include "core/error.hpp"

namespace fluxrecon::models {

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

std::size_t ParameterSet::add(const std::string& name, std::vector<std::size_t> shape,
                              float init_bound) {
  for (const auto& e : entries_) FR_REQUIRE(e.name != name, "parameter ", name, " added twice");
  Entry e;
  e.name = name;
  e.count = 1;
  for (auto d : shape) e.count *= d;
  e.shape = std::move(shape);
  e.offset = values_.size();
  e.bound = init_bound;
  values_.resize(values_.size() + e.count, 0.0f);
  grads_.resize(values_.size() + kGradTail, 0.0f);
  entries_.push_back(std::move(e));
  return entries_.size() - 1;
}

void ParameterSet::zero_grads() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void ParameterSet::initialise(std::uint64_t seed) {
  // One generator, parameters in registration order: the same seed gives the
  // same network on every rank and every machine with this libstdc++.
  std::mt19937_64 rng(seed);
  for (const auto& e : entries_) {
    std::uniform_real_distribution<float> u(-e.bound, e.bound);
    float* v = values_.data() + e.offset;
    for (std::size_t i = 0; i < e.count; ++i) v[i] = u(rng);
  }
  touch();
}

StateDict ParameterSet::state_dict() const {
  StateDict dict;
  for (const auto& e : entries_) {
    Tensor t;
    t.shape = e.shape;
    t.values.assign(values_.begin() + static_cast<std::ptrdiff_t>(e.offset),
                    values_.begin() + static_cast<std::ptrdiff_t>(e.offset + e.count));
    dict.emplace(e.name, std::move(t));
  }
  return dict;
}

void ParameterSet::load(const StateDict& dict, const std::string& origin,
                        const std::vector<std::string>& ignored_prefixes) {
  for (const auto& entry : dict) {
    const std::string& name = entry.first;  // not a structured binding: lambdas capture it
    bool known = std::any_of(entries_.begin(), entries_.end(),
                             [&](const Entry& e) { return e.name == name; });
    bool ignored = std::any_of(ignored_prefixes.begin(), ignored_prefixes.end(),
                               [&](const std::string& p) { return name.rfind(p, 0) == 0; });
    FR_REQUIRE(known || ignored, origin, ": unexpected weight '", name,
               "' for this architecture (check the model kind and its hyperparameters)");
  }
  for (const auto& e : entries_) {
    auto it = dict.find(e.name);
    FR_REQUIRE(it != dict.end(), origin, ": weight '", e.name, "' is missing (expected shape ",
               shape_text(e.shape), ")");
    FR_REQUIRE(it->second.shape == e.shape, origin, ": weight '", e.name, "' has shape ",
               shape_text(it->second.shape), ", expected ", shape_text(e.shape));
    FR_REQUIRE(it->second.values.size() == e.count, origin, ": weight '", e.name, "' holds ",
               it->second.values.size(), " values, expected ", e.count);
    std::copy(it->second.values.begin(), it->second.values.end(),
              values_.begin() + static_cast<std::ptrdiff_t>(e.offset));
  }
  touch();
}

}  // namespace fluxrecon::models
