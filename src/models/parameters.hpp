// The trainable parameters of a network in one flat buffer (and one for their
// gradients), so the optimiser is one loop and the gradient average one
// MPI_Allreduce. Each parameter keeps its PyTorch name and shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "models/network_spec.hpp"

namespace fluxrecon::models {

class ParameterSet {
 public:
  // Registers a parameter drawn from U(-bound, bound) by initialise().
  // Returns its id. Layers keep ids, not pointers: the buffer may move
  // while parameters are still being added.
  std::size_t add(const std::string& name, std::vector<std::size_t> shape, float init_bound);

  float* value(std::size_t id) { return values_.data() + entries_[id].offset; }
  const float* value(std::size_t id) const { return values_.data() + entries_[id].offset; }
  float* grad(std::size_t id) { return grads_.data() + entries_[id].offset; }
  std::size_t size(std::size_t id) const { return entries_[id].count; }
  const std::string& name(std::size_t id) const { return entries_[id].name; }
  std::size_t count() const { return entries_.size(); }

  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }
  // The gradients, then kGradTail spare values (zeroed with them) where the
  // trainer puts its batch statistics, so that one MPI_Allreduce of this
  // buffer needs no copy.
  static constexpr std::size_t kGradTail = 2;
  std::vector<float>& grads() { return grads_; }
  void zero_grads();

  // PyTorch's default initialisation in registration order from `seed`.
  void initialise(std::uint64_t seed);

  StateDict state_dict() const;
  // Loads every registered parameter from `dict` (shapes must match; keys
  // starting with one of `ignored_prefixes` may be present and are skipped;
  // any other unknown key is an error). `origin` names the source in errors.
  void load(const StateDict& dict, const std::string& origin,
            const std::vector<std::string>& ignored_prefixes = {});

  // Bumped whenever the values change (optimiser step, load), so layers
  // know when to re-lay-out their weights for oneDNN.
  std::uint64_t version() const { return version_; }
  void touch() { ++version_; }

 private:
  struct Entry {
    std::string name;
    std::vector<std::size_t> shape;
    std::size_t offset = 0, count = 0;
    float bound = 0.0f;
  };
  std::vector<Entry> entries_;
  std::vector<float> values_, grads_;
  std::uint64_t version_ = 1;
};

std::string shape_text(const std::vector<std::size_t>& shape);

}  // namespace fluxrecon::models
