// Configuration: every YAML key is declared once, with type, default, bounds
// and a one-line description. Loading validates the whole file before any
// work starts: unknown keys, wrong types and out-of-range values are errors
// that name the file, the key path and what is allowed. The resolved tree
// (defaults filled in) is what the program reads and what it writes next to
// its outputs.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluxrecon::config {

// A custom validator receives the user's node (or the default) and the key
// path for messages, and returns the normalised node; it throws via FR_FAIL.
using Normaliser = std::function<YAML::Node(const YAML::Node& value, const std::string& key_path)>;

class Schema {
 public:
  explicit Schema(std::string description = "") : description_(std::move(description)) {}

  static constexpr double inf = std::numeric_limits<double>::infinity();
  static constexpr long long int_max = std::numeric_limits<long long>::max();
  static constexpr long long int_min = std::numeric_limits<long long>::min();

  // Scalars. A default of std::nullopt makes the key required.
  Schema& flag(const std::string& key, std::optional<bool> default_value, const std::string& doc);
  Schema& integer(const std::string& key, std::optional<long long> default_value, long long min,
                  long long max, const std::string& doc);
  Schema& real(const std::string& key, std::optional<double> default_value, double min, double max,
               const std::string& doc);
  // `allowed` empty: any string.
  Schema& text(const std::string& key, std::optional<std::string> default_value,
               std::vector<std::string> allowed, const std::string& doc);
  // Lists of scalars; `length` 0 means any length >= `min_length`.
  Schema& integers(const std::string& key, std::optional<std::vector<long long>> default_value,
                   long long min, long long max, const std::string& doc, size_t length = 0,
                   size_t min_length = 0);
  Schema& reals(const std::string& key, std::optional<std::vector<double>> default_value,
                double min, double max, const std::string& doc, size_t length = 0,
                size_t min_length = 0);
  Schema& texts(const std::string& key, std::optional<std::vector<std::string>> default_value,
                std::vector<std::string> allowed, const std::string& doc, size_t min_length = 0);
  // A nested block of declared keys. If `required` is false and the block is
  // absent, it is filled with its defaults.
  Schema& section(const std::string& key, Schema keys, const std::string& doc,
                  bool required = false);
  // A block of user-named entries (e.g. experiments: {experiment_1: {...}}),
  // each validated against `entry`. `min_entries` entries at least.
  Schema& map_of(const std::string& key, Schema entry, const std::string& doc,
                 size_t min_entries = 0);
  // A list of blocks (e.g. boxes: [{lat_min: ..}, ..]).
  Schema& list_of(const std::string& key, Schema item, const std::string& doc,
                  std::optional<size_t> default_empty_ok = 0);
  // Anything else: a normaliser decides. `default_value` null = required.
  Schema& custom(const std::string& key, YAML::Node default_value, const std::string& type_name,
                 Normaliser normalise, const std::string& doc);

  const std::string& description() const { return description_; }
  // Declared key names at this level, in declaration order.
  std::vector<std::string> keys() const;

  struct Entry;
  const std::vector<std::shared_ptr<Entry>>& entries() const { return entries_; }

 private:
  Schema& add(std::shared_ptr<Entry> entry);
  std::string description_;
  std::vector<std::shared_ptr<Entry>> entries_;
};

// Validated, resolved configuration. Cheap to copy (shares the YAML tree).
class Config {
 public:
  // Reads and validates `path`; throws fluxrecon::Error naming the file.
  static Config load(const std::string& path, const Schema& schema);
  // Validates an in-memory tree; `origin` names it in messages.
  static Config from_yaml(const YAML::Node& root, const Schema& schema, const std::string& origin);
  static Config from_text(const std::string& yaml_text, const Schema& schema,
                          const std::string& origin);

  // Typed access to a resolved key by dotted path ("sampling.fraction").
  // Throws a programming error if the path was not declared.
  template <class T>
  T get(const std::string& path) const;
  bool has(const std::string& path) const;
  Config sub(const std::string& path) const;
  // Names of the entries of a map_of block, in file order.
  std::vector<std::string> keys(const std::string& path = "") const;
  // Items of a list_of block.
  std::vector<Config> items(const std::string& path) const;

  const YAML::Node& node() const { return root_; }
  const std::string& origin() const { return origin_; }
  // Dotted path of this (sub)config inside its file, "" at the root.
  const std::string& prefix() const { return prefix_; }

  // The resolved tree as YAML text, headed by a comment naming its origin.
  std::string to_yaml() const;

 private:
  Config(YAML::Node root, std::string origin, std::string prefix)
      : root_(std::move(root)), origin_(std::move(origin)), prefix_(std::move(prefix)) {}
  YAML::Node lookup(const std::string& path) const;
  YAML::Node root_;
  std::string origin_;
  std::string prefix_;
};

// Markdown table of every key (path, type, default, bounds, description).
std::string document(const Schema& schema);

}  // namespace fluxrecon::config
